"""Idempotency under real concurrency: real HTTP, one DB connection per server thread."""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import pytest
import requests
from django.conf import settings

from expensico_sync.source.models import Employee, Expense, WebhookDelivery
from expensico_sync.source.simulator.generator import generate
from expensico_sync.source.simulator.sender import send_webhooks, sign
from tests.core.factories import make_org
from tests.source.factories import expense_payload, report_payload
from tests.source.helpers import approved

ON_POSTGRES = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")


def _post_many(url, bodies_and_ids, secret, threads=8):
    barrier = threading.Barrier(threads)

    def post(item):
        body, webhook_id = item
        text = json.dumps(body)
        try:
            barrier.wait(timeout=5)
        except threading.BrokenBarrierError:
            pass
        return requests.post(url, data=text.encode(), timeout=60,
                             headers=sign(secret=secret, webhook_id=webhook_id, body=text))

    with ThreadPoolExecutor(threads) as pool:
        return list(pool.map(post, bodies_and_ids))


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite serialises every writer, so it cannot show a race; "
                                          "set DATABASE_URL=postgres://… (CI does)")
@pytest.mark.django_db(transaction=True)
def test_fifty_identical_deliveries_from_eight_threads(live_server):
    org = make_org("race")
    body = approved(report_payload(1, expenses=[expense_payload(i) for i in range(1, 21)]))
    url = f"{live_server.url}/api/v1/expensico/webhooks/{org.slug}/"
    responses = _post_many(url, [(body, "msg_same")] * 50, org.webhook_secret)
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] * 49 + [202], [r.text for r in responses if r.status_code not in (200, 202)]
    assert sum(r.json() == {"status": "duplicate"} for r in responses) == 49
    outcomes = list(WebhookDelivery.objects.filter(organization=org).values_list("outcome", flat=True))
    assert outcomes.count("accepted") == 1 and outcomes.count("duplicate") == 49
    assert Expense.objects.filter(organization=org).count() == 20
    assert set(Expense.objects.filter(organization=org).values_list("version", flat=True)) == {1}


@pytest.mark.postgres
@pytest.mark.skipif(not ON_POSTGRES, reason="SQLite serialises every writer, so it cannot show a race; "
                                          "set DATABASE_URL=postgres://… (CI does)")
@pytest.mark.django_db(transaction=True)
def test_concurrent_versions_and_shared_employees_settle_on_the_highest(live_server):
    org = make_org("race2")
    url = f"{live_server.url}/api/v1/expensico/webhooks/{org.slug}/"
    items = []
    for v in range(1, 9):  # eight versions of one report at once
        items.append((approved(report_payload(1, expenses=[expense_payload(1, version=v, amount=f"{v}.00")])),
                      f"v{v}"))
    for n in range(2, 18):  # other reports sharing the employee and category, at the same time
        items.append((approved(report_payload(n, expenses=[expense_payload(100 + n)])), f"r{n}"))
    responses = _post_many(url, items, org.webhook_secret)
    assert {r.status_code for r in responses} == {202}, [r.text for r in responses]
    assert Expense.objects.get(organization=org, expensico_id="exp_1").amount == Decimal("8.00")
    assert Employee.objects.filter(organization=org).count() == 1
    assert Expense.objects.filter(organization=org).count() == 17


@pytest.mark.django_db(transaction=True)
def test_simulated_stream_with_duplicates_and_reordering_matches_the_source(live_server):
    """The whole seeded organisation through real HTTP, each delivery possibly twice or swapped."""
    org = make_org("sim")
    ds = generate(seed=42, scale=40)
    url = f"{live_server.url}/api/v1/expensico/webhooks/{org.slug}/"
    statuses = send_webhooks(ds.events, url=url, secret=org.webhook_secret, seed=1, duplicates=0.2, reorder=0.3)
    assert set(statuses) <= {200, 202} and statuses[200] > 0
    assert statuses[202] == len(ds.events)
    live = sorted(Expense.objects.filter(organization=org, status="approved")
                  .values_list("expensico_id", "version", "amount"))
    assert live == sorted((e["id"], e["version"], Decimal(e["amount"])) for r in ds.reports for e in r["expenses"])
    cancelled_ids = {b["data"]["expense_id"] for _, t, b in ds.events if t == "expense.cancelled"}
    assert set(Expense.objects.filter(organization=org, status="cancelled")
               .values_list("expensico_id", flat=True)) == cancelled_ids
