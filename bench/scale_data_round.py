"""Tables that landed after the month's (scale_data_month.py), added to a built data set by
`extend` (each step only when its table is empty): the export records' status-change log, and the
anomaly flags with the detectors' settings and dismissals.

Sizes follow the records: every record that left `pending` has the change that took it there
(exported, needs review or cancelled: ~990,000 rows at 1M) and the records that needed review and
were then exported a second (one in three of them); one expense in a hundred carries an anomaly flag
(10,000 at 1M), one flag in ten was dismissed."""

import time


def _empty(cur, table: str) -> bool:
    cur.execute(f'SELECT NOT EXISTS (SELECT 1 FROM "{table}")')
    return cur.fetchone()[0]


def extend_round(log=print) -> None:
    from django.contrib.auth import get_user_model
    from django.db import connection as db
    from django.db import transaction

    started = time.monotonic()
    finance = get_user_model().objects.get(username="bench-finance")
    with transaction.atomic(), db.cursor() as cur:
        if _empty(cur, "exports_statuschange"):
            _status_changes(cur)
            log(f"  {'status-change log':<40} {time.monotonic() - started:6.1f} s")
        if _empty(cur, "exports_anomalyflag"):
            _anomalies(cur, finance)
            log(f"  {'anomaly flags, settings, dismissals':<40} {time.monotonic() - started:6.1f} s")
    with db.cursor() as cur:
        cur.execute("ANALYZE exports_statuschange; ANALYZE exports_anomalyflag; ANALYZE exports_anomalydismissal")


def _status_changes(cur) -> None:
    """pending → (the record's status) when its attempt finished; a third of the records that need
    review were exported once and then sent back (exported → needs review, by a person, with why)."""
    cur.execute(
        "INSERT INTO exports_statuschange (record_id, at, from_status, to_status, actor, why, why_message) "
        "SELECT r.id, COALESCE(r.exported_at, r.created_at + interval '1 minute'), 'pending', "
        "CASE WHEN r.status = 'needs_review' AND r.id % 3 = 0 THEN 'exported' ELSE r.status END, "
        "CASE WHEN r.status = 'cancelled' THEN 'bench-finance' ELSE '' END, "
        "CASE WHEN r.status = 'cancelled' THEN 'Duplicate of an earlier claim' ELSE '' END, '{}' "
        "FROM exports_exportrecord r WHERE r.status <> 'pending' ORDER BY r.id")
    cur.execute(
        "INSERT INTO exports_statuschange (record_id, at, from_status, to_status, actor, why, why_message) "
        "SELECT r.id, r.created_at + interval '2 days', 'exported', 'needs_review', 'bench-finance', "
        "'The vendor changed the amount: check it', '{}' "
        "FROM exports_exportrecord r WHERE r.status = 'needs_review' AND r.id % 3 = 0 ORDER BY r.id")


def _anomalies(cur, user) -> None:
    from exports.anomalies.detectors import DETECTORS

    keys = list(DETECTORS)
    detector = f"(ARRAY[{', '.join(repr(k) for k in keys)}])[(e.id / 100) % {len(keys)} + 1]"
    cur.execute(
        "INSERT INTO exports_anomalyflag (organization_id, expense_id, record_id, review_item_id, detector, pattern, "
        "score, explanation, explanation_message, context, status, decided_by_id, decided_by_label, decided_at, "
        "reason, created_at) "
        f"SELECT e.organization_id, e.id, r.id, NULL, {detector}, "
        "'employee:' || e.employee_id || ':merchant:' || md5(e.id::text), 3.5 + (e.id % 70)::float / 10, "
        "'Amount ' || e.amount || ' is ' || (4 + e.id % 9) || ' times the median of this employee''s last 90 days', "
        "'{}'::jsonb, "
        "jsonb_build_object('median', 120.5, 'mad', 30.2, 'amount', e.amount), "
        "CASE WHEN e.id % 1000 < 100 THEN 'dismissed' WHEN e.id % 1000 < 150 THEN 'confirmed' ELSE 'open' END, "
        f"CASE WHEN e.id % 1000 < 150 THEN {int(user.pk)} END, "
        f"CASE WHEN e.id % 1000 < 150 THEN '{user.username}' ELSE '' END, "
        "CASE WHEN e.id % 1000 < 150 THEN COALESCE(r.created_at, now()) + interval '1 day' END, "
        "CASE WHEN e.id % 1000 < 100 THEN 'Quarterly offsite: expected' ELSE '' END, "
        "COALESCE(r.created_at, now()) "
        "FROM source_expense e LEFT JOIN exports_exportrecord r ON r.expense_id = e.id "
        "WHERE e.id % 100 = 0 ORDER BY e.id")
    cur.execute(
        "INSERT INTO exports_anomalydismissal (organization_id, detector, pattern, score, reason, flag_id, by_id, "
        "by_label, created_at) "
        "SELECT f.organization_id, f.detector, f.pattern, f.score, f.reason, f.id, f.decided_by_id, "
        "f.decided_by_label, f.decided_at FROM exports_anomalyflag f WHERE f.status = 'dismissed' ORDER BY f.id")
    cur.execute(
        "INSERT INTO exports_anomalysetting (organization_id, detector, enabled, threshold, options, updated_at) "
        "SELECT o.id, d.key, d.n % 4 <> 3, NULL, '{}'::jsonb, now() FROM core_organization o, "
        f"unnest(ARRAY[{', '.join(repr(k) for k in keys)}]) WITH ORDINALITY AS d(key, n)")
