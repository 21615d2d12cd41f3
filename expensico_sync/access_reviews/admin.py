from django.contrib import admin, messages
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from simple_history.admin import SimpleHistoryAdmin
from unfold.decorators import display

from expensico_sync.core.admin.confirm import confirmed_action
from expensico_sync.core.admin.scoping import OrgScopedAdmin

from .models import AccessReview
from .services import confirm, open_review


@admin.register(AccessReview)
class AccessReviewAdmin(OrgScopedAdmin, SimpleHistoryAdmin):
    capability = "members.manage"
    org_path = "organization"
    list_display = ("organization", "opened_at", "due_at", "state", "finding_count", "confirmed_by", "confirmed_at")
    list_select_related = ("organization", "confirmed_by")   # one query for the page, not two per row
    list_filter = ("status",)
    readonly_fields = ("organization", "status", "opened_at", "due_at", "members_table", "keys_table",
                       "findings_list", "confirmed_by", "confirmed_at", "comment", "change_links")
    fields = readonly_fields
    actions_detail = ["confirm_review"]
    actions_list = ["open_now"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @display(description=_("Status"), label={"confirmed": "success", "open": "warning"})
    def state(self, obj):
        return obj.status, obj.get_status_display()

    @display(description=_("Findings"))
    def finding_count(self, obj):
        return len(obj.findings)

    @display(description=_("Members"))
    def members_table(self, obj):
        rows = ((m["user"], m["email"], m["role"], (m["last_login"] or _("never"))[:16], _("yes") if m["mfa"] else _("no"))
                for m in obj.members)
        head = format_html("<tr>" + "<th>{}</th>" * 5 + "</tr>", _("user"), _("email"), _("role"), _("last sign-in"),
                           "MFA")
        return format_html("<table>{}{}</table>", head, format_html_join("", "<tr>" + "<td>{}</td>" * 5 + "</tr>", rows))

    @display(description=_("API keys and vendor credentials"))
    def keys_table(self, obj):
        rows = ((k["name"], k["prefix"], k["role"], "—" if k["age_days"] is None else k["age_days"],
                 (k["last_used"] or "—")[:16], k.get("expires_on") or "—", _("revoked") if k["revoked"] else _("active"))
                for k in obj.api_keys)
        head = format_html("<tr>" + "<th>{}</th>" * 7 + "</tr>", _("name"), _("kind"), _("role"), _("age (days)"),
                           _("last used"), _("expires"), _("state"))
        return format_html("<table>{}{}</table>", head, format_html_join("", "<tr>" + "<td>{}</td>" * 7 + "</tr>", rows))

    @display(description=_("What looks wrong"))
    def findings_list(self, obj):
        if not obj.findings:
            return _("Nothing: every owner and finance admin has MFA, every key is recent and in use.")
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}</li>", ((f,) for f in obj.findings)))

    @display(description=_("Change access"))
    def change_links(self, obj):
        return format_html('<a href="{}">{}</a> · <a href="{}">{}</a> · <a href="{}">{}</a>',
                           reverse("admin:core_membership_changelist") + f"?organization__id__exact={obj.organization_id}",
                           _("Members and roles"),
                           reverse("admin:core_organizationapikey_changelist"), _("API keys"),
                           reverse("admin:core_organization_change", args=[obj.organization_id]),
                           _("Organisation (rotate the webhook secret)"))

    @confirmed_action(description=_("Confirm this review"), icon="verified_user",
                      what=_("You confirm that every member, role and API key listed is still needed as it is "
                           "(fix anything that is not first). Your name and the time are kept with the review."))
    def confirm_review(self, request, object_id):
        review = self.get_queryset(request).get(pk=object_id)
        confirm(review, user=request.user)
        messages.success(request, _("Access review confirmed."))
        return redirect(reverse("admin:access_reviews_accessreview_change", args=[object_id]))

    @confirmed_action(description=_("Start a review now"), icon="fact_check", permissions=("view",),
                      what=_("A new access review is opened for each organisation you own, and its owners are told."))
    def open_now(self, request):
        from expensico_sync.core.models import Membership

        owned = Membership.objects.filter(user=request.user, role="owner").select_related("organization")
        orgs = [m.organization for m in owned]
        for organization in orgs:
            open_review(organization)
        messages.success(request, ngettext("Opened %(count)s access review.", "Opened %(count)s access reviews.", len(orgs)) % {
            "count": len(orgs)})
        return redirect(reverse("admin:access_reviews_accessreview_changelist"))
