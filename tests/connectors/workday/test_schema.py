"""schema.py is pure: entries in, zeep keyword data out; no network, no database."""

from datetime import date
from decimal import Decimal

import pytest
from lxml import etree

from connectors.entry import AccountingEntry, Dimension, EntryKind, EntryLine, LineRole
from connectors.workday import schema
from connectors.workday.client import envelope, field_from_xpath, parse_fault, tenant_of
from connectors.workday.sandbox.server import xsd

SETTINGS = schema.JournalSettings(company="C100")
CC = Dimension(kind="worktag:Cost_Center_Reference_ID", remote_id="CC100")


def entry(*lines, currency="SAR", kind=EntryKind.EXPENSE) -> AccountingEntry:
    return AccountingEntry(kind=kind, reference="EXPENSICO-e1-v1", date=date(2026, 11, 1), currency=currency,
                           description="Hotel Riyadh", lines=lines)


def simple(amount="115.00", dims=(CC,)) -> AccountingEntry:
    return entry(EntryLine(role=LineRole.EXPENSE, account="Standard/6100", debit=Decimal(amount), dimensions=dims),
                 EntryLine(role=LineRole.PAID_THROUGH, account="Standard/2190", credit=Decimal(amount)))


def test_account_reference_is_two_part():
    assert schema.account_ref("Corporate/6400") == {"ID": [{"_value_1": "6400", "type": "Ledger_Account_ID",
                                                            "parent_id": "Corporate", "parent_type": "Account_Set_ID"}]}
    assert schema.account_ref("6400", "Standard")["ID"][0]["parent_id"] == "Standard"


def test_journal_carries_reference_add_only_and_balanced_lines():
    data = schema.journal_request(simple(), SETTINGS)
    assert data["Add_Only"] is True
    journal = data["Accounting_Journal_Data"]
    assert journal["Accounting_Journal_ID"] == "EXPENSICO-e1-v1" == journal["External_Reference_ID"]
    lines = journal["Journal_Entry_Line_Replacement_Data"]
    assert schema.total(lines, "Debit_Amount") == schema.total(lines, "Credit_Amount") == Decimal("115.00")
    assert all(isinstance(line.get("Debit_Amount", line.get("Credit_Amount")), Decimal) for line in lines)


def test_cost_centre_is_carried_to_the_balancing_line():
    lines = schema.journal_request(simple(), SETTINGS)["Accounting_Journal_Data"]["Journal_Entry_Line_Replacement_Data"]
    for line in lines:
        assert {"_value_1": "CC100", "type": "Cost_Center_Reference_ID"} in [w["ID"][0] for w in line["Worktags_Reference"]]


def test_without_any_cost_centre_the_entry_is_refused_unless_a_default_exists():
    with pytest.raises(schema.UnsupportedEntry) as exc:
        schema.journal_request(simple(dims=()), SETTINGS)
    assert exc.value.field == "dimensions.Cost_Center_Reference_ID"
    data = schema.journal_request(simple(dims=()), schema.JournalSettings(company="C100", default_cost_center="CC900"))
    assert data["Accounting_Journal_Data"]["Journal_Entry_Line_Replacement_Data"][0]["Worktags_Reference"][0]["ID"][0][
        "_value_1"] == "CC900"


def test_plain_dimension_kinds_map_to_worktag_types():
    line = EntryLine(role=LineRole.EXPENSE, account="6100", debit=Decimal(1), dimensions=(
        Dimension(kind="cost_center", remote_id="CC1"), Dimension(kind="project", remote_id="P1"),
        Dimension(kind="region", remote_id="R1"), Dimension(kind="spend_category", remote_id="S1"),
        Dimension(kind="branch", remote_id="")))      # mapped as "don't send": nothing to carry
    assert schema.line_worktags(line) == {"Cost_Center_Reference_ID": "CC1", "Project_ID": "P1",
                                          "Region_Reference_ID": "R1", "Spend_Category_ID": "S1"}


def test_the_expense_category_mapped_as_a_dimension_is_the_spend_category():
    line = EntryLine(role=LineRole.EXPENSE, account="6100", debit=Decimal(1), dimensions=(
        Dimension(kind="cost_center", remote_id="CC1"), Dimension(kind="category", remote_id="SC_TRAVEL")))
    assert schema.line_worktags(line)["Spend_Category_ID"] == "SC_TRAVEL"


@pytest.mark.parametrize("kind", ["branch", "dimension:DEPARTMENT", "worktag:"])
def test_a_dimension_workday_cannot_carry_is_refused_not_dropped(kind):
    line = EntryLine(role=LineRole.EXPENSE, account="6100", debit=Decimal(1), dimensions=(
        Dimension(kind="cost_center", remote_id="CC1"), Dimension(kind=kind, remote_id="B1")))
    with pytest.raises(schema.UnsupportedEntry) as exc:
        schema.line_worktags(line)
    assert exc.value.code == "unsupported_dimension" and exc.value.field == f"dimensions.{kind}"


def test_two_values_of_one_worktag_type_are_refused():
    line = EntryLine(role=LineRole.EXPENSE, account="6100", debit=Decimal(1), dimensions=(
        Dimension(kind="cost_center", remote_id="CC1"), Dimension(kind="worktag:Cost_Center_Reference_ID", remote_id="CC2")))
    with pytest.raises(schema.UnsupportedEntry):
        schema.line_worktags(line)


def test_three_decimal_currency_keeps_its_fils():
    kwd = entry(EntryLine(role=LineRole.EXPENSE, account="6100", debit=Decimal("12.345"), dimensions=(CC,)),
                EntryLine(role=LineRole.PAID_THROUGH, account="2190", credit=Decimal("12.345")), currency="KWD")
    xml = envelope("Submit_Accounting_Journal", schema.journal_request(kwd, schema.JournalSettings(company="C200")))
    assert b"<ns0:Debit_Amount>12.345</ns0:Debit_Amount>" in xml


def test_statement_lines_and_missing_company_are_refused():
    with pytest.raises(schema.UnsupportedEntry):
        schema.journal_request(simple(), schema.JournalSettings(company=""))
    statement = AccountingEntry(kind=EntryKind.STATEMENT_TRANSACTION, reference="R", date=date(2026, 1, 1),
                                currency="SAR", lines=(), amount=Decimal(1), bank_account="b")
    with pytest.raises(schema.UnsupportedEntry):
        schema.journal_request(statement, SETTINGS)


def test_the_envelope_zeep_builds_is_valid_against_the_xsd():
    xml = envelope("Submit_Accounting_Journal", schema.journal_request(simple(), SETTINGS),
                   username="isu@tenant", password="pw")
    doc = etree.fromstring(xml)
    body = doc.find("{http://schemas.xmlsoap.org/soap/envelope/}Body")[0]
    assert xsd().validate(etree.ElementTree(etree.fromstring(etree.tostring(body)))), xsd().error_log
    assert b"isu@tenant" in xml and b"PasswordText" in xml
    assert doc.find(".//{urn:com.workday/bsvc}Submit_Accounting_Journal_Request").get(
        "{urn:com.workday/bsvc}Add_Only") == "true"


def test_fault_parsing_and_field_from_xpath():
    fault = b"""<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body>
     <SOAP-ENV:Fault xmlns:wd="urn:com.workday/bsvc"><faultcode>SOAP-ENV:Client.validationError</faultcode>
     <faultstring>Validation error occurred. Invalid ID value.</faultstring><detail><wd:Validation_Fault>
     <wd:Validation_Error><wd:Message>Invalid ID value.</wd:Message>
     <wd:Xpath>/bsvc:Submit_Accounting_Journal_Request[1]/bsvc:Accounting_Journal_Data[1]/bsvc:Journal_Entry_Line_Replacement_Data[2]/bsvc:Ledger_Account_Reference[1]</wd:Xpath>
     </wd:Validation_Error></wd:Validation_Fault></detail></SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>"""
    parsed = parse_fault(fault)
    assert parsed["kind"] == "Validation_Fault" and parsed["faultcode"] == "SOAP-ENV:Client.validationError"
    assert field_from_xpath(parsed["xpath"]) == "Journal_Entry_Line_Replacement_Data[2].Ledger_Account_Reference"
    assert parse_fault(b"not xml") is None and parse_fault({"errors": []}) is None


def test_tenant_comes_from_the_endpoint():
    assert tenant_of("https://wd2-impl-services1.workday.com/ccx/service/acme_pt1/Financial_Management/v30.0") == "acme_pt1"


def test_bank_transaction_needs_no_cost_centre():
    funding = entry(EntryLine(role=LineRole.BANK, account="Standard/1000", credit=Decimal("500.00")),
                    EntryLine(role=LineRole.COUNTERPART, account="Standard/1390", debit=Decimal("500.00")),
                    kind=EntryKind.LEDGER_BANK_TRANSACTION)
    lines = schema.journal_request(funding, SETTINGS)["Accounting_Journal_Data"]["Journal_Entry_Line_Replacement_Data"]
    assert all(line["Worktags_Reference"] == [] for line in lines)
