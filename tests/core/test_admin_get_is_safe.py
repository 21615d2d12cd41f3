"""Every state change in the admin is a POST (issue 14, item 3).

One test walks every URL pattern admin.site serves, fills its arguments with real rows of a
seeded organisation, GETs it as a superuser and checks that no row anywhere changed and nothing
answered 500. A new admin screen or action is covered the moment it registers.
"""

import hashlib
import re
from datetime import timedelta

import pytest
from allauth.account.models import EmailAddress
from allauth.mfa.totp.internal.auth import TOTP, generate_totp_secret
from django.apps import apps
from django.contrib import admin
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.urls import URLResolver, reverse
from django.urls.resolvers import RegexPattern
from django.utils import timezone
from django_q.models import OrmQ, Schedule, Task

import expensico_sync.urls  # noqa: F401  (registers every admin)
from connectors.models import Connection
from expensico_sync.core.models import Organization
from expensico_sync.source.models import PullSync
from exports.models import ExportRecord, ReviewItem
from exports.transitions import Status
from tests.conftest import admin_confirm
from tests.core.factories import make_org, make_user
from tests.exports.factories import make_record
from tests.registry import load_all

pytestmark = pytest.mark.django_db
FACTORIES = load_all()
ARG = re.compile(r"<(?:\w+:)?(\w+)>")
STATE_CHANGING = ["core_organization_rotate_webhook_secret", "exports_exportrecord_retry_now",
                  "exports_exportrecord_cancel_record", "exports_exportrecord_re_export",
                  "exports_reviewitem_retry_one", "exports_reviewitem_acknowledge_one",
                  "connectors_connection_test_connection", "connectors_connection_reset_breaker",
                  "source_pullsync_run_now", "mappings_remotecatalogitem_refresh_catalogs"]


def snapshot() -> dict[str, tuple[int, str]]:
    """Row count and a digest of every row, per table (sessions excluded: a GET may carry messages)."""
    state = {}
    for model in apps.get_models(include_auto_created=True):
        if model is Session:
            continue
        rows = list(model._base_manager.order_by("pk").values_list())
        state[model._meta.db_table] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return state


@pytest.fixture
def seeded(db, monkeypatch):
    # The walk takes minutes on a loaded box: keep the gaps cache "fresh" throughout, so a page does
    # not legitimately schedule its background refresh (a django_q task row) halfway through.
    monkeypatch.setattr("mappings.dashboard.GAPS_FRESH_SECONDS", 24 * 3600)
    monkeypatch.setattr("expensico_sync.core.dashboard.DASHBOARD_FRESH_SECONDS", 24 * 3600)
    # The first dashboard is computed in the request, not queued (a queued task is a row).
    monkeypatch.setattr("expensico_sync.core.dashboard.DASHBOARD_WAIT_RELOADS", 0)
    # Likewise an open month's checklist: the page queues its background computation (inline under
    # pytest); the walk checks what the GET itself does, so the worker is not run here.
    monkeypatch.setattr("exports.snapshots.services.async_task", lambda *args, **kwargs: None)
    org = make_org("walk")
    conn = FACTORIES[Connection](org)
    for model in admin.site._registry:
        if model in FACTORIES:  # some factories make their own connection: one organisation each
            FACTORIES[model](make_org(f"walk-{model._meta.model_name}"))
    # Rows every action would visibly change if a GET ran it.
    # Closed breaker with failures counted: a GET that called the vendor or reset it would show.
    Connection.objects.filter(pk=conn.pk).update(consecutive_failures=2)
    review = make_record(org, status=Status.NEEDS_REVIEW, connection=conn)
    ReviewItem.objects.create(organization=org, record=review, reason="validation", detail="rejected",
                              sla_due_at=timezone.now() + timedelta(hours=24))
    make_record(org, status=Status.PENDING, connection=conn)
    warned = make_record(org, status=Status.EXPORTED, connection=conn, external_id="V-1")
    ReviewItem.objects.create(organization=org, record=warned, reason="vendor_warning", detail="saved as draft",
                              severity="low", sla_due_at=timezone.now() + timedelta(hours=72))
    FACTORIES[PullSync](org)
    operator = make_user("operator", is_staff=True, is_superuser=True)
    Group.objects.create(name="operators")
    EmailAddress.objects.create(user=operator, email="operator@example.com", primary=True, verified=True)
    TOTP.activate(make_user("enrolled", is_staff=True), generate_totp_secret())
    Schedule.objects.create(func="math.floor", args="1")
    for ok in (True, False):
        Task.objects.create(id=f"task{ok}", name=f"task-{ok}", func="math.floor", started=timezone.now(),
                            stopped=timezone.now(), success=ok)
    OrmQ.objects.create(key="expensico", payload="x", lock=timezone.now())
    return org, operator


def _object(model):
    rows = model._base_manager.order_by("pk")
    if any(f.name == "organization" for f in model._meta.concrete_fields):
        rows = rows.filter(organization__slug="walk") or rows
    return rows.first()


def _value(name, obj) -> str:
    if name in ("object_id", "pk", "id"):
        return str(obj.pk)
    if name == "fmt":
        return "csv"
    if name == "org_id":          # the close's month pages: organisation × month × connection
        return str(obj.organization_id)
    if name == "period":
        return f"{obj.period:%Y-%m}"
    if name == "connection_id":
        return str(Connection.objects.filter(organization_id=obj.organization_id).values_list("pk", flat=True)
                   .first() or 0)
    raise AssertionError(f"the walk does not know how to fill <{name}> in an admin URL: teach it")


def _urls(patterns, prefix, model):
    """Concrete URLs for every pattern, arguments filled from the newest row of `model`."""
    obj = _object(model) if model else None
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            continue  # model admins are walked with their own model
        route = str(pattern.pattern)
        if isinstance(pattern.pattern, RegexPattern):  # simple-history's revert form, app index, catch-all
            regex = pattern.pattern.regex
            if "url" in regex.groupindex:
                yield f"{prefix}no-such-page/"
                continue
            if "app_label" in regex.groupindex:
                for label in route.split("(?P<app_label>")[1].split(")")[0].split("|"):
                    yield f"{prefix}{label}/"
                continue
            history = getattr(obj, "history", None)
            if obj is None or history is None or not history.exists():
                continue
            yield prefix + f"{obj.pk}/history/{history.first().history_id}/"
            continue
        names = ARG.findall(route)
        if obj is None and names and model is not None:
            continue
        if names == ["content_type_id", "object_id"]:  # view on site
            org = Organization.objects.get(slug="walk")
            yield f"{prefix}r/{ContentType.objects.get_for_model(org).pk}/{org.pk}/"
            continue
        yield prefix + ARG.sub(lambda m: _value(m.group(1), obj), route)


def every_admin_url():
    urls = list(_urls(admin.site.get_urls(), "/admin/", None))
    for model, model_admin in admin.site._registry.items():
        opts = model._meta
        urls += list(_urls(model_admin.get_urls(), f"/admin/{opts.app_label}/{opts.model_name}/", model))
    return urls


def test_no_admin_get_changes_anything(client, seeded):
    _, operator = seeded
    client.force_login(operator)
    client.raise_request_exception = False  # collect every 500, not just the first
    before = snapshot()
    urls = every_admin_url()
    for name in STATE_CHANGING:  # the walk reaches every state-changing action
        action_path = reverse(f"admin:{name}", args=[] if "refresh" in name else [0]).rsplit("/", 2)[1]
        assert any(u.endswith(f"/{action_path}/") for u in urls), name
    errors = {}
    for url in urls:
        response = client.get(url)
        if response.status_code >= 500:
            errors[url] = response.status_code
    assert errors == {}
    after = snapshot()
    changed = sorted(table for table in before if before[table] != after[table])
    assert changed == []


@pytest.mark.parametrize("name", STATE_CHANGING)
def test_state_changing_action_get_asks_with_a_post_form(client, seeded, name):
    org, operator = seeded
    client.force_login(operator)
    args = [] if "refresh" in name else [_target(org, name).pk]
    response = client.get(reverse(f"admin:{name}", args=args))
    assert response.status_code == 200
    page = response.content.decode()
    assert '<form method="post"' in page and "csrfmiddlewaretoken" in page and 'name="_form_submitted"' in page
    assert "Cancel" in page
    assert response.context["submit_text"] in page.split("Cancel", 1)[1]  # the button says what it does
    # The change page's button opens Unfold's dialog (a POST form), not a plain link that acts.
    dialog = client.get(reverse(f"admin:{name}", args=args), headers={"HX-Request": "true"})
    assert 'id="dialog"' in dialog.content.decode() and 'method="post"' in dialog.content.decode()


def _target(org, name):
    if name.startswith("core_organization"):
        return org
    if name.startswith("exports_exportrecord"):
        return ExportRecord.objects.filter(organization=org, status=Status.PENDING).first()
    if name.startswith("exports_reviewitem"):  # each item offers only the buttons that fit it
        reason = "vendor_warning" if name.endswith("acknowledge_one") else "validation"
        return ReviewItem.objects.filter(organization=org, reason=reason).first()
    if name.startswith("connectors_connection"):
        return Connection.objects.filter(organization=org).first()
    return PullSync.objects.filter(organization=org).first()


def test_post_rotates_the_webhook_secret(client, seeded):
    org, operator = seeded
    client.force_login(operator)
    before = Organization.objects.get(pk=org.pk).webhook_secret
    response = admin_confirm(client, reverse("admin:core_organization_rotate_webhook_secret", args=[org.pk]))
    assert response.status_code == 302
    assert Organization.objects.get(pk=org.pk).webhook_secret != before


def test_post_cancels_and_reexports_a_record(client, seeded):
    org, operator = seeded
    client.force_login(operator)
    record = ExportRecord.objects.filter(organization=org, status=Status.PENDING).first()
    admin_confirm(client, reverse("admin:exports_exportrecord_cancel_record", args=[record.pk]))
    assert ExportRecord.objects.get(pk=record.pk).status == Status.CANCELLED


def test_post_resets_the_breaker_and_answers_htmx_with_a_redirect_header(client, seeded):
    org, operator = seeded
    client.force_login(operator)
    conn = Connection.objects.filter(organization=org).first()
    url = reverse("admin:connectors_connection_reset_breaker", args=[conn.pk])
    response = admin_confirm(client, url, headers={"HX-Request": "true"})
    assert response["HX-Redirect"] == reverse("admin:connectors_connection_change", args=[conn.pk])
    conn.refresh_from_db()
    assert conn.consecutive_failures == 0 and not conn.breaker_open


def test_post_acknowledges_and_retries_review_items(client, seeded):
    org, operator = seeded
    client.force_login(operator)
    item = ReviewItem.objects.filter(organization=org).first()
    admin_confirm(client, reverse("admin:exports_reviewitem_retry_one", args=[item.pk]))
    assert ReviewItem.objects.get(pk=item.pk).resolution == ReviewItem.Resolution.RETRIED


def test_post_queues_the_pull_sync(client, seeded, monkeypatch):
    org, operator = seeded
    client.force_login(operator)
    queued = []
    monkeypatch.setattr("expensico_sync.source.admin.async_task", lambda *a, **k: queued.append(a))
    run = PullSync.objects.filter(organization=org).first()
    admin_confirm(client, reverse("admin:source_pullsync_run_now", args=[run.pk]))
    assert queued == [("expensico_sync.source.tasks.pull_sync", run.pk)]


def test_a_post_without_the_confirmation_does_nothing(client, seeded):
    org, operator = seeded
    client.force_login(operator)
    before = Organization.objects.get(pk=org.pk).webhook_secret
    client.post(reverse("admin:core_organization_rotate_webhook_secret", args=[org.pk]), {})
    assert Organization.objects.get(pk=org.pk).webhook_secret == before


def test_a_viewer_gets_no_confirmation_page(client, seeded):
    from expensico_sync.core.roles import Role
    from tests.core.factories import make_member

    org, _ = seeded
    client.force_login(make_member(org, Role.VIEWER, "vera"))
    response = client.get(reverse("admin:core_organization_rotate_webhook_secret", args=[org.pk]))
    assert response.status_code == 403


@pytest.mark.parametrize("model", ["success", "failure", "ormq"])
def test_task_results_and_queue_have_no_add_page(client, model):
    client.force_login(make_user("root", is_staff=True, is_superuser=True))
    assert client.get(f"/admin/django_q/{model}/add/").status_code == 403  # was a 500
    assert f"/admin/django_q/{model}/add/" not in client.get(f"/admin/django_q/{model}/").content.decode()


# Buttons that only navigate: the setup page, and OAuth's start (the vendor's consent screen; its
# pending state lives in the cache until the callback, which needs the vendor's code).
NAVIGATION_ONLY = {"connectors.connection.open_setup", "connectors.connection.connect_oauth",
                   "notify.notification.caught_mail",
                   "mappings.codingrule.test_rule"}  # a read-only report


def test_every_unfold_button_is_confirmed_or_only_navigates():
    unconfirmed = []
    for model, model_admin in admin.site._registry.items():
        names = [*model_admin._extract_action_names(model_admin.actions_detail),
                 *model_admin._extract_action_names(model_admin.actions_list),
                 *model_admin._extract_action_names(model_admin.actions_row)]  # submit-line ones ride the form's POST
        for name in names:
            label = f"{model._meta.label_lower}.{name}"
            if not getattr(getattr(model_admin, name), "confirmed", False) and label not in NAVIGATION_ONLY:
                unconfirmed.append(label)
    assert unconfirmed == []
