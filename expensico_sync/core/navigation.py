"""The admin sidebar, built per request: a group shows only the models that exist and that
the user may see, and an empty group is hidden."""

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

# An entry is (title, model label, icon) or, for a model's own page other than its changelist,
# (title, model label, icon, admin URL name).
GROUPS: list[tuple] = [
    (_("Setup"), [
        (_("Organisations"), "core.organization", "apartment"),
        (_("Members"), "core.membership", "group"),
        (_("API keys"), "core.organizationapikey", "key"),
        (_("Access reviews"), "access_reviews.accessreview", "fact_check"),
        (_("Retention"), "retention.retentionsettings", "auto_delete"),
        (_("Connections"), "connectors.connection", "cable"),
        (_("Users"), "auth.user", "person"),
    ]),
    (_("Mappings"), [
        (_("Mapping sets"), "mappings.mappingset", "rule_settings"),
        (_("Category mappings"), "mappings.categorymapping", "category"),
        (_("Tax mappings"), "mappings.taxmapping", "percent"),
        (_("Currency policies"), "mappings.currencypolicy", "currency_exchange"),
        (_("Exchange rates"), "mappings.exchangerate", "trending_up"),
        (_("Dimension mappings"), "mappings.dimensionmapping", "account_tree"),
        (_("Merchant rules"), "mappings.merchantrule", "storefront"),
        (_("Hold rules"), "mappings.holdrule", "pan_tool"),
        (_("Remote catalog"), "mappings.remotecatalogitem", "menu_book"),
        (_("Suggestion settings"), "mappings.mappingpreference", "tune"),
    ]),
    (_("Exports"), [
        (_("Export records"), "exports.exportrecord", "outbox"),
        (_("Sync runs"), "exports.syncrun", "sync"),
        (_("Scheduled reports"), "exports.reportschedule", "schedule_send"),
        (_("Reports sent"), "exports.generatedreport", "attach_email"),
        (_("Pilot scope"), "exports.pilotscope", "flag"),
        (_("Expense reports"), "source.expensereport", "receipt_long"),
        (_("Expenses"), "source.expense", "payments"),
        (_("Card fundings"), "source.cardfunding", "credit_card"),
        (_("Reimbursements"), "source.reimbursement", "savings"),
        (_("Statement lines"), "source.bankstatementline", "account_balance"),
        (_("Employees"), "source.employee", "badge"),
        (_("Categories"), "source.category", "label"),
    ]),
    (_("Review"), [
        (_("Review queue"), "exports.reviewitem", "inbox"),
    ]),
    (_("Close"), [
        (_("Months"), "exports.monthclose", "event_available", "admin:exports_monthclose_months"),
        (_("Signed-off months"), "exports.monthclose", "history"),
        (_("Closed-period policies"), "exports.connectionclosepolicy", "lock_clock"),
        (_("Duplicate settings"), "exports.duplicatesettings", "content_copy"),
    ]),
    (_("Monitoring"), [
        (_("Webhook deliveries"), "source.webhookdelivery", "webhook"),
        (_("Pull syncs"), "source.pullsync", "cloud_download"),
        (_("Vendor call log"), "connectors.calllog", "monitor_heart"),
        (_("Tasks: done"), "django_q.success", "task_alt"),
        (_("Tasks: failed"), "django_q.failure", "error"),
        (_("Task queue"), "django_q.ormq", "queue"),
        (_("Schedules"), "django_q.schedule", "schedule"),
        (_("Backups"), "backups.backuprun", "backup"),
        (_("Notifications"), "notify.notification", "mail"),
        (_("Notification settings"), "notify.preference", "notifications"),
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
    groups = [{"items": [{"title": _("Dashboard"), "icon": "dashboard", "link": reverse("admin:index")}]}]
    for title, entries in GROUPS:
        items = [i for i in (_item(request, *e) for e in entries) if i]
        if items:
            groups.append({"title": title, "separator": True, "collapsible": False, "items": items})
    return groups


def show_all_applications(request):
    return request.user.is_superuser


def environment_badge(request):
    return [_("Development"), "warning"] if settings.DEBUG else None
