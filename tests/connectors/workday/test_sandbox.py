"""The Workday SOAP sandbox over a real socket, spoken to with raw envelopes (no connector)."""

from decimal import Decimal

import requests
from lxml import etree

from connectors.workday import schema
from connectors.workday.client import NS, envelope, parse_fault
from connectors.workday.sandbox import testkit
from connectors.workday.sandbox.server import WorkdaySandbox

USER = f"{testkit.USERNAME}@expensico_sbx"


def post(server, xml: bytes) -> requests.Response:
    return requests.post(server.base_url + server.app.endpoint_path, data=xml, timeout=10,
                         headers={"Content-Type": "text/xml; charset=utf-8"})


def journal(reference="EXPENSICO-s1-v1", debit="50.00", credit="50.00", account="6100", cost_center="CC100",
            submit=True) -> dict:
    data = {"version": "v30.0", "Add_Only": True, "Business_Process_Parameters": {"Auto_Complete": True},
            "Accounting_Journal_Data": {
                "Accounting_Journal_ID": reference, "Submit": submit,
                "Company_Reference": {"ID": [{"_value_1": "C100", "type": "Company_Reference_ID"}]},
                "Currency_Reference": {"ID": [{"_value_1": "SAR", "type": "Currency_ID"}]},
                "Ledger_Type_Reference": {"ID": [{"_value_1": "Actuals", "type": "Ledger_Type_ID"}]},
                "Accounting_Date": "2026-11-01",
                "Journal_Source_Reference": {"ID": [{"_value_1": "Integration", "type": "Journal_Source_ID"}]},
                "Journal_Entry_Line_Replacement_Data": [
                    {"Ledger_Account_Reference": schema.account_ref(f"Standard/{account}"), "Debit_Amount": Decimal(debit),
                     "Worktags_Reference": [{"ID": [{"_value_1": cost_center, "type": "Cost_Center_Reference_ID"}]}]
                     if cost_center else []},
                    {"Ledger_Account_Reference": schema.account_ref("Standard/2100"), "Credit_Amount": Decimal(credit)},
                ]}}
    return data


def submit(server, data, password=testkit.PASSWORD, user=USER):
    return post(server, envelope("Submit_Accounting_Journal", data, username=user, password=password))


def test_wsdl_is_served(workday_server):
    resp = requests.get(workday_server.base_url + workday_server.app.endpoint_path + "?wsdl", timeout=10)
    assert resp.status_code == 200 and b"Submit_Accounting_Journal" in resp.content


def test_bad_password_is_http_500_authentication_fault(workday_server):
    resp = submit(workday_server, journal(), password="wrong")
    fault = parse_fault(resp.content)
    assert resp.status_code == 500 and fault["faultcode"] == "SOAP-ENV:Client.authenticationError"
    assert fault["faultstring"] == "invalid username or password"
    assert submit(workday_server, journal(), user=testkit.USERNAME).status_code == 500, "user@tenant is required"


def test_envelope_that_breaks_the_xsd_is_a_validation_fault(workday_server):
    xml = envelope("Submit_Accounting_Journal", journal(), username=USER, password=testkit.PASSWORD)
    # An element the schema does not have (public "exporters" invent Journal_Lines).
    xml = xml.replace(b"<ns0:Accounting_Date>", b"<ns0:Journal_Lines>x</ns0:Journal_Lines><ns0:Accounting_Date>")
    resp = post(workday_server, xml)
    fault = parse_fault(resp.content)
    assert resp.status_code == 500 and fault["kind"] == "Validation_Fault"
    assert "Journal_Lines" in fault["messages"][0]
    assert not workday_server.app.documents()


def test_submit_then_add_only_duplicate_then_get_journals(workday_server):
    first = submit(workday_server, journal())
    assert first.status_code == 200
    wid = etree.fromstring(first.content).find(".//wd:ID[@wd:type='WID']", NS).text
    assert len(wid) == 32
    again = parse_fault(submit(workday_server, journal()).content)
    assert "documents cannot be resubmitted" in again["messages"][0]
    got = post(workday_server, envelope("Get_Journals", schema.journals_by_reference(["EXPENSICO-s1-v1"]),
                                        username=USER, password=testkit.PASSWORD))
    doc = etree.fromstring(got.content)
    assert doc.findtext(".//wd:Total_Results", namespaces=NS) == "1"
    assert doc.findtext(".//wd:Journal_Status_Reference/wd:ID", namespaces=NS) == "Posted"
    assert workday_server.checker.checked >= 2


def test_business_rules(workday_server):
    cases = {
        "unbalanced": (journal(credit="49.99"), "balanced"),
        "unknown account": (journal(account="9999"), "Ledger_Account_ID"),
        "retired account": (journal(account="6900"), "retired"),
        "cost centre required": (journal(cost_center=None), "Cost_Center_Reference_ID"),
        "unknown worktag": (journal(cost_center="CC999"), "Cost_Center_Reference_ID"),
    }
    for name, (data, text) in cases.items():
        data["Accounting_Journal_Data"]["Accounting_Journal_ID"] = name
        resp = submit(workday_server, data)
        fault = parse_fault(resp.content)
        assert resp.status_code == 500 and text in fault["messages"][0], name
    wrong_currency = journal()
    wrong_currency["Accounting_Journal_Data"]["Currency_Reference"]["ID"][0]["_value_1"] = "KWD"
    assert "default currency" in parse_fault(submit(workday_server, wrong_currency).content)["messages"][0]
    assert not workday_server.app.documents()


def test_draft_cancel_and_posted_cannot_be_canceled(workday_server):
    draft_wid = etree.fromstring(submit(workday_server, journal("D1", submit=False)).content).find(
        ".//wd:ID[@wd:type='WID']", NS).text
    posted_wid = etree.fromstring(submit(workday_server, journal("P1")).content).find(
        ".//wd:ID[@wd:type='WID']", NS).text
    cancel = lambda wid: post(workday_server, envelope("Cancel_Accounting_Journal", schema.journal_action(wid),  # noqa: E731
                                                       username=USER, password=testkit.PASSWORD))
    assert cancel(draft_wid).status_code == 200
    assert workday_server.app.journals[draft_wid]["status"] == "Canceled"
    assert "reverse the journal" in parse_fault(cancel(posted_wid).content)["messages"][0]


def test_fault_switches_apply(workday_server):
    workday_server.app.inject("server_error", count=1, method="POST", status=503)
    assert submit(workday_server, journal("F1")).status_code == 503
    assert submit(workday_server, journal("F1")).status_code == 200


def test_get_journals_by_criteria_pages(workday_server):
    for i in range(5):
        assert submit(workday_server, journal(f"PG{i}")).status_code == 200
    numbers = []
    for page in (1, 2, 3):
        data = {"version": "v30.0", "Request_Criteria": {"Accounting_From_Date": "2026-11-01",
                                                         "Accounting_To_Date": "2026-11-30"},
                "Response_Filter": {"Page": page, "Count": 2}}
        doc = etree.fromstring(post(workday_server, envelope("Get_Journals", data, username=USER,
                                                             password=testkit.PASSWORD)).content)
        assert doc.findtext(".//wd:Total_Results", namespaces=NS) == "5"
        assert doc.findtext(".//wd:Total_Pages", namespaces=NS) == "3"
        numbers += [n.text for n in doc.iterfind(".//wd:Journal_Number", NS)]
    assert numbers == [f"JE-{i:06d}" for i in range(1, 6)]


def test_unknown_references_are_all_listed_in_one_fault(workday_server):
    submit(workday_server, journal("K1"))
    resp = post(workday_server, envelope("Get_Journals", schema.journals_by_reference(["K1", "U1", "U2"]),
                                         username=USER, password=testkit.PASSWORD))
    fault = parse_fault(resp.content)
    assert len(fault["messages"]) == 2 and "'U1'" in fault["messages"][0] and "'U2'" in fault["messages"][1]


def test_snapshot_survives_a_restart(workday_server, tmp_path):
    submit(workday_server, journal("S1"))
    path = str(tmp_path / "wd.json")
    workday_server.app.save(path)
    again = WorkdaySandbox(snapshot=path)
    assert [j["journal_id"] for j in again.documents()] == ["S1"]
