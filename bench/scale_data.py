"""The year-of-data set for bench/scale.py, built inside PostgreSQL.

One template row per table is made through the ORM (so every NOT NULL column gets the model's
default), then copied N times with `INSERT … SELECT … FROM generate_series`, overriding the
columns that must vary. Foreign keys are checked by PostgreSQL as the rows go in, so the data set
is valid by construction. Organisation A holds 90 % of every table, B the rest.
"""

import time
from datetime import date, timedelta
from decimal import Decimal

CATEGORIES = 30
UNMAPPED = 5  # the last five categories of A have no mapping: gaps to find


def _sql(cursor, sql, params=()):
    cursor.execute(sql, params)


def clone(cursor, model, template_pk: int, series: str = "", where: str = "", source: str = "", **exprs) -> int:
    """Copies the template row once per value `g` of `series` (SQL, e.g. "0, 999"), or once per row
    of `source` (SQL for a derived table with a column `g`), with `exprs` (column -> SQL over g, t
    and the source's columns) overriding the copied values. Returns the first new id."""
    table = model._meta.db_table
    columns = [f.column for f in model._meta.concrete_fields if not f.primary_key]
    unknown = set(exprs) - set(columns)
    if unknown:
        raise ValueError(f"{table}: no column {sorted(unknown)}")
    select = [exprs.get(c, f't."{c}"') for c in columns]
    cursor.execute(f'SELECT COALESCE(MAX(id), 0) FROM "{table}"')
    first = cursor.fetchone()[0] + 1
    cursor.execute(
        f'INSERT INTO "{table}" ({", ".join(chr(34) + c + chr(34) for c in columns)}) '
        f'SELECT {", ".join(select)} FROM "{table}" t, {source or f"generate_series({series}) g"} '
        f"WHERE t.id = {int(template_pk)} {('AND ' + where) if where else ''} ORDER BY g")
    return first


def foreign_keys_revalidate(cursor, tables) -> None:
    """Re-creates every foreign key of `tables`: PostgreSQL checks each one with a single join over
    the table, where the row-by-row checks deferred to COMMIT took minutes per million rows."""
    cursor.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE contype = 'f' AND conrelid::regclass::text = ANY(%s) ORDER BY 1, 2",
                   [list(tables)])
    for table, name, definition in cursor.fetchall():
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}", ADD CONSTRAINT "{name}" {definition}')


def indexes_drop(cursor, tables) -> list[str]:
    """Drops the secondary indexes and unique constraints of `tables`; returns the statements that
    build them again. Kept while copying, each index took a random write per row once it outgrew
    the buffers (2.5M reports: 35× the time of 250k)."""
    cursor.execute("SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint "
                   "WHERE contype = 'u' AND conrelid::regclass::text = ANY(%s)", [list(tables)])
    uniques = cursor.fetchall()
    cursor.execute("SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index i "
                   "WHERE indrelid::regclass::text = ANY(%s) AND NOT indisprimary "
                   "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)", [list(tables)])
    indexes = cursor.fetchall()
    for table, name, _ in uniques:
        cursor.execute(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _ in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return [ddl for _, ddl in indexes] + [f'ALTER TABLE {t} ADD CONSTRAINT "{n}" {d}' for t, n, d in uniques]


def build(rows: int, log=print, lean: bool = False) -> dict:
    """`rows` expenses, export records and attempts; 2×rows call-log rows; rows/5 deliveries.
    `lean`: receipts, call-log rows and webhook deliveries as for at most a million expenses (the
    dashboard and the gaps read none of them in bulk), to reach 10M within the hour."""
    from django.contrib.auth import get_user_model
    from django.db import connection as db
    from django.db import transaction
    from django.utils import timezone

    from connectors.models import CallLog, Connection
    from connectors.registry import vendors
    from expensico_sync.core.models import Membership, Organization
    from expensico_sync.source.models import (
        BankStatementLine,
        Card,
        CardFunding,
        Category,
        Employee,
        Expense,
        ExpenseReport,
        Receipt,
        Reimbursement,
        WebhookDelivery,
    )
    from exports.models import ExportAttempt, ExportRecord, ReviewItem, SyncRun
    from mappings.models import CategoryMapping, TaxMapping

    n = rows
    employees = max(20, n // 500 // 10 * 10)
    reports = max(10, n // 4)
    today = date.today()
    now = timezone.now()
    started = time.monotonic()

    def step(label, first=None):
        log(f"  {label:<28} {time.monotonic() - started:6.1f} s")

    with transaction.atomic():
        orgs = [Organization.objects.create(name=name, slug=slug, mode=Organization.Mode.LIVE)
                for name, slug in (("Alpha Holding", "alpha"), ("Beta Trading", "beta"))]
        conns = [Connection.objects.create(
            organization=o, system=system, name=f"{o.name} books", base_url="http://127.0.0.1:1/",
            status=Connection.Status.CONNECTED, employee_claims_account="2100", employees_balance_account="1400",
            funding_bank_account="1000") for o, system in zip(orgs, [v.key for v in vendors()[:2]], strict=True)]
        user_model = get_user_model()
        superuser = user_model.objects.create_superuser("bench-super", "super@example.com", "bench-password-1")
        finance = user_model.objects.create_user("bench-finance", "fin@example.com", "bench-password-1",
                                                 is_staff=True)
        Membership.objects.create(user=finance, organization=orgs[0], role="finance_admin")

        # Templates: one valid row per table, then the copies.
        emp = Employee.objects.create(organization=orgs[0], expensico_id="emp_tpl", name="Template", email="t@x")
        cat = Category.objects.create(organization=orgs[0], expensico_id="cat_tpl", code="TPL", name="Template")
        card = Card.objects.create(organization=orgs[0], expensico_id="card_tpl", last4="0000", employee=emp)
        rep = ExpenseReport.objects.create(organization=orgs[0], expensico_id="rep_tpl", number="R-TPL", employee=emp,
                                           approved_at=now, currency="SAR", raw={"id": "rep_tpl", "expenses": []})
        exp = Expense.objects.create(organization=orgs[0], expensico_id="exp_tpl", report=rep, version=1,
                                     type="expense", date=today, merchant="Template", category=cat,
                                     funding_source="reimbursable", amount=Decimal("1"), currency="SAR",
                                     tax_code="VAT15", tax_rate=Decimal("15"), tax_amount=Decimal("0.13"),
                                     tax_inclusive=True, employee=emp, status="cancelled")
        o, c = orgs[0].pk, conns[0].pk
        ob, cb = orgs[1].pk, conns[1].pk

        def org_of(expr):  # B holds every tenth row
            return f"CASE WHEN ({expr}) % 10 = 0 THEN {ob} ELSE {o} END"

        cur = db.cursor()
        # Row-by-row foreign-key triggers off while copying; every key is re-checked in bulk below.
        cur.execute("SET CONSTRAINTS ALL IMMEDIATE")  # the template rows' checks now, not pending at the ALTER
        cur.execute("SET LOCAL session_replication_role = replica")
        side = min(n, 1_000_000) if lean else n
        rebuild = indexes_drop(cur, [m._meta.db_table for m in (
            ExpenseReport, Expense, Receipt, ExportRecord, ExportAttempt, ReviewItem, CallLog, WebhookDelivery)])
        emp0 = clone(cur, Employee, emp.pk, f"0, {employees - 1}", organization_id=org_of("g"),
                     expensico_id="'emp_' || g", name="'Employee ' || g", email="'e' || g || '@example.com'")
        cat_a = clone(cur, Category, cat.pk, f"0, {CATEGORIES - 1}", organization_id=str(o),
                      expensico_id="'cat_' || g", code="'C' || lpad(g::text, 2, '0')", name="'Category ' || g")
        cat_b = clone(cur, Category, cat.pk, f"0, {CATEGORIES - 1}", organization_id=str(ob),
                      expensico_id="'cat_' || g", code="'C' || lpad(g::text, 2, '0')", name="'Category ' || g")
        card0 = clone(cur, Card, card.pk, f"0, {employees - 1}", organization_id=org_of("g"),
                      expensico_id="'card_' || g", last4="lpad((g % 10000)::text, 4, '0')",
                      employee_id=f"{emp0} + g")
        step("employees, categories, cards")
        # Report r belongs to employee k with the same residue mod 10, so to the same organisation.
        emp_of_r = f"{emp0} + 10 * ((g / 10) % {employees // 10}) + g % 10"
        rep0 = clone(cur, ExpenseReport, rep.pk, f"0, {reports - 1}", organization_id=org_of("g"),
                     expensico_id="'rep_' || g", number="'R-' || lpad(g::text, 7, '0')", title="'Trip ' || g",
                     employee_id=emp_of_r,
                     approved_at=f"now() - ({reports} - g) * interval '{365 * 86400 // reports} seconds'",
                     raw="jsonb_build_object('id', 'rep_' || g, 'expenses', jsonb_build_array())")
        step(f"{reports:,} reports")
        r = "(g / 4)"
        org_e = org_of(r)
        exp0 = clone(
            cur, Expense, exp.pk, f"0, {n - 1}", organization_id=org_e, expensico_id="'exp_' || g",
            report_id=f"{rep0} + {r}", employee_id=f"{emp0} + 10 * (({r} / 10) % {employees // 10}) + {r} % 10",
            category_id=f"CASE WHEN {r} % 10 = 0 THEN {cat_b} ELSE {cat_a} END + g % {CATEGORIES}",
            card_id=f"CASE WHEN g % 3 = 0 THEN {card0} + 10 * (({r} / 10) % {employees // 10}) + {r} % 10 END",
            funding_source="CASE WHEN g % 3 = 0 THEN 'card' ELSE 'reimbursable' END",
            date=f"current_date - ((({n} - g)::bigint * 365) / {n})::int", merchant="'Merchant ' || (g % 5000)",
            description="'Expense ' || g", amount="((g % 9000) + 100)::numeric / 10",
            currency="CASE WHEN g % 20 = 0 THEN 'USD' ELSE 'SAR' END", status="'approved'")
        step(f"{n:,} expenses")
        clone(cur, Receipt, Receipt.objects.create(
            expense=exp, expensico_id="rcp_tpl", filename="r.pdf", content_type="application/pdf", size=1000,
            sha256="0" * 64, url="http://127.0.0.1:1/r.pdf", verified=True).pk,
            f"0, {side - 1}", where="g % 100 < 64", expense_id=f"{exp0} + g", expensico_id="'rcp_' || g",
            filename="'receipt-' || g || '.pdf'")
        step("receipts")
        # Export records: one per expense; 2 % needs review, 1 % pending, 1 % cancelled, the rest exported.
        status = ("CASE WHEN g % 100 < 2 THEN 'needs_review' WHEN g % 100 = 2 THEN 'pending' "
                  "WHEN g % 100 = 3 THEN 'cancelled' ELSE 'exported' END")
        tpl_record = ExportRecord.objects.create(
            organization=orgs[0], connection=conns[0], kind="expense", source_id="exp_tpl", expense=exp,
            employee=emp, document_date=today, reference="EXPENSICO-exp_tpl-v1", status="cancelled")
        created = f"now() - ({n} - g) * interval '{365 * 86400 // n} seconds'"
        rec0 = clone(cur, ExportRecord, tpl_record.pk, f"0, {n - 1}", organization_id=org_e,
                     connection_id=f"CASE WHEN {r} % 10 = 0 THEN {cb} ELSE {c} END", source_id="'exp_' || g",
                     expense_id=f"{exp0} + g", employee_id=f"{emp0} + 10 * (({r} / 10) % {employees // 10}) + {r} % 10",
                     document_date=f"current_date - ((({n} - g)::bigint * 365) / {n})::int",
                     reference="'EXPENSICO-exp_' || g || '-v1'", idempotency_key="gen_random_uuid()", status=status,
                     attempts="1", external_id="CASE WHEN g % 100 > 3 THEN 'WQ-' || g ELSE '' END",
                     exported_at=f"CASE WHEN g % 100 > 3 THEN {created} END", created_at=created,
                     updated_at=created, needs_reconcile="g % 1000 = 7",
                     warnings="CASE WHEN g % 500 = 5 THEN '[\"rounded\"]'::jsonb ELSE '[]'::jsonb END")
        step(f"{n:,} export records")
        tpl_attempt = ExportAttempt.objects.create(record=tpl_record, number=1, started_at=now, finished_at=now,
                                                   outcome="exported")
        clone(cur, ExportAttempt, tpl_attempt.pk, f"0, {n - 1}", record_id=f"{rec0} + g",
              started_at=created, finished_at=created,
              outcome="CASE WHEN g % 100 < 2 THEN 'needs_review' WHEN g % 100 > 3 THEN 'exported' ELSE 'retry' END",
              error_class="CASE WHEN g % 100 < 2 THEN 'Permanent' WHEN g % 100 <= 3 THEN 'Transient' ELSE '' END",
              external_id="CASE WHEN g % 100 > 3 THEN 'WQ-' || g ELSE '' END", duration_ms="g % 900")
        step(f"{n:,} attempts")
        tpl_item = ReviewItem.objects.create(organization=orgs[0], record=tpl_record, reason="validation",
                                             sla_due_at=now, resolution="skipped", resolved_at=now)
        clone(cur, ReviewItem, tpl_item.pk, f"0, {n - 1}", where="g % 100 < 2", organization_id=org_e,
              record_id=f"{rec0} + g", reason="CASE WHEN g % 200 < 2 THEN 'mapping_gap' ELSE 'validation' END",
              severity="'medium'", detail="'Rejected: field X ' || g", sla_due_at=f"{created} + interval '1 day'",
              resolution="''", resolved_at="NULL", created_at=created)
        step("review items")
        tpl_call = CallLog.objects.create(connection=conns[0], method="POST", path="/v1/expenses", status=201)
        calls = 2 * side
        clone(cur, CallLog, tpl_call.pk, f"0, {calls - 1}", connection_id=f"CASE WHEN g % 10 = 0 THEN {cb} ELSE {c} END",
              created_at=f"now() - ({calls} - g) * interval '{35 * 86400 * 1000 // calls} milliseconds'",
              method="CASE WHEN g % 4 = 0 THEN 'GET' ELSE 'POST' END",
              path="CASE WHEN g % 4 = 0 THEN '/v1/expenses?reference=EXPENSICO-exp_' || (g / 2) || '-v1' "
                   "ELSE '/v1/expenses' END",
              status="CASE WHEN g % 50 = 0 THEN 503 WHEN g % 4 = 0 THEN 200 ELSE 201 END",
              error_class="CASE WHEN g % 50 = 0 THEN 'Transient' ELSE '' END", duration_ms="g % 700",
              request_id="'req-' || g", idempotency_key="CASE WHEN g % 4 = 0 THEN '' ELSE md5(g::text) END",
              request_body="'{\"reference\": \"EXPENSICO-exp_' || (g / 2) || '-v1\", \"amount\": \"12.30\"}'",
              response_body="'{\"id\": \"WQ-' || g || '\"}'")
        step(f"{calls:,} call-log rows")
        tpl_hook = WebhookDelivery.objects.create(organization=orgs[0], webhook_id="msg_tpl", event_type="report.approved",
                                                  body='{"type": "report.approved"}', outcome="rejected",
                                                  headers={"webhook-id": "msg_tpl"})
        hooks = max(10, side // 5)
        clone(cur, WebhookDelivery, tpl_hook.pk, f"0, {hooks - 1}", organization_id=org_of("g"),
              webhook_id="'msg_' || g",
              received_at=f"now() - ({hooks} - g) * interval '{365 * 86400 // hooks} seconds'",
              event_type="(ARRAY['report.approved', 'expense.cancelled', 'card.funded', 'reimbursement.paid'])[g % 4 + 1]",
              outcome="CASE WHEN g % 100 = 0 THEN 'rejected' WHEN g % 25 = 0 THEN 'duplicate' ELSE 'accepted' END",
              signature_valid="g % 100 <> 0", reason="CASE WHEN g % 100 = 0 THEN 'bad signature' ELSE '' END",
              body="'{\"type\": \"report.approved\", \"data\": {\"id\": \"rep_' || (g / 1) || '\"}}'",
              headers="jsonb_build_object('webhook-id', 'msg_' || g)")
        step(f"{hooks:,} webhook deliveries")
        small = max(10, n // 100)
        tpl_fund = CardFunding.objects.create(organization=orgs[0], expensico_id="fund_tpl", card=card, employee=emp,
                                              direction="in", amount=Decimal("100"), currency="SAR", date=today)
        clone(cur, CardFunding, tpl_fund.pk, f"0, {small - 1}", organization_id=org_of("g"),
              expensico_id="'fund_' || g", card_id=f"{card0} + 10 * ((g / 10) % {employees // 10}) + g % 10",
              employee_id=f"{emp0} + 10 * ((g / 10) % {employees // 10}) + g % 10",
              date="current_date - (g % 365)", bank_reference="'BR-F-' || g")
        tpl_reimb = Reimbursement.objects.create(organization=orgs[0], expensico_id="reimb_tpl", employee=emp,
                                                 amount=Decimal("100"), currency="SAR", date=today)
        clone(cur, Reimbursement, tpl_reimb.pk, f"0, {small - 1}", organization_id=org_of("g"),
              expensico_id="'reimb_' || g", employee_id=f"{emp0} + 10 * ((g / 10) % {employees // 10}) + g % 10",
              date="current_date - (g % 365)", bank_reference="'BR-R-' || g")
        tpl_line = BankStatementLine.objects.create(organization=orgs[0], expensico_id="bsl_tpl", bank_account_id="ba_1",
                                                    currency="SAR", date=today, amount=Decimal("1"), balance=Decimal("1"))
        clone(cur, BankStatementLine, tpl_line.pk, f"0, {small - 1}", organization_id=org_of("g"),
              expensico_id="'bsl_' || g", bank_account_id="'ba_' || (g % 3)", date="current_date - (g % 365)",
              description="'Card top-up ' || g", reference="'REF-' || g", bank_reference="'BR-S-' || g")
        step("fundings, reimbursements, statement lines")
        for i in range(3):
            SyncRun.objects.create(organization=orgs[0], connection=conns[0], date_from=today - timedelta(days=30),
                                   date_to=today, status="finished", found=100 + i)
        # bulk_create_with_history: versioned like a person's edits, without the post_save announcement
        # that would re-queue the review items built above.
        from simple_history.utils import bulk_create_with_history

        for org, conn in zip(orgs, conns, strict=True):
            first_cat = cat_a if org.pk == o else cat_b
            codes = Category.objects.filter(pk__gte=first_cat, pk__lt=first_cat + CATEGORIES - UNMAPPED,
                                            organization=org).values_list("code", flat=True)
            bulk_create_with_history([CategoryMapping(organization=org, connection=conn, category_code=code,
                                                      account=f"6{code[1:]}00") for code in codes], CategoryMapping)
            bulk_create_with_history([TaxMapping(organization=org, connection=conn, tax_code="VAT15",
                                                 tax_rate="tr-15")], TaxMapping)
        step("mappings")
        cur.execute("SET LOCAL maintenance_work_mem = '512MB'")
        for ddl in rebuild:
            cur.execute(ddl)
        step(f"{len(rebuild)} indexes built")
        cur.execute("SET LOCAL session_replication_role = origin")
        foreign_keys_revalidate(cur, [m._meta.db_table for m in (
            Employee, Category, Card, ExpenseReport, Expense, Receipt, ExportRecord, ExportAttempt, ReviewItem,
            CallLog, WebhookDelivery, CardFunding, Reimbursement, BankStatementLine)])
        step("foreign keys checked")
    with db.cursor() as cur:
        cur.execute("ANALYZE")
    step("ANALYZE")
    return {"superuser": superuser.username, "finance": finance.username, "orgs": [x.pk for x in orgs],
            "connections": [x.pk for x in conns]}
