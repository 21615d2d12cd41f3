"""The accounting-exports, sync-runs and review-items API contract."""

import pytest
from django.urls import reverse

from expensico_sync.core.roles import Role
from expensico_sync.core.services import api_key_create
from exports.models import ExportRecord, ReviewItem
from exports.services.worker import records_work_due
from exports.transitions import Status
from tests.core.factories import make_member

from .conftest import approve, expense

pytestmark = pytest.mark.django_db
LIST = "/api/v1/accounting-exports"


@pytest.fixture
def api(client, org):
    _, key = api_key_create(organization=org, role=Role.FINANCE_ADMIN, name="erp")
    client.defaults["HTTP_AUTHORIZATION"] = f"Api-Key {key}"
    return client


def assert_error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["type"] in ("client_error", "validation_error") and body["errors"]
    if code:
        assert code in [e["code"] for e in body["errors"]], body


def test_list_filters_and_cursor_pagination(api, org, conn):
    approve(org, expense("exp_1"), expense("exp_2", category="MEALS"), expense("exp_3"))
    records_work_due()
    ExportRecord.objects.filter(source_id="exp_3").update(status=Status.NEEDS_REVIEW)  # a non-exported row keeps the filter honest
    body = api.get(LIST, {"status": "exported"}).json()
    assert {r["source_id"] for r in body["results"]} == {"exp_1", "exp_2"}
    assert api.get(LIST, {"employee": "emp_1", "kind": "expense"}).json()["results"]
    assert api.get(LIST, {"employee": "emp_nobody"}).json()["results"] == []
    assert api.get(LIST, {"date_from": "2026-11-03"}).json()["results"] == []
    page = api.get(LIST, {"limit": 2}).json()
    assert len(page["results"]) == 2 and page["next"]
    rest = api.get(page["next"]).json()
    assert len(rest["results"]) == 1 and rest["next"] is None


def test_get_one_shows_status_reference_and_attempts(api, org, conn):
    approve(org, expense("exp_1"))
    records_work_due()
    record = ExportRecord.objects.get()
    body = api.get(f"{LIST}/{record.pk}").json()
    assert body["status"] == "exported" and body["external_id"] == record.external_id
    assert body["reference"] == "EXPENSICO-exp_1-v1"
    assert [a["outcome"] for a in body["export_attempts"]] == ["exported"]
    assert body["entry_preview"]["currency"] == "SAR"


def test_post_exports_one_expense_idempotently(api, org, conn, django_capture_on_commit_callbacks):
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr("exports.services.records.enqueue_on_commit", lambda ids: None)  # nothing on approval
        approve(org, expense("exp_1"))
    ExportRecord.objects.all().delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(LIST, {"expense_id": "exp_1", "connection": conn.pk}, content_type="application/json")
    assert response.status_code == 201, response.content
    assert response.json()["status"] == "pending"  # recorded first; the worker runs after commit
    assert ExportRecord.objects.get(pk=response.json()["id"]).status == "exported"
    again = api.post(LIST, {"expense_id": "exp_1", "connection": conn.pk}, content_type="application/json")
    assert again.status_code == 200 and again.json()["id"] == response.json()["id"]


def test_post_refuses_unknown_and_cancelled_expenses_and_foreign_connections(api, org, conn):
    from tests.core.factories import make_org

    from .conftest import cancel
    from .factories import connection_for

    assert_error(api.post(LIST, {"expense_id": "exp_404", "connection": conn.pk}, content_type="application/json"),
                 404, "unknown_expense")
    assert_error(api.post(LIST, {"expense_id": "²", "connection": conn.pk}, content_type="application/json"),
                 404, "unknown_expense")      # "²".isdigit() is true, int("²") raises
    approve(org, expense("exp_1"))
    cancel(org)
    assert_error(api.post(LIST, {"expense_id": "exp_1", "connection": conn.pk}, content_type="application/json"),
                 409, "not_approved")
    other = connection_for(make_org("other"))
    assert_error(api.post(LIST, {"expense_id": "exp_1", "connection": other.pk}, content_type="application/json"),
                 400, "does_not_exist")


def test_put_callback_only_allows_legal_transitions(api, org, conn, vendor):
    approve(org, expense("exp_1"))
    vendor.faults = ["unknown"]
    records_work_due()
    record = ExportRecord.objects.get()
    assert record.status == Status.OUTCOME_UNKNOWN
    url = f"{LIST}/{record.pk}"
    assert_error(api.put(url, {"status": "cancelled"}, content_type="application/json"), 400)
    assert_error(api.put(url, {"status": "exported"}, content_type="application/json"), 400,
                 "external_id_required")
    ok = api.put(url, {"status": "exported", "external_id": "WQ-77"}, content_type="application/json")
    assert ok.status_code == 200 and ok.json()["status"] == "exported" and ok.json()["external_id"] == "WQ-77"
    assert api.put(url, {"status": "exported", "external_id": "WQ-77"}, content_type="application/json").status_code == 200
    assert_error(api.put(url, {"status": "needs_review", "detail": "x"}, content_type="application/json"), 409,
                 "illegal_transition")


def test_put_needs_a_writer(client, org, conn):
    _, key = api_key_create(organization=org, role=Role.VIEWER, name="viewer")
    approve(org, expense("exp_1"))
    record = ExportRecord.objects.get()
    response = client.put(f"{LIST}/{record.pk}", {"status": "exported", "external_id": "x"},
                          content_type="application/json", HTTP_AUTHORIZATION=f"Api-Key {key}")
    assert_error(response, 403)
    assert client.put(f"{LIST}/{record.pk}", {"status": "exported", "external_id": "x"},
                      content_type="application/json").status_code in (401, 403)


def test_delete_cancels_a_pending_job_only(api, org, conn):
    approve(org, expense("exp_1"), expense("exp_2"))
    pending = ExportRecord.objects.get(source_id="exp_1")
    response = api.delete(f"{LIST}/{pending.pk}")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    records_work_due()
    exported = ExportRecord.objects.get(source_id="exp_2")
    assert exported.status == Status.EXPORTED
    assert_error(api.delete(f"{LIST}/{exported.pk}"), 409, "not_cancellable")


def test_batch_gives_per_item_results(api, org, conn):
    approve(org, expense("exp_1"), expense("exp_2"))
    response = api.post(f"{LIST}/batch", {"expense_ids": ["exp_1", "exp_404", "exp_2"], "connection": conn.pk},
                        content_type="application/json")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert [r["ok"] for r in results] == [True, False, True]
    assert results[1]["error"]["code"] == "unknown_expense"
    assert_error(api.post(f"{LIST}/batch", {"expense_ids": [], "connection": conn.pk},
                          content_type="application/json"), 400)


def test_review_items_list_assign_resolve_retry(api, client, org, conn, vendor):
    make_member(org, Role.REVIEWER, "rita")
    approve(org, expense("exp_1", category="HOTEL"), expense("exp_2"), expense("exp_3"))
    vendor.faults = ["permanent", "permanent"]  # exp_2 and exp_3 rejected; exp_1 a mapping gap
    records_work_due()
    items = api.get("/api/v1/review-items", {"open": "true"}).json()["results"]
    assert sorted(i["reason"] for i in items) == ["mapping_gap", "validation", "validation"]
    gap = next(i for i in items if i["reason"] == "mapping_gap")
    by_ref = {i["reference"]: i for i in items}

    assigned = api.post(f"/api/v1/review-items/{gap['id']}/assign", {"owner": "rita"}, content_type="application/json")
    assert assigned.status_code == 200 and assigned.json()["owner"] == "rita"
    assert_error(api.post(f"/api/v1/review-items/{gap['id']}/assign", {"owner": "nobody"},
                          content_type="application/json"), 400, "unknown_owner")

    item2 = by_ref["EXPENSICO-exp_2-v1"]
    assert_error(api.post(f"/api/v1/review-items/{item2['id']}/resolve", {"resolution": "booked_manually"},
                          content_type="application/json"), 400)
    booked = api.post(f"/api/v1/review-items/{item2['id']}/resolve",
                      {"resolution": "booked_manually", "external_reference": "WQ-MANUAL-1"},
                      content_type="application/json")
    assert booked.status_code == 200 and booked.json()["record_status"] == "exported"
    assert ExportRecord.objects.get(source_id="exp_2").external_id == "WQ-MANUAL-1"

    item3 = by_ref["EXPENSICO-exp_3-v1"]
    retried = api.post(f"/api/v1/review-items/{item3['id']}/retry", content_type="application/json")
    assert retried.status_code == 200 and retried.json()["resolution"] == "retried"
    assert ExportRecord.objects.get(source_id="exp_3").status == Status.PENDING
    assert_error(api.post(f"/api/v1/review-items/{item3['id']}/retry", content_type="application/json"), 400)

    skipped = api.post(f"/api/v1/review-items/{gap['id']}/resolve", {"resolution": "skipped", "note": "personal"},
                       content_type="application/json")
    assert skipped.json()["record_status"] == "cancelled"
    assert ReviewItem.objects.filter(resolved_at__isnull=True).count() == 0


def test_sync_runs_create_and_read(api, org, conn):
    bad = api.post("/api/v1/sync-runs", {"connection": conn.pk, "date_from": "2026-11-05", "date_to": "2026-11-01"},
                   content_type="application/json")
    assert_error(bad, 400)
    approve(org, expense("exp_1"))
    response = api.post("/api/v1/sync-runs", {"connection": conn.pk, "date_from": "2026-11-01",
                                              "date_to": "2026-11-30"}, content_type="application/json")
    assert response.status_code == 201, response.content
    run_id = response.json()["id"]
    body = api.get(f"/api/v1/sync-runs/{run_id}").json()
    assert body["status"] == "queued"  # the task runs on commit (not inside this test transaction)
    assert api.get("/api/v1/sync-runs").json()["results"][0]["id"] == run_id


def test_openapi_documents_every_endpoint(api, client, org):
    from django.contrib.auth import get_user_model

    admin = get_user_model().objects.create_superuser("root", "r@example.com", "pw")
    client.force_login(admin)
    del client.defaults["HTTP_AUTHORIZATION"]
    schema = client.get(reverse("schema"), {"format": "json"}).json()
    paths = schema["paths"]
    for path, methods in {
        "/api/v1/accounting-exports": {"get", "post"},
        "/api/v1/accounting-exports/{id}": {"get", "put", "delete"},
        "/api/v1/accounting-exports/batch": {"post"},
        "/api/v1/sync-runs": {"get", "post"},
        "/api/v1/review-items/{id}/resolve": {"post"},
        "/api/v1/review-items/{id}/assign": {"post"},
        "/api/v1/review-items/{id}/retry": {"post"},
    }.items():
        found = next((p for p in paths if p.rstrip("/") == path), None)
        assert found, f"{path} missing from the schema: {sorted(paths)}"
        assert methods <= set(paths[found]), (path, paths[found].keys())
