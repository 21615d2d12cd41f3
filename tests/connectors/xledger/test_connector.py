"""The Xledger connector against its GraphQL sandbox, beyond the shared contract suite."""

import uuid
from datetime import date
from decimal import Decimal

import pytest
import requests

from connectors.base import CatalogKind, connector_for
from connectors.entry import AccountingEntry, Dimension, EntryKind, EntryLine, LineRole
from connectors.errors import AuthExpired, Permanent, RateLimited
from connectors.limits import ClientRateLimited
from connectors.models import CallLog, Connection
from connectors.xledger import client as xl_client
from connectors.xledger import schema
from connectors.xledger.dashboard import xledger_usage_panel
from connectors.xledger.sandbox import testkit
from connectors.xledger.selectors import monthly_usage, requests_this_month

pytestmark = pytest.mark.django_db


def key() -> str:
    return str(uuid.uuid4())


def gql(server, query, variables=None, token=testkit.API_TOKEN, scheme="token"):
    return requests.post(f"{server.base_url}/graphql", json={"query": query, "variables": variables or {}},
                         headers={"Authorization": f"{scheme} {token}"}, timeout=5)


def test_check_reads_the_entity_and_base_currency(xl_connection):
    assert xl_connection.status == Connection.Status.CONNECTED
    assert xl_connection.settings["base_currency"] == "NOK"
    assert "Expensico Norge AS" in xl_connection.last_check_detail


def test_catalogs_cover_gl_objects_projects_and_contacts(xl_connection):
    connector = connector_for(xl_connection)
    dims = connector.catalog(CatalogKind.DIMENSIONS)
    assert {d.classification for d in dims} == {"gl_object:1", "gl_object:2", "project"}
    contacts = connector.catalog(CatalogKind.CONTACTS)
    assert {c.classification for c in contacts} == {"employee", "supplier"}
    accounts = {a.code: a for a in connector.catalog(CatalogKind.ACCOUNTS)}
    assert accounts["7140"].classification == "EXPENSE" and accounts["2930"].classification == "LIABILITY"


def test_one_request_per_exported_expense(xl_connection, xl_server):
    before = CallLog.objects.filter(connection=xl_connection).count()
    for n in range(10):
        result = connector_for(xl_connection).push(testkit.sample_entry(xl_server, xl_connection, f"EXPENSICO-f{n}-v1"),
                                                   key())
        assert result.calls == 1
    assert CallLog.objects.filter(connection=xl_connection).count() - before == 10
    found = connector_for(xl_connection).find_by_reference([f"EXPENSICO-f{n}-v1" for n in range(10)])
    assert len(found) == 10
    assert CallLog.objects.filter(connection=xl_connection).count() - before == 11, "one lookup for ten references"


def test_voucher_lines_go_in_one_call_with_dimensions(xl_connection, xl_server):
    value = next(v for v in xl_server.app.tables["objectValues"] if v["code"] == "20")
    lines = (EntryLine(role=LineRole.EXPENSE, account=testkit._account(xl_server, "7140"), debit=Decimal("900.00"),
                       dimensions=(Dimension("gl_object:1", value["dbId"]),)),
             EntryLine(role=LineRole.EXPENSE, account=testkit._account(xl_server, "7350"), debit=Decimal("350.00")),
             EntryLine(role=LineRole.PAID_THROUGH, account=xl_connection.employee_claims_account,
                       credit=Decimal("1250.00")))
    entry = AccountingEntry(kind=EntryKind.EXPENSE, reference="EXPENSICO-multi-v1", date=date(2026, 11, 2),
                            currency="NOK", lines=lines, description="Kundemøte")
    assert connector_for(xl_connection).push(entry, key()).calls == 1
    (voucher,) = testkit.held(xl_server, entry.reference)
    assert len(voucher["rows"]) == 3 and voucher["rows"][0]["glObject1"]["code"] == "20"
    assert len([j for j in xl_server.app.tables["journalEntries"] if j["extIdentifier"] == entry.reference]) == 3


def test_unbalanced_import_surfaces_as_an_import_failure(xl_connection, xl_server):
    connector = connector_for(xl_connection)
    inputs = schema.voucher_inputs(testkit.sample_entry(xl_server, xl_connection, "EXPENSICO-unbal-v1"))
    inputs[1]["node"]["amount"] = "-1000.00"     # what a faulty import definition could do
    connector._send_voucher(inputs, key())
    failures = connector.import_failures()
    assert [f.reference for f in failures] == ["EXPENSICO-unbal-v1"]
    assert "does not balance" in failures[0].message and failures[0].level == "ERROR"
    assert failures[0].row["objectValue"] == "EXPENSICO-unbal-v1" and failures[0].error_id
    found = connector.find_by_reference(["EXPENSICO-unbal-v1"])["EXPENSICO-unbal-v1"]
    assert not found.live and found.status.startswith("import failed")


@pytest.mark.parametrize("code, retry_after", [("BAD_REQUEST.BURST_RATE_LIMIT_REACHED", 5.0),
                                               ("BAD_REQUEST.CONCURRENCY_LIMIT_REACHED", 1.0)])
def test_throttling_errors_in_a_200_are_retried(xl_connection, xl_server, code, retry_after):
    xl_server.app.forced_errors.append(code)
    entry = testkit.sample_entry(xl_server, xl_connection, "EXPENSICO-thr-v1")
    assert connector_for(xl_connection).push(entry, key()).external_id
    logged = CallLog.objects.filter(connection=xl_connection, error_class="RateLimited")
    assert logged.count() == 1 and logged.get().status == 200
    assert xl_client.XledgerClient(xl_connection).classify([{"code": code, "message": "x"}]).retry_after == retry_after


def test_insufficient_credits_is_left_to_the_caller_until_reset(xl_connection, xl_server):
    xl_server.app.credits = 0
    with pytest.raises(RateLimited) as exc:
        connector_for(xl_connection).push(testkit.sample_entry(xl_server, xl_connection, "EXPENSICO-cr-v1"), key())
    assert exc.value.retry_after > 30, "far beyond an inline wait: the export engine reschedules"
    assert not testkit.held(xl_server, "EXPENSICO-cr-v1")


def test_bad_token_format_expires_the_connection(xl_connection, xl_server):
    body = gql(xl_server, schema.ENTITY, scheme="Bearer").json()
    assert body["errors"][0]["message"].startswith("Bad format for API token")
    xl_connection.api_key = ""
    xl_connection.save()
    with pytest.raises(AuthExpired):
        connector_for(xl_connection).check()
    xl_connection.refresh_from_db()
    assert xl_connection.status == Connection.Status.EXPIRED


def test_invalid_reference_offers_alternatives_when_asked(xl_server):
    inputs = [{"node": {"account": {"code": "9999", "showAlternatives": "YES"}, "amount": "1.00"}}]
    body = gql(xl_server, schema.ADD_VOUCHER, {"inputs": inputs}).json()
    error = body["errors"][0]
    assert error["code"] == "INVALID_VALUE" and error["extensions"]["field"] == "account"
    assert {"code": "1500"} in error["extensions"]["exampleValidInputs"]


def test_sandbox_pages_relay_style(xl_server):
    query = "query($after: String) { accounts(first: 4, after: $after) { edges { cursor node { code } } pageInfo { hasNextPage hasPreviousPage } } }"
    first = gql(xl_server, query).json()["data"]["accounts"]
    assert len(first["edges"]) == 4 and first["pageInfo"] == {"hasNextPage": True, "hasPreviousPage": False}
    second = gql(xl_server, query, {"after": first["edges"][-1]["cursor"]}).json()["data"]["accounts"]
    assert second["edges"][0]["node"]["code"] != first["edges"][-1]["node"]["code"]
    assert second["pageInfo"]["hasPreviousPage"]


def test_sandbox_enforces_the_burst_limit(xl_server):
    xl_server.app.burst_limit = (3, 5.0)
    answers = [gql(xl_server, schema.ENTITY).json() for _ in range(4)]
    assert "errors" not in answers[2]
    assert answers[3]["errors"][0]["code"] == "BAD_REQUEST.BURST_RATE_LIMIT_REACHED"


def test_client_keeps_the_burst_limit_before_sending(xl_connection, xl_server, monkeypatch):
    monkeypatch.setattr(xl_client, "BURST_WAIT", 0.0)
    conn = xl_connection
    conn.settings = {**conn.settings, "burst_limit": 1}
    conn.save()
    seen = xl_server.app.requests_seen
    with pytest.raises(ClientRateLimited):
        connector_for(conn).check()
    assert xl_server.app.requests_seen == seen


def test_requests_are_counted_per_connection_per_month(xl_connection, xl_server, rf):
    used = requests_this_month(xl_connection)
    assert used == CallLog.objects.filter(connection=xl_connection).count() > 0
    (row,) = monthly_usage([xl_connection.organization_id])
    assert row["requests"] == used and row["billable"] == 0
    panel = xledger_usage_panel(rf.get("/admin/"), [xl_connection.organization_id])
    assert panel["kpis"][0]["value"] == f"{used:,} / 5,000"
    month = date.today().strftime("%Y-%m")
    assert xl_server.app.requests_by_month[month] >= used


def test_reversal_is_a_reversing_voucher_once(xl_connection, xl_server):
    entry = testkit.sample_entry(xl_server, xl_connection, "EXPENSICO-rev-v1")
    pushed = connector_for(xl_connection).push(entry, key())
    reversal = testkit.reversal_entry(entry)
    done = connector_for(xl_connection).reverse(pushed.external_id, reversal, key())
    assert done.calls == 2, "one lookup, one voucher"
    rows = [r for r in xl_server.app.tables["glImportItems"] if r.get("yourReference") == entry.reference]
    assert sum(Decimal(r["amount"]) for r in rows) == 0 and len(rows) == 2
    again = connector_for(xl_connection).reverse(pushed.external_id, reversal, key())
    assert again.notes == ("already reversed",) and not again.warnings and again.calls == 1


def test_ensure_account_uses_add_accounts_once(xl_connection, xl_server):
    from connectors.base import AccountPurpose, AccountSpec
    spec = AccountSpec(purpose=AccountPurpose.EMPLOYEES_BALANCE, name="Forskudd kort")
    first = connector_for(xl_connection).ensure_account(spec)
    second = connector_for(xl_connection).ensure_account(spec)
    assert first.remote_id == second.remote_id and first.code.startswith("158")
    assert first.classification == "ASSET" and first.extra["sub_classification"] == "CURRENT_ASSET"


def test_permanent_errors_name_the_field(xl_connection, xl_server):
    entry, field = testkit.invalid_entry(xl_server, xl_connection, "EXPENSICO-inv-v1")
    with pytest.raises(Permanent) as exc:
        connector_for(xl_connection).push(entry, key())
    assert exc.value.field == field == "account" and exc.value.code == "INVALID_VALUE"


def test_preview_shows_the_mutation_without_sending(xl_connection, xl_server):
    seen = xl_server.app.requests_seen
    preview = connector_for(xl_connection).preview(testkit.sample_entry(xl_server, xl_connection, "EXPENSICO-pv-v1"))
    assert xl_server.app.requests_seen == seen
    assert preview["query"] == schema.ADD_VOUCHER and len(preview["variables"]["inputs"]) == 2


def claim(server, connection, reference, employee="Kari Nordmann", **line_kw):
    entry = testkit.sample_entry(server, connection, reference)
    lines = (EntryLine(role=LineRole.EXPENSE, account=entry.lines[0].account, debit=entry.lines[0].debit, **line_kw),
             entry.lines[1])
    return AccountingEntry(kind=entry.kind, reference=reference, date=entry.date, currency=entry.currency,
                           lines=lines, description=entry.description, employee=employee)


def subledgers(server, reference) -> list:
    (voucher,) = testkit.held(server, reference)
    return [row.get("subledger") for row in voucher["rows"]]


def test_the_paid_through_line_carries_the_claimants_subledger(xl_connection, xl_server):
    contacts = connector_for(xl_connection).catalog(CatalogKind.CONTACTS)
    assert {c.name: c.extra.get("subledger") for c in contacts if c.classification == "employee"} == {
        "Kari Nordmann": "100", "Ola Hansen": "101"}
    xl_connection.settings = {**xl_connection.settings, "employee_subledgers": {"Kari Nordmann": "100"}}
    xl_connection.save()
    assert connector_for(xl_connection).push(claim(xl_server, xl_connection, "EXPENSICO-sl1-v1"), key()).calls == 1
    [expense, paid_through] = subledgers(xl_server, "EXPENSICO-sl1-v1")
    assert expense is None and paid_through["code"] == "100"
    # Nobody mapped and no pooled subledger: the line goes without one (optional in the contract).
    connector_for(xl_connection).push(claim(xl_server, xl_connection, "EXPENSICO-sl2-v1", "Ola Hansen"), key())
    assert subledgers(xl_server, "EXPENSICO-sl2-v1") == [None, None]
    xl_connection.settings = {**xl_connection.settings, "employee_subledger": "101"}
    xl_connection.save()
    connector_for(xl_connection).push(claim(xl_server, xl_connection, "EXPENSICO-sl3-v1", "Ola Hansen"), key())
    assert subledgers(xl_server, "EXPENSICO-sl3-v1")[1]["code"] == "101"


def test_an_unknown_subledger_is_permanent_and_named(xl_connection, xl_server):
    xl_connection.settings = {**xl_connection.settings, "employee_subledger": "999"}
    xl_connection.save()
    with pytest.raises(Permanent) as exc:
        connector_for(xl_connection).push(claim(xl_server, xl_connection, "EXPENSICO-sl4-v1"), key())
    assert exc.value.field == "subledger" and not testkit.held(xl_server, "EXPENSICO-sl4-v1")


def test_a_dimension_xledger_cannot_carry_is_refused_before_sending(xl_connection, xl_server):
    seen = xl_server.app.requests_seen
    entry = claim(xl_server, xl_connection, "EXPENSICO-dim-v1", dimensions=(Dimension("cost_center", "CC-100"),))
    with pytest.raises(Permanent) as exc:
        connector_for(xl_connection).push(entry, key())
    assert (exc.value.code, exc.value.field) == ("unsupported_dimension", "dimensions.cost_center")
    assert xl_server.app.requests_seen == seen and not testkit.held(xl_server, entry.reference)


def test_a_list_longer_than_the_page_cap_is_a_permanent_error_a_person_sees(xl_connection, monkeypatch):
    from connectors.xledger import client as xl_client
    monkeypatch.setattr(xl_client, "MAX_PAGES", 0)
    with pytest.raises(Permanent) as exc:
        connector_for(xl_connection).catalog(CatalogKind.ACCOUNTS)
    assert exc.value.code == "too_many_pages"
