from datetime import date
from decimal import Decimal

import pytest
import requests

from expensico_sync.core.outbound import GuardedSession
from expensico_sync.source.client import ExpensicoClient, ExpensicoTransient
from expensico_sync.source.models import (
    BankStatementLine,
    CardFunding,
    Category,
    Expense,
    ExpenseReport,
    PullSync,
    Receipt,
    Reimbursement,
)
from expensico_sync.source.pull import pull_sync_create, pull_sync_run
from expensico_sync.source.simulator.generator import generate
from expensico_sync.source.simulator.server import serve_in_thread

pytestmark = pytest.mark.django_db
FROM, TO = date(2026, 1, 1), date(2026, 12, 31)


@pytest.fixture
def simulator():
    servers = []

    def start(seed=11, scale=40, **faults):
        server = serve_in_thread(lambda url: generate(seed=seed, scale=scale, base_url=url), token="tok", **faults)
        servers.append(server)
        return server

    yield start
    for s in servers:
        s.shutdown()


def client_for(server, page_size=7):
    return ExpensicoClient(base_url=server.base_url, token="tok", page_size=page_size)


def expected_expenses(ds):
    return sorted((e["id"], e["version"], Decimal(e["amount"])) for r in ds.reports for e in r["expenses"])


def mirrored_expenses(org):
    return sorted(Expense.objects.filter(organization=org).values_list("expensico_id", "version", "amount"))


def test_full_sync_mirrors_everything_and_skips_no_shared_timestamp(org, simulator):
    server = simulator(scale=45)
    ds = server.state.dataset
    assert max(__import__("collections").Counter(r["approved_at"] for r in ds.reports).values()) >= 3
    run = pull_sync_run(pull_sync=pull_sync_create(organization=org, date_from=FROM, date_to=TO),
                        client=client_for(server, page_size=2))  # pages split groups sharing approved_at
    assert run.status == "succeeded" and run.finished_at
    assert ExpenseReport.objects.filter(organization=org).count() == len(ds.reports)
    assert mirrored_expenses(org) == expected_expenses(ds)
    assert CardFunding.objects.filter(organization=org).count() == len(ds.fundings)
    assert Reimbursement.objects.filter(organization=org).count() == len(ds.reimbursements)
    assert BankStatementLine.objects.filter(organization=org).count() == len(ds.statement_lines)
    assert Category.objects.filter(organization=org, active=False).count() == 1
    assert run.counts["expense_reports"] == len(ds.reports)
    assert all(run.cursor[s]["done"] for s in PullSync.STREAMS)
    # A second run over the same range changes nothing (versions equal: ignored).
    again = pull_sync_run(pull_sync=pull_sync_create(organization=org, date_from=FROM, date_to=TO),
                          client=client_for(server))
    assert again.counts["ignored_stale_versions"] == len(expected_expenses(ds))
    assert mirrored_expenses(org) == expected_expenses(ds)


def test_date_range_limits_reports(org, simulator):
    server = simulator(scale=30)
    ds = server.state.dataset
    day = date.fromisoformat(ds.reports[3]["approved_at"][:10])
    pull_sync_run(pull_sync=pull_sync_create(organization=org, date_from=day, date_to=day), client=client_for(server))
    want = {r["id"] for r in ds.reports if r["approved_at"][:10] == day.isoformat()}
    assert set(ExpenseReport.objects.filter(organization=org).values_list("expensico_id", flat=True)) == want


def test_retries_429_and_503_honouring_retry_after(org, simulator, monkeypatch):
    server = simulator(scale=10, rate_limit_every=3, error_every=5, retry_after=0)
    run = pull_sync_run(pull_sync=pull_sync_create(organization=org, date_from=FROM, date_to=TO),
                        client=client_for(server))
    assert run.status == "succeeded"
    assert mirrored_expenses(org) == expected_expenses(server.state.dataset)


def test_retry_hook_uses_retry_after():
    from expensico_sync.source.client import _should_retry
    assert _should_retry(ExpensicoTransient("429", retry_after=7.0)) == 7.0
    assert _should_retry(ExpensicoTransient("503")) is True
    assert _should_retry(requests.ConnectionError()) is True
    assert _should_retry(ValueError()) is False


def test_bad_token_fails_the_run_and_records_it(org, simulator):
    server = simulator(scale=3)
    bad = ExpensicoClient(base_url=server.base_url, token="wrong")
    pull = pull_sync_create(organization=org, date_from=FROM, date_to=TO)
    with pytest.raises(Exception, match="401"):
        pull_sync_run(pull_sync=pull, client=bad)
    pull.refresh_from_db()
    assert pull.status == "failed" and "401" in pull.error


class FlakySession(GuardedSession):
    """Dies after N successful GETs, like a worker killed mid-sync."""

    def __init__(self, allowed):
        super().__init__()
        self.allowed = allowed

    def get(self, *args, **kwargs):
        if self.allowed <= 0:
            raise RuntimeError("worker killed")
        self.allowed -= 1
        return super().get(*args, **kwargs)


def test_resumes_from_the_last_cursor(org, simulator):
    server = simulator(scale=40)
    ds = server.state.dataset
    pull = pull_sync_create(organization=org, date_from=FROM, date_to=TO)
    flaky = ExpensicoClient(base_url=server.base_url, token="tok", page_size=5, session=FlakySession(4))
    with pytest.raises(RuntimeError):
        pull_sync_run(pull_sync=pull, client=flaky)
    pull.refresh_from_db()
    assert pull.status == "failed"
    assert pull.cursor["categories"]["done"] and not pull.cursor["expense_reports"]["done"]
    partial = pull.counts["expense_reports"]
    assert 0 < partial < len(ds.reports)
    requests_before = server.state.requests
    done = pull_sync_run(pull_sync=pull, client=client_for(server, page_size=5))
    assert done.status == "succeeded"
    assert done.counts["expense_reports"] == len(ds.reports)  # nothing counted twice
    assert "ignored_stale_versions" not in done.counts  # nothing fetched twice
    assert mirrored_expenses(org) == expected_expenses(ds)
    assert server.state.requests - requests_before < 40


def test_receipts_fetched_after_commit_and_verified(org, simulator, django_capture_on_commit_callbacks):
    server = simulator(scale=6)
    org.expensico_api_base_url, org.expensico_api_token = server.base_url, "tok"
    org.save()
    # Corrupt one receipt's bytes on the server: its sha256 no longer matches.
    ds = server.state.dataset
    bad_id = next(rc["id"] for r in ds.reports for e in r["expenses"] for rc in e["receipts"])
    ds.receipts[bad_id] = b"tampered"
    with django_capture_on_commit_callbacks(execute=True):
        pull_sync_run(pull_sync=pull_sync_create(organization=org, date_from=FROM, date_to=TO))
    receipts = Receipt.objects.filter(expense__organization=org)
    assert receipts.count() == sum(len(e["receipts"]) for r in ds.reports for e in r["expenses"]) > 1
    bad = receipts.get(expensico_id=bad_id)
    assert not bad.verified and "sha256 mismatch" in bad.fetch_error
    good = receipts.exclude(expensico_id=bad_id)
    assert all(r.verified and r.file.read().startswith(b"%PDF") for r in good)


def test_an_export_workers_receipt_fetch_tries_once(org, simulator):
    """The patient fetch (the intake's task) retries a busy Expensico; the export worker's quick
    fetch tries once, so an outage costs the booking its receipt, never the worker's minutes."""
    from expensico_sync.source.receipts import receipts_fetch

    server = simulator(scale=6)
    org.expensico_api_base_url, org.expensico_api_token = server.base_url, "tok"
    org.save()
    pull_sync_run(pull_sync=pull_sync_create(organization=org, date_from=FROM, date_to=TO))
    first, second = Receipt.objects.filter(expense__organization=org, verified=False)[:2]
    server.state.error_every = 1                         # Expensico answers 503 to everything
    before = server.state.requests
    assert receipts_fetch(receipt_ids=[first.pk], patient=False) == {"verified": 0, "mismatch": 0, "failed": 1}
    assert server.state.requests - before == 1
    first.refresh_from_db()
    assert not first.verified and first.fetch_error
    before = server.state.requests
    receipts_fetch(receipt_ids=[second.pk])
    assert server.state.requests - before > 1, "the intake's own fetch keeps retrying"
