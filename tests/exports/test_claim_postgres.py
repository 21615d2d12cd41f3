"""Concurrent claimers on PostgreSQL get disjoint records (FOR UPDATE SKIP LOCKED)."""

import threading

import pytest
from django.db import connection, connections

from exports.models import ExportRecord
from exports.services.claiming import records_claim_due

from .factories import make_record

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.mark.skipif(connection.vendor != "postgresql",
                    reason="SKIP LOCKED needs row locks; SQLite serialises writers instead (covered by CAS tests)")
def test_parallel_claims_never_overlap(org):
    from django.utils import timezone

    for _ in range(200):
        make_record(org, next_attempt_at=timezone.now())
    results, barrier = [], threading.Barrier(4)

    def claimer():
        try:
            barrier.wait()
            mine = []
            while batch := records_claim_due(limit=7):
                mine.extend(r.pk for r in batch)
            results.append(mine)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    claimed = [pk for mine in results for pk in mine]
    assert len(claimed) == len(set(claimed)) == 200
    assert all(len(mine) > 0 for mine in results)  # the work really was shared
    assert ExportRecord.objects.filter(status="in_progress").count() == 200
