"""The admin sidebar, built per request: a group shows only the models that exist and that
the user may see, and an empty group is hidden."""

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import NoReverseMatch, reverse

# An entry is (title, model label, icon) or, for a model's own page other than its changelist,
# (title, model label, icon, admin URL name).
GROUPS: list[tuple[str, list[tuple]]] = [
    ("Setup", [
        ("Organisations", "core.organization", "apartment"),
        ("Members", "core.membership", "group"),
        ("API keys", "core.organizationapikey", "key"),
        ("Access reviews", "access_reviews.accessreview", "fact_check"),
        ("Retention", "retention.retentionsettings", "auto_delete"),
        ("Connections", "connectors.connection", "cable"),
        ("Users", "auth.user", "person"),
    ]),
    ("Mappings", [
        ("Mapping sets", "mappings.mappingset", "rule_settings"),
        ("Category mappings", "mappings.categorymapping", "category"),
        ("Tax mappings", "mappings.taxmapping", "percent"),
        ("Currency policies", "mappings.currencypolicy", "currency_exchange"),
        ("Exchange rates", "mappings.exchangerate", "trending_up"),
        ("Dimension mappings", "mappings.dimensionmapping", "account_tree"),
        ("Merchant rules", "mappings.merchantrule", "storefront"),
        ("Hold rules", "mappings.holdrule", "pan_tool"),
        ("Remote catalog", "mappings.remotecatalogitem", "menu_book"),
        ("Suggestion settings", "mappings.mappingpreference", "tune"),
    ]),
    ("Exports", [
        ("Export records", "exports.exportrecord", "outbox"),
        ("Sync runs", "exports.syncrun", "sync"),
        ("Scheduled reports", "exports.reportschedule", "schedule_send"),
        ("Reports sent", "exports.generatedreport", "attach_email"),
        ("Pilot scope", "exports.pilotscope", "flag"),
        ("Expense reports", "source.expensereport", "receipt_long"),
        ("Expenses", "source.expense", "payments"),
        ("Card fundings", "source.cardfunding", "credit_card"),
        ("Reimbursements", "source.reimbursement", "savings"),
        ("Statement lines", "source.bankstatementline", "account_balance"),
        ("Employees", "source.employee", "badge"),
        ("Categories", "source.category", "label"),
    ]),
    ("Review", [
        ("Review queue", "exports.reviewitem", "inbox"),
    ]),
    ("Close", [
        ("Months", "exports.monthclose", "event_available", "admin:exports_monthclose_months"),
        ("Signed-off months", "exports.monthclose", "history"),
        ("Closed-period policies", "exports.connectionclosepolicy", "lock_clock"),
        ("Duplicate settings", "exports.duplicatesettings", "content_copy"),
    ]),
    ("Monitoring", [
        ("Webhook deliveries", "source.webhookdelivery", "webhook"),
        ("Pull syncs", "source.pullsync", "cloud_download"),
        ("Vendor call log", "connectors.calllog", "monitor_heart"),
        ("Tasks: done", "django_q.success", "task_alt"),
        ("Tasks: failed", "django_q.failure", "error"),
        ("Task queue", "django_q.ormq", "queue"),
        ("Schedules", "django_q.schedule", "schedule"),
        ("Backups", "backups.backuprun", "backup"),
        ("Notifications", "notify.notification", "mail"),
        ("Notification settings", "notify.preference", "notifications"),
    ]),
]


def _item(request, title, label, icon, url_name=None):
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError):
        return None
    model_admin = admin.site._registry.get(model)
    if model_admin is None or not model_admin.has_view_permission(request):
        return None
    try:
        link = reverse(url_name or f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    except NoReverseMatch:
        return None
    return {"title": title, "icon": icon, "link": link}


def sidebar(request):
    groups = [{"items": [{"title": "Dashboard", "icon": "dashboard", "link": reverse("admin:index")}]}]
    for title, entries in GROUPS:
        items = [i for i in (_item(request, *e) for e in entries) if i]
        if items:
            groups.append({"title": title, "separator": True, "collapsible": False, "items": items})
    return groups


def show_all_applications(request):
    return request.user.is_superuser


def environment_badge(request):
    return ["Development", "warning"] if settings.DEBUG else None
