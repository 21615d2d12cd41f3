"""The Moon ERP connector against its sandbox over real HTTP: what the contract suite does not
cover (two-step export, cross-checks, draft handling, lookups without a reference filter)."""

import time
import uuid
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest

from connectors.base import CatalogKind, connector_for
from connectors.entry import AccountingEntry, Dimension, EntryKind, EntryLine, LineRole
from connectors.errors import AuthExpired, OutcomeUnknown, Permanent, Transient
from connectors.models import CallLog, Connection
from connectors.moon_erp import client as moon_client
from connectors.moon_erp import schema
from connectors.moon_erp.client import MoonClient
from connectors.moon_erp.sandbox import testkit
from connectors.moon_erp.sandbox.server import CLERK_TOKEN, FULL_TOKEN
from connectors.services import connection_check, connection_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def server():
    srv = testkit.start_sandbox()
    yield srv
    srv.stop()


@pytest.fixture
def conn(server, org):
    return testkit.connect(server, org)


def key():
    return str(uuid.uuid4())


def live(server, reference):
    return testkit.held(server, reference)


def test_setup_created_the_accounts_and_catalogs_map_categories(conn, server):
    accounts = connector_for(conn).catalog(CatalogKind.ACCOUNTS)
    categories = [i for i in accounts if i.classification == "EXPENSE"]
    assert {i.remote_id for i in categories} == {"category:1", "category:2", "category:3", "category:4"}
    assert conn.settings["expense_accounts"][0]["id"].startswith("category:")
    claims = next(i for i in accounts if i.remote_id == conn.employee_claims_account)
    assert (claims.classification, claims.extra["sub_classification"]) == ("LIABILITY", "CURRENT_LIABILITY")
    assert conn.settings["company_currency"] == "SAR"
    dims = connector_for(conn).catalog(CatalogKind.DIMENSIONS)
    assert {d.classification for d in dims} == {"cost_center", "branch"}
    assert not next(d for d in dims if d.name == "Closed project").active


def test_push_creates_then_approves_and_moon_journal_matches_our_entry(conn, server):
    entry = testkit.sample_entry(server, conn, "EXPENSICO-m1-v1")
    k = key()
    result = connector_for(conn).push(entry, k)
    assert result.calls == 2 and not result.replayed          # create, approve (nothing to look up yet)
    # Both writes carry our key in the call log, so a later attempt with it looks Moon up first.
    assert CallLog.objects.filter(connection=conn, method="POST", idempotency_key=k).count() == 2
    again = connector_for(conn).push(entry, k)
    assert again.replayed and again.external_id == result.external_id and again.calls == 1
    [row] = live(server, "EXPENSICO-m1-v1")
    assert row["status"] == "approved" and row["document_number"] == "EXP-2026-0001"
    assert (row["amount"], row["tax_amount"], row["total_amount"]) == ("100.000", "15.000", "115.000")
    journal = server.app.store.tables["journal_entries"][row["journal_entry_id"]]
    paying = server.app.store.tables["accounts"][int(conn.employee_claims_account)]
    assert journal["lines"][-1] == {**journal["lines"][-1], "account_id": paying["id"], "credit": "115.000"}


def test_tax_mismatch_is_a_review_item_and_nothing_is_booked(conn, server):
    # 10.00 including 15% VAT: our tax 1.30, Moon computes 8.70 × 15% = 1.305 and a total of 10.005.
    entry = testkit.sample_entry(server, conn, "EXPENSICO-m2-v1", amount=Decimal("10.00"))
    with pytest.raises(Permanent) as exc:
        connector_for(conn).push(entry, key())
    assert exc.value.code == "amount_mismatch" and exc.value.field == "tax_amount"
    assert "1.305" in exc.value.message and "1.30" in exc.value.message
    assert live(server, "EXPENSICO-m2-v1") == []
    assert server.app.ledger()["journal_entries"] == []


def test_a_draft_left_by_a_lost_approval_is_approved_on_the_next_push(conn, server):
    entry = testkit.sample_entry(server, conn, "EXPENSICO-m3-v1")
    server.app.inject("reset", count=1, method="POST", path="/approve")
    k = key()     # the engine re-sends a record with its own key
    with pytest.raises(OutcomeUnknown):
        connector_for(conn).push(entry, k)
    found = connector_for(conn).find_by_reference(["EXPENSICO-m3-v1"])
    assert found["EXPENSICO-m3-v1"].status == "draft" and not found["EXPENSICO-m3-v1"].live
    result = connector_for(conn).push(entry, k)
    assert result.replayed and result.external_id == found["EXPENSICO-m3-v1"].external_id
    [row] = live(server, "EXPENSICO-m3-v1")
    assert row["status"] == "approved"


def test_a_found_draft_is_brought_up_to_date_before_approval(conn, server):
    entry = testkit.sample_entry(server, conn, "EXPENSICO-m4-v1")
    connector = connector_for(conn)
    server.app.inject("server_error", count=5, method="POST", path="/approve")
    k = key()
    with pytest.raises(Transient):
        connector.push(entry, k)
    server.app.clear_faults()
    changed = testkit.sample_entry(server, conn, "EXPENSICO-m4-v1", amount=Decimal("230.00"))
    connector_for(conn).push(changed, k)
    [row] = live(server, "EXPENSICO-m4-v1")
    assert (row["status"], row["total_amount"]) == ("approved", "230.000")
    assert CallLog.objects.filter(connection=conn, method="PUT").count() == 1


def test_validation_is_one_422_naming_the_moon_field(conn, server):
    entry, field = testkit.invalid_entry(server, conn, "EXPENSICO-m5-v1")
    with pytest.raises(Permanent) as exc:
        connector_for(conn).push(entry, key())
    assert exc.value.field == field == "expense_category_id" and exc.value.code == "does_not_exist"
    assert CallLog.objects.filter(connection=conn, status=422).count() == 1


def test_unsupported_entries_never_reach_moon(conn, server):
    entry = testkit.sample_entry(server, conn, "EXPENSICO-m6-v1")
    split = AccountingEntry(kind=EntryKind.EXPENSE, reference="EXPENSICO-m6-v1", date=entry.date, currency="SAR",
                            lines=(EntryLine(role=LineRole.EXPENSE, account="category:3", debit=Decimal("10.00")),
                                   EntryLine(role=LineRole.EXPENSE, account="category:2", debit=Decimal("5.00")),
                                   EntryLine(role=LineRole.PAID_THROUGH, account=conn.employee_claims_account,
                                             credit=Decimal("15.00"))))
    before = CallLog.objects.count()
    with pytest.raises(Permanent) as exc:
        connector_for(conn).push(split, key())
    assert exc.value.code == "unsupported_entry" and exc.value.field == "lines"
    assert CallLog.objects.count() == before


def test_dimensions_and_card_payments_reach_moon(conn, server):
    entry = testkit.sample_entry(server, conn, "EXPENSICO-m7-v1")
    card = AccountingEntry(
        kind=EntryKind.EXPENSE, reference="EXPENSICO-m7-v1", date=entry.date, currency="SAR", contact="2",
        lines=(EntryLine(role=LineRole.EXPENSE, account="category:2", debit=Decimal("46.00"), tax_rate="1",
                         tax_amount=Decimal("6.00"), dimensions=(Dimension("cost_center", "2"), Dimension("branch", "2"))),
               EntryLine(role=LineRole.PAID_THROUGH, account=conn.employees_balance_account, credit=Decimal("46.00"))))
    connector_for(conn).push(card, key())
    [row] = live(server, "EXPENSICO-m7-v1")
    assert (row["payment_method"], row["cost_center_id"], row["branch_id"], row["partner_id"]) == ("card", 2, 2, 2)


def fresh(conn):
    """The connector as another worker process (or one after a restart) has it: only the database."""
    return connector_for(Connection.objects.get(pk=conn.pk))


def listings(conn):
    return list(CallLog.objects.filter(connection=conn, method="GET", path__startswith="/api/accounting/expenses")
                .order_by("id").values_list("path", flat=True))


def test_a_fresh_process_lists_only_the_day_the_call_log_knows(conn, server):
    connector = connector_for(conn)
    for i in range(27):
        connector.push(testkit.sample_entry(server, conn, f"EXPENSICO-p{i}-v1", on=date(2026, 10, 1 + i)), key())
    # A create body longer than the call log keeps (2000 characters): its date still leads it.
    long = testkit.sample_entry(server, conn, "EXPENSICO-p27-v1", on=date(2026, 10, 29))
    connector.push(replace(long, employee="Sara " * 500), key())
    assert CallLog.objects.filter(request_body__contains="EXPENSICO-p27-v1", request_body__endswith="…").exists()
    before = len(listings(conn))
    lookup = fresh(conn)
    found = lookup.find_by_reference(["EXPENSICO-p26-v1"])
    assert found["EXPENSICO-p26-v1"].live and Decimal(found["EXPENSICO-p26-v1"].amount) == Decimal("115")
    assert lookup.client.calls == 1 and listings(conn)[before:] == [
        "/api/accounting/expenses?date_from=2026-10-27&date_to=2026-10-27"]
    assert set(fresh(conn).find_by_reference(["EXPENSICO-p27-v1", "EXPENSICO-p0-v1"])) == {
        "EXPENSICO-p27-v1", "EXPENSICO-p0-v1"}
    assert listings(conn)[before + 1:] == ["/api/accounting/expenses?date_from=2026-10-01&date_to=2026-10-01",
                                           "/api/accounting/expenses?date_from=2026-10-29&date_to=2026-10-29"]


def test_only_a_reference_nothing_is_known_about_costs_the_whole_ledger(conn, server):
    connector = connector_for(conn)
    for i in range(27):
        connector.push(testkit.sample_entry(server, conn, f"EXPENSICO-q{i}-v1", on=date(2026, 10, 1 + i)), key())
    # x-v10's create says nothing about x-v1 (whole-token match): x-v1 was never sent, so every page.
    lookup = fresh(conn)
    assert lookup.find_by_reference(["EXPENSICO-q2-v10"]) == {} and lookup.client.calls == 2
    found = lookup.find_by_reference(["EXPENSICO-q0-v1", "EXPENSICO-q26-v1", "EXPENSICO-q2-v10"])
    assert set(found) == {"EXPENSICO-q0-v1", "EXPENSICO-q26-v1"} and lookup.client.calls == 4


def test_a_ledger_too_long_to_list_is_a_permanent_error_for_a_person(conn, server, monkeypatch):
    clerk = server.app.store.tables["users"][1]
    for day in range(1, 27):
        server.app.store.expense_create(clerk, {
            "date": f"2026-03-{day:02d}", "expense_category_id": 3, "description": "typed in Moon",
            "amount": "1.000", "payment_method": "cash", "paying_account_id": int(conn.employee_claims_account)})
    monkeypatch.setattr(moon_client, "MAX_PAGES", 1)
    with pytest.raises(Permanent) as exc:
        fresh(conn).find_by_reference(["EXPENSICO-old-v1"])
    assert exc.value.code == "too_many_pages" and "by hand" in exc.value.message


class Killed(BaseException):
    """SIGKILL: nothing after it runs in the dying process, not even the call log write."""


def die(*args, **kwargs):
    raise Killed()


def test_a_worker_killed_during_the_create_leaves_one_expense_not_two(conn, server, monkeypatch):
    entry = testkit.sample_entry(server, conn, "EXPENSICO-k1-v1")
    k = key()
    server.app.inject("drop_after_commit", count=1, method="POST", path="/expenses")
    with monkeypatch.context() as m:
        m.setattr(MoonClient, "_log", die)
        with pytest.raises(Killed):
            connector_for(conn).push(entry, k)
    [draft] = live(server, "EXPENSICO-k1-v1")       # Moon committed it; the answer never arrived
    [in_flight] = CallLog.objects.filter(connection=conn, idempotency_key=k)
    assert draft["status"] == "draft" and in_flight.status is None and "in flight" in in_flight.error_detail
    # The engine, in another process: the draft is not booked, so it pushes again with the record's key.
    lookup = fresh(conn)
    assert not lookup.find_by_reference(["EXPENSICO-k1-v1"])["EXPENSICO-k1-v1"].live and lookup.client.calls == 1
    result = fresh(conn).push(entry, k)
    assert result.replayed and result.external_id == str(draft["id"]) and result.calls == 2   # list the day, approve
    mine = [d for d in server.app.documents() if schema.holds_reference(d, "EXPENSICO-k1-v1")]
    assert [(d["id"], d["status"], d["deleted_at"]) for d in mine] == [(draft["id"], "approved", None)]


def test_an_answered_post_leaves_no_in_flight_row(conn, server):
    k = key()
    server.app.inject("server_error", count=3, status=500, method="POST", path="/approve")
    with pytest.raises(Transient):
        connector_for(conn).push(testkit.sample_entry(server, conn, "EXPENSICO-k2-v1"), k)
    rows = CallLog.objects.filter(connection=conn, idempotency_key=k).order_by("id")
    assert [(r.path.rsplit("/", 1)[-1], r.status) for r in rows] == [("expenses", 201)] + [("approve", 500)] * 3


def test_reverse_cancels_with_a_mirror_journal_and_deletes_drafts(conn, server):
    connector = connector_for(conn)
    entry = testkit.sample_entry(server, conn, "EXPENSICO-m8-v1")
    pushed = connector.push(entry, key())
    connector.reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    assert all(v == 0 for v in server.app.store.balances(1).values())
    again = connector.reverse(pushed.external_id, testkit.reversal_entry(entry), key())
    assert "already cancelled" in again.notes[0]
    draft = server.app.store.expense_create(server.app.store.tables["users"][1], {
        "date": "2026-11-02", "expense_category_id": 3, "description": "x", "amount": "1.000",
        "payment_method": "cash", "paying_account_id": int(conn.employee_claims_account)})
    result = connector.reverse(str(draft["id"]), entry, key())
    assert "draft" in result.notes[0] and server.app.store.tables["expenses"][draft["id"]]["deleted_at"]


def test_a_token_without_approval_rights(conn, server, org):
    clerk = connection_create(organization=org, system="moon_erp", name="Clerk", base_url=server.base_url,
                              auth_method=Connection.AuthMethod.TOKEN, api_key=CLERK_TOKEN)
    result = connection_check(connection=clerk)
    assert not result.ok and "accounting.expenses.approve" in result.detail
    # Pushing with it leaves nothing half-done unnoticed: the 403 is Permanent and the draft stays a draft.
    clerk.employee_claims_account = conn.employee_claims_account
    with pytest.raises(Permanent) as exc:
        connector_for(clerk).push(testkit.sample_entry(server, clerk, "EXPENSICO-m9-v1"), key())
    assert exc.value.code == "permission_denied" and exc.value.status == 403


def test_revoked_token_is_auth_expired(conn, server):
    testkit.revoke(server)
    with pytest.raises(AuthExpired):
        connector_for(conn).find_by_reference(["EXPENSICO-x-v1"])


def test_find_by_reference_lists_the_span_of_known_dates_once(conn, server):
    connector = connector_for(conn)
    refs = [f"EXPENSICO-h{i}-v1" for i in range(5)]
    for i, ref in enumerate(refs):
        connector.push(testkit.sample_entry(server, conn, ref, on=date(2026, 9, 1 + 3 * i)), key())
    # Someone else's expense inside the span, carrying a longer reference, is not a match.
    connector.push(testkit.sample_entry(server, conn, "EXPENSICO-h1-v10", on=date(2026, 9, 4)), key())
    lookup = connector_for(conn)
    found = lookup.find_by_reference(refs)
    assert lookup.client.calls == 1 and set(found) == set(refs)
    # A reference this process never pushed has no date: it costs one full listing, and is absent.
    assert lookup.find_by_reference(["EXPENSICO-h9-v1"]) == {} and lookup.client.calls == 2
    assert found["EXPENSICO-h1-v1"].external_id != str(testkit.held(server, "EXPENSICO-h1-v10")[0]["id"])


def test_a_reversal_reference_costs_no_listing_of_its_own(conn, server):
    """Moon reverses by cancelling the original: the engine's look-up of a reversal (its own
    reference and the original's) lists only the original's day, never the whole ledger."""
    connector = connector_for(conn)
    connector.push(testkit.sample_entry(server, conn, "EXPENSICO-r1-v1", on=date(2026, 9, 2)), key())
    lookup = connector_for(conn)
    found = lookup.find_by_reference(["EXPENSICO-r1-v1-R", "EXPENSICO-r1-v1"])
    assert set(found) == {"EXPENSICO-r1-v1"} and lookup.client.calls == 1
    assert lookup.find_by_reference(["EXPENSICO-r1-v1-R"]) == {} and lookup.client.calls == 1


def test_ensure_account_with_a_lost_answer_creates_one(conn, server):
    from connectors.base import AccountPurpose, AccountSpec
    server.app.inject("drop_after_commit", count=1, method="POST", path="/accounts")
    item = connector_for(conn).ensure_account(AccountSpec(purpose=AccountPurpose.EMPLOYEE_CLAIMS, name="Lost – Claims"))
    named = [a for a in server.app.ledger()["accounts"] if a["name"] == "Lost – Claims"]
    assert len(named) == 1 and item.remote_id == str(named[0]["id"])


def test_moon_throttle_surfaces_as_rate_limited_with_its_retry_after(conn, server):
    from connectors.errors import RateLimited
    server.app.throttle_per_minute = 1
    with pytest.raises(RateLimited) as exc:
        connector_for(conn).push(testkit.sample_entry(server, conn, "EXPENSICO-t1-v1"), key())
    assert exc.value.retry_after is not None and 0 < exc.value.retry_after <= 60


def test_a_chosen_tolerance_books_the_half_halala_with_a_note(conn, server):
    conn.settings = {**conn.settings, "amount_tolerance": "0.01"}
    entry = testkit.sample_entry(server, conn, "EXPENSICO-m10-v1", amount=Decimal("10.00"))
    result = connector_for(conn).push(entry, key())
    [row] = live(server, "EXPENSICO-m10-v1")
    assert (row["status"], row["total_amount"]) == ("approved", "10.005")
    # The person chose the tolerance: the difference is recorded on the attempt, not a review item.
    assert not result.warnings
    assert [n for n in result.notes if "tax_amount" in n] and [n for n in result.notes if "total_amount" in n]


def test_a_dimension_moon_cannot_carry_is_refused_before_anything_is_sent(conn, server):
    entry = testkit.sample_entry(server, conn, "EXPENSICO-d1-v1")
    expense_line = replace(entry.lines[0], dimensions=(Dimension("cost_center", "2"), Dimension("project", "p9")))
    before = CallLog.objects.count()
    with pytest.raises(Permanent) as exc:
        connector_for(conn).push(replace(entry, lines=(expense_line, entry.lines[1])), key())
    assert (exc.value.code, exc.value.field) == ("unsupported_dimension", "project")
    assert CallLog.objects.count() == before and live(server, "EXPENSICO-d1-v1") == []


def test_moon_connections_default_to_one_request_a_second(server, org):
    plain = connection_create(organization=org, system="moon_erp", name="Plain", base_url=server.base_url,
                              auth_method=Connection.AuthMethod.TOKEN, api_key=FULL_TOKEN)
    assert "rate_limit_per_second" not in plain.settings
    client = connector_for(plain).client
    started = time.monotonic()
    for _ in range(3):
        client.call("GET", "/api/user")
    # Three one-second windows; at the shared stack's 8/s the three calls take milliseconds.
    assert time.monotonic() - started >= 1.0
    # Setup writes the default down, where a person can see (and change) it.
    connection_check(connection=plain)
    assert Connection.objects.get(pk=plain.pk).settings["rate_limit_per_second"] == 1


def test_an_explicit_rate_is_kept(conn):
    assert connector_for(conn).client.connection.settings["rate_limit_per_second"] == 50
    assert Connection.objects.get(pk=conn.pk).settings["rate_limit_per_second"] == 50


def test_fault_switches_answer_as_moon_and_map_to_the_taxonomy(conn, server):
    from connectors.errors import RateLimited
    server.app.inject("rate_limit", count=1, retry_after="45", method="GET")
    with pytest.raises(RateLimited) as limited:
        connector_for(conn).find_by_reference(["EXPENSICO-f1-v1"])
    assert (limited.value.status, limited.value.message, limited.value.retry_after) == (429, "Too Many Attempts.", 45.0)
    server.app.inject("server_error", count=3, status=500, method="GET")
    with pytest.raises(Transient) as failed:
        connector_for(conn).find_by_reference(["EXPENSICO-f1-v1"])
    assert (failed.value.status, failed.value.message) == (500, "Server Error")
    answers = CallLog.objects.filter(connection=conn, status__gte=400).order_by("id")
    assert [(a.status, a.response_body) for a in answers] == [(429, '{"message": "Too Many Attempts."}')] + [
        (500, '{"message": "Server Error"}')] * 3
