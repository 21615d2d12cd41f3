"""The month's tables for bench/scale.py, added to a built data set (`build` calls it; `--extend`
adds it to a kept one): reconciliations with their rows and differences, month closes with signed
checklists and history, coding rules, categoriser versions and corrections, suggested codings, hold
releases, the notification outbox and the caught mail, scheduled and generated reports, access
reviews, retention settings and backup runs.

Sizes follow `rows` (the expenses) where the table grows with the business: 5 % of a connection's
records have a reconciliation difference, 1 % a coding correction, 10 % a notification; the rest
are a year of monthly or daily runs. Big tables are copied inside PostgreSQL from a template row,
as in scale_data.py."""

import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

from bench.scale_data import clone

MONTHS = 12
RULES_PER_5000 = 1          # coding rules: 200 per connection at 1M expenses


def months_back(today: date, count: int) -> list[date]:
    months, day = [], today.replace(day=1)
    for _ in range(count):
        months.append(day)
        day = (day - timedelta(days=1)).replace(day=1)
    return months


def present(cursor) -> bool:
    cursor.execute("SELECT EXISTS (SELECT 1 FROM exports_reconciliation)")
    return cursor.fetchone()[0]


def extend(rows: int, log=print, mail_dir: Path | None = None) -> None:
    """Fills the month's tables of a data set built by scale_data.build (idempotent: does nothing
    when reconciliations are already there)."""
    from django.contrib.auth import get_user_model
    from django.db import connection as db
    from django.db import transaction

    from connectors.models import Connection

    started = time.monotonic()

    def step(label):
        log(f"  {label:<40} {time.monotonic() - started:6.1f} s")

    with db.cursor() as cur:
        if present(cur):
            log("  month tables already filled")
            return
    users = get_user_model().objects
    superuser, finance = users.get(username="bench-super"), users.get(username="bench-finance")
    conns = list(Connection.objects.select_related("organization").order_by("pk"))
    with transaction.atomic():
        cur = db.cursor()
        _reconciliations(cur, conns, rows, superuser)
        step(f"reconciliations ({rows // 20:,} differences)")
        _closes(conns, finance)
        step("month closes")
        _coding(cur, conns, rows, finance)
        step("coding rules, models, corrections")
        _holds(cur, rows, finance)
        step("suggested codings, hold releases")
        _notifications(cur, rows, superuser, finance, [c.organization_id for c in conns])
        step(f"{rows // 10:,} notifications")
        _operations(conns, superuser)
        step("reports, access reviews, retention, backups")
    with db.cursor() as cur:
        cur.execute("ANALYZE")
    if mail_dir is not None:
        caught_mail_write(mail_dir, min(5000, max(20, rows // 200)))
        step("caught mail")


def _reconciliations(cur, conns, rows, user) -> None:
    """Per connection and month, an earlier run and the latest one; 56 rows each (three control
    accounts and 25 expense accounts, in two currencies); the latest run of a month holds a
    difference for every twentieth record of that month."""
    from django.utils import timezone

    from exports.models import Reconciliation, ReconciliationDifference, ReconciliationRow

    now = timezone.now()
    runs = []
    for conn in conns:
        for period in reversed(months_back(date.today(), MONTHS)):
            for attempt in range(2):
                runs.append(Reconciliation(
                    organization_id=conn.organization_id, connection=conn, period=period,
                    status=Reconciliation.Status.FINISHED, requests_used=40 + attempt, created_by=user,
                    created_by_label=user.username, started_at=now, finished_at=now,
                    inputs={"documents": 1000, "accounts": ["1400", "2100", "1000"]}))
    Reconciliation.objects.bulk_create(runs)
    kinds = ([("employees_balance", "1400"), ("employee_claims", "2100"), ("funding_bank", "1000")]
             + [("expense", f"6{i:02d}00") for i in range(25)])
    ReconciliationRow.objects.bulk_create([
        ReconciliationRow(reconciliation=run, account_kind=kind, account=account, currency=currency,
                          expensico=Decimal("1000.000"), booked=Decimal("1000.000"),
                          vendor=Decimal("1000.000") + (Decimal("12.500") if i % 7 == 0 else 0),
                          difference=Decimal("12.500") if i % 7 == 0 else Decimal("0"))
        for run in runs for i, (kind, account) in enumerate(kinds) for currency in ("SAR", "USD")])
    tpl = ReconciliationDifference.objects.create(reconciliation=runs[-1], kind="not_exported", currency="SAR")
    # The latest run of each (connection, month): the differences hang there.
    source = (
        "(SELECT r.id AS g, r.id AS record_id, r.reference, r.external_id, r.source_id, r.status, "
        "latest.id AS run FROM exports_exportrecord r "
        "JOIN (SELECT connection_id, period, max(id) AS id FROM exports_reconciliation "
        "GROUP BY connection_id, period) latest ON latest.connection_id = r.connection_id "
        "AND latest.period = date_trunc('month', r.document_date)::date "
        "WHERE r.id % 20 = 0 OR (r.status IN ('needs_review', 'pending') AND r.id % 4 = 0)) s")
    kind = ("CASE WHEN s.status = 'needs_review' THEN 'held_in_review' WHEN s.status = 'pending' THEN "
            "'not_exported' ELSE (ARRAY['missing_in_vendor', 'amount_differs', 'extra_in_vendor'])"
            "[(s.g / 20) % 3 + 1] END")
    clone(cur, ReconciliationDifference, tpl.pk, source=source, reconciliation_id="s.run", kind=kind,
          currency="'SAR'", reference="s.reference", external_id="s.external_id", record_id="s.record_id",
          source_kind="'expense'", source_id="s.source_id", expected="((s.g % 9000) + 100)::numeric / 10",
          actual="CASE WHEN s.status = 'exported' THEN ((s.g % 9000) + 100)::numeric / 10 + 1 END",
          detail="'Differs at the vendor: ' || s.reference",
          explanation="CASE WHEN s.g % 100 < 30 THEN 'Timing: booked in the next month' ELSE '' END",
          explained_by_id=f"CASE WHEN s.g % 100 < 30 THEN {user.pk} END",
          explained_by_label=f"CASE WHEN s.g % 100 < 30 THEN '{user.username}' ELSE '' END",
          explained_at="CASE WHEN s.g % 100 < 30 THEN now() END")
    tpl.delete()


def _checklist(period: date) -> list[dict]:
    details = [f"exp_{period:%Y%m}_{i}" for i in range(50)]
    return [{"key": key, "label": label, "ok": True, "summary": "ok", "count": 0, "url": "", "details": details}
            for key, label in (("expenses_settled", "Every approved expense exported"), ("review_sla", "SLA"),
                               ("receipts", "Receipts"), ("mappings", "No unmapped categories"),
                               ("statement", "Statement complete"), ("reconciliation", "Reconciled"))]


def _closes(conns, user) -> None:
    """Every month of the year signed off but the last two (open), with the checklist as signed."""
    from django.utils import timezone
    from simple_history.utils import bulk_create_with_history

    from exports.models import MonthClose

    now = timezone.now()
    closes = []
    for org_id in sorted({c.organization_id for c in conns}):
        for i, period in enumerate(months_back(date.today(), MONTHS)):
            signed = i >= 2
            closes.append(MonthClose(organization_id=org_id, period=period,
                                     status="signed_off" if signed else "open",
                                     checklist=_checklist(period) if signed else [],
                                     signed_off_by=user if signed else None,
                                     signed_off_by_label=user.username if signed else "",
                                     signed_off_at=now if signed else None,
                                     comment="Signed off after review" if signed else ""))
    bulk_create_with_history(closes, MonthClose, default_user=user)


def _model_blob(conn) -> bytes:
    """A real categoriser (loaded by every resolve that consults the promoted model), trained on
    2,000 of the connection's expenses labelled by their category's account."""
    from expensico_sync.source.models import Expense
    from mappings import documents
    from mappings.categoriser import fit

    expenses = (Expense.objects.filter(organization_id=conn.organization_id)
                .select_related("report", "category", "employee", "card").prefetch_related("receipts")
                .order_by("-id")[:2000])
    docs = [documents.document_from_expense(e) for e in expenses]
    labels = [f"6{int(d.category_code[1:]) % 25:02d}00" if d.category_code[1:].isdigit() else "60000" for d in docs]
    return fit(docs, labels, {label: f"Account {label}" for label in set(labels)}).dumps()


def _coding(cur, conns, rows, user) -> None:
    import sklearn
    from django.utils import timezone
    from simple_history.utils import bulk_create_with_history

    from mappings.models import CategoriserModel, CodingCorrection, CodingRule

    now = timezone.now()
    per_conn = max(10, rows // 5000 * RULES_PER_5000)
    for conn in conns:
        bulk_create_with_history([CodingRule(
            organization_id=conn.organization_id, connection=conn, name=f"Rule {i}", position=i, active=i % 5 != 4,
            merchant=f"Merchant {i * 7 % 5000}", merchant_match="exact" if i % 3 else "contains",
            amount_min=Decimal("50") if i % 4 == 0 else None, categories=[f"C{i % 30:02d}"] if i % 2 else [],
            account=f"6{i % 25:02d}00", account_name=f"Account {i % 25}", hold=i % 10 == 9,
            hold_reason="Check with the cost centre" if i % 10 == 9 else "")
            for i in range(per_conn)], CodingRule, default_user=user)
        blob = _model_blob(conn)
        for version in range(1, MONTHS + 1):
            CategoriserModel.objects.create(
                connection=conn, version=version, status="promoted" if version == MONTHS else "retired",
                trained_at=now - timedelta(days=30 * (MONTHS - version)), training_size=rows // 2,
                heldout_size=2000, heldout_accuracy=0.8 + version / 100, coverage=0.6, precision_at_threshold=0.95,
                heldout_ids=[f"exp_{i}" for i in range(2000)], sklearn_version=sklearn.__version__, blob=blob)
    tpl = CodingCorrection.objects.create(connection=conns[0], source_id="exp_tpl", account="60000",
                                          accepted=True, by=user, by_label=user.username)
    corrections = max(10, rows // 100)
    clone(cur, CodingCorrection, tpl.pk, f"0, {corrections - 1}",
          organization_id=f"CASE WHEN g % 10 = 0 THEN {conns[1].organization_id} ELSE {conns[0].organization_id} END",
          connection_id=f"CASE WHEN g % 10 = 0 THEN {conns[1].pk} ELSE {conns[0].pk} END",
          source_id=f"'exp_' || (g * {max(1, rows // corrections)})",
          account="'6' || lpad((g % 25)::text, 2, '0') || '00'", account_name="'Account ' || (g % 25)",
          predicted_account="'6' || lpad(((g + g % 4 / 3) % 25)::text, 2, '0') || '00'",
          predicted_probability="0.5 + (g % 50)::float / 100", model_version=str(MONTHS), accepted="g % 4 <> 3",
          created_at=f"now() - ({corrections} - g) * interval '{365 * 86400 // corrections} seconds'")
    tpl.delete()


def _holds(cur, rows, user) -> None:
    """Suggested codings (open, on pending records) and hold releases (resolved hold items on
    exported records, half of them released by a second approver), one per thousand records each."""
    from exports.models import HoldRelease, ReviewItem

    first = ReviewItem.objects.order_by("pk").values_list("pk", flat=True).first()
    tpl = ReviewItem.objects.get(pk=first)
    records = ("(SELECT * FROM (SELECT id AS g, id AS record_id, organization_id, created_at, "
               "row_number() OVER (ORDER BY id) AS n FROM exports_exportrecord WHERE status = '{status}') x "
               "WHERE n % {every} = 0) s")
    clone(cur, ReviewItem, tpl.pk, source=records.format(status="pending", every=10), organization_id="s.organization_id",
          record_id="s.record_id", reason="'suggested_coding'", severity="'low'", detail="'Suggested: Account 3'",
          context="jsonb_build_object('account', '60300', 'account_name', 'Account 3', 'probability', 0.71, "
                  f"'model_version', {MONTHS})", sla_due_at="s.created_at + interval '3 days'", resolution="''",
          resolution_note="''", resolved_at="NULL", resolved_by_id="NULL", created_at="s.created_at")
    clone(cur, ReviewItem, tpl.pk, source=records.format(status="exported", every=1000),
          organization_id="s.organization_id", record_id="s.record_id", reason="'hold_rule'", severity="'medium'",
          detail="'Held by rule: check with the cost centre'", sla_due_at="s.created_at + interval '1 day'",
          resolution="'released'", resolution_note="'Approved'", resolved_at="s.created_at + interval '2 hours'",
          resolved_by_id=str(user.pk), resolved_by_label=f"'{user.username}'", created_at="s.created_at")
    held = "(SELECT i.id AS g, i.id AS item, i.record_id, i.organization_id, i.created_at FROM exports_reviewitem i " \
           "WHERE i.reason = 'hold_rule' AND i.resolution = 'released'{extra}) s"
    for step in (1, 2):
        cur.execute(
            "INSERT INTO exports_holdrelease (organization_id, record_id, review_item_id, approver_id, approver_label, "
            "role, step, released, note, amount, created_at) "
            f"SELECT s.organization_id, s.record_id, s.item, {int(user.pk)}, '{user.username}', 'finance_admin', {step}, "
            f"{'s.g % 2 = 1' if step == 1 else 'true'}, 'ok', 1200, s.created_at + interval '{step} hours' "
            f"FROM {held.format(extra='' if step == 1 else ' AND i.id % 2 = 0')}")
    assert HoldRelease.objects.exists() or rows < 1000


def _notifications(cur, rows, superuser, finance, orgs) -> None:
    from expensico_sync.notify.models import Notification

    tpl = Notification.objects.create(user=finance, kind="review.past_sla", incident="tpl", mode="immediate",
                                      subject="Template", body_text="Template", status="sent")
    count = max(10, rows // 10)
    created = f"now() - ({count} - g) * interval '{365 * 86400 // count} seconds'"
    clone(cur, Notification, tpl.pk, f"0, {count - 1}",
          organization_id=f"CASE WHEN g % 10 = 0 THEN {orgs[1]} ELSE {orgs[0]} END",
          user_id=f"CASE WHEN g % 3 = 0 THEN {superuser.pk} ELSE {finance.pk} END",
          kind="(ARRAY['review.past_sla', 'connection.breaker_opened', 'report.ready', "
               "'connection.stalled'])[g % 4 + 1]",
          incident="'inc-' || g", mode="CASE WHEN g % 5 = 0 THEN 'digest' ELSE 'immediate' END",
          subject="'Review item past its SLA: EXPENSICO-exp_' || g || '-v1'",
          body_text="'A review item is past its SLA. Open it: https://sync.example.com/admin/ ' || g",
          link="'/admin/exports/reviewitem/' || g || '/change/'",
          status="CASE WHEN g % 100 = 0 THEN 'failed' WHEN g % 5 = 0 THEN 'digested' "
                 "WHEN g > " + str(count - 20) + " THEN 'pending' ELSE 'sent' END",
          attempts="1", created_at=created, send_after=created, sent_at=created)
    tpl.delete()


def _operations(conns, user) -> None:
    from django.utils import timezone
    from simple_history.utils import bulk_create_with_history

    from expensico_sync.access_reviews.models import AccessReview
    from expensico_sync.backups.models import BackupRun
    from expensico_sync.retention.models import RetentionSettings
    from exports.models import GeneratedReport, ReportSchedule

    now = timezone.now()
    for conn in conns:
        org_id = conn.organization_id
        schedules = ReportSchedule.objects.bulk_create([
            ReportSchedule(organization_id=org_id, report=report, format="xlsx" if i % 2 else "csv",
                           cadence="monthly" if i % 3 else "weekly", day=1 + i % 7,
                           connection=conn if report == "evidence_pack" else None, created_by=user)
            for i, report in enumerate([r for r, _ in ReportSchedule.Report.choices] * 3)])
        GeneratedReport.objects.bulk_create([
            GeneratedReport(schedule=schedules[i % len(schedules)], organization_id=org_id,
                            filename=f"report-{i}.xlsx", content_type="application/octet-stream",
                            file=f"reports/2026/11/report-{org_id}-{i}.xlsx", sha256="0" * 64,
                            expires_at=now + timedelta(days=7 - i % 14))
            for i in range(400)])
        members = [{"user": f"member{i}", "email": f"m{i}@example.com", "role": "viewer", "mfa": i % 4 != 0,
                    "last_login": "2026-11-01T09:00:00+00:00", "member_since": "2025-01-01T09:00:00+00:00"}
                   for i in range(60)]
        keys = [{"name": f"key {k}", "prefix": f"pfx{k}", "role": "viewer", "revoked": k == 4,
                 "created": "2026-01-01T09:00:00+00:00", "age_days": 300, "last_used": None} for k in range(5)]
        bulk_create_with_history([
            AccessReview(organization_id=org_id, status="confirmed" if i else "open",
                         due_at=now - timedelta(days=90 * i - 14), members=members,
                         api_keys=keys,
                         findings=[f"member{k} has no second factor enrolled" for k in range(0, 60, 4)],
                         confirmed_by=user if i else None, confirmed_at=now if i else None)
            for i in range(8)], AccessReview, default_user=user)
        RetentionSettings.objects.get_or_create(organization_id=org_id, defaults={"months": {}})
    BackupRun.objects.bulk_create([
        BackupRun(kind="drill" if i % 7 == 0 else "backup", status="failed" if i % 50 == 0 else "ok",
                  name=f"expensico-{i}.dump.age", target="s3://backups/expensico/", size=10 ** 9 + i,
                  sha256=f"{i:064x}", row_counts={"exports_exportrecord": 10 ** 6}, finished_at=now)
        for i in range(365)])


def caught_mail_write(directory: Path, count: int) -> None:
    """`count` caught messages as the development mail catcher keeps them (one .eml file each)."""
    from email.message import EmailMessage

    directory.mkdir(parents=True, exist_ok=True)
    if any(directory.glob("*.eml")):
        return
    base = time.time_ns() - count * 60 * 10 ** 9
    for i in range(count):
        message = EmailMessage()
        message["From"], message["To"] = "sync@example.com", f"m{i % 60}@example.com"
        message["Subject"] = f"Review item past its SLA: EXPENSICO-exp_{i}-v1"
        message.set_content(f"A review item is past its SLA.\n\nOpen it: https://sync.example.com/admin/ {i}\n" * 5)
        message.add_alternative(f"<p>A review item is past its SLA. <a href='/admin/'>Open it</a> {i}</p>" * 5,
                                subtype="html")
        (directory / f"{base + i * 60 * 10 ** 9}-{i:08x}.eml").write_bytes(bytes(message))
