"""Admin screens for coding decisions: the coding rules (drag to reorder, test, apply), the
organisation's hold policy, and the audit of hold approvals. Registered from the exports app
because testing and applying a rule reads export records (a floor above mappings)."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import JsonResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext, pgettext
from django.utils.translation import gettext_lazy as _
from unfold.contrib.filters.admin import RelatedDropdownFilter
from unfold.decorators import action, display

from expensico_sync.core.admin.confirm import confirmed_action
from expensico_sync.core.admin.scoping import OrgScopedAdmin
from expensico_sync.core.formatting import money_text
from mappings.admin.mappings import MappingAdmin
from mappings.models import CodingRule

from .errors import Refused
from .messages import shown
from .models import HoldPolicy, HoldRelease, ReviewItem, SuggestedCoding
from .refusals import refusal_shown
from .services.coding import rule_apply, rule_test, suggestion_answer


def _money(amounts: dict) -> str:
    return ", ".join(money_text(amount, currency) for currency, amount in amounts.items()) or str(_("nothing"))


IN_LIST = {"categories": _("category is one of %(values)s"), "expense_types": _("expense type is one of %(values)s"),
           "cards": _("card is one of %(values)s")}


def rule_conditions(rule: CodingRule) -> str:
    """The rule's "When", in the viewer's language (values stay as entered)."""
    parts = [gettext("merchant %(match)s %(merchant)s") % {"match": rule.get_merchant_match_display().lower(),
                                                           "merchant": rule.merchant} if rule.merchant else ""]
    parts += [str(IN_LIST[name]) % {"values": ", ".join(getattr(rule, name))} for name in IN_LIST
              if getattr(rule, name)]
    if rule.employees:
        count = len(rule.employees)
        parts.append(ngettext("%(count)s employee", "%(count)s employees", count) % {"count": count})
    if rule.amount_min is not None or rule.amount_max is not None:
        parts.append(gettext("amount %(low)s–%(high)s") % {
            "low": rule.amount_min or 0, "high": rule.amount_max if rule.amount_max is not None else "∞"})
    parts += [str(rule.get_funding_source_display()) if rule.funding_source else "", rule.currency]
    parts += [f"{k}={v}" for k, v in {**rule.custom_fields, **rule.dimensions}.items()]
    return pgettext("between a coding rule's conditions", " and ").join(p for p in parts if p) or "—"


def rule_actions(rule: CodingRule) -> str:
    """The rule's "Then", in the viewer's language."""
    if rule.skip:
        return gettext("skip (never export)")
    parts = [gettext("account %(account)s") % {"account": rule.account_name or rule.account} if rule.account else "",
             gettext("tax %(code)s") % {"code": rule.tax_code} if rule.tax_code else "",
             ", ".join(f"{k}={v}" for k, v in rule.set_dimensions.items()),
             gettext("contact %(contact)s") % {"contact": rule.contact_name or rule.contact} if rule.contact else "",
             gettext("hold: %(reason)s") % {"reason": rule.hold_reason} if rule.hold else ""]
    return "; ".join(p for p in parts if p)


def _apply_question(model_admin, request, object_id) -> str:
    rule = model_admin.get_queryset(request).get(pk=object_id)
    effect = rule_test(rule=rule)
    question = ngettext("Turn on “%(name)s” and re-code %(count)s pending expense totalling %(amounts)s. Expenses "
                        "already exported (%(past)s would differ) stay as booked.",
                        "Turn on “%(name)s” and re-code %(count)s pending expenses totalling %(amounts)s. Expenses "
                        "already exported (%(past)s would differ) stay as booked.", effect["pending_count"]) % {
        "name": rule.name, "count": effect["pending_count"], "amounts": _money(effect["pending_amounts"]),
        "past": len(effect["past"])}
    if effect["pending_candidates"] > effect["pending_examined"]:
        question += " " + gettext("Counted among the newest %(examined)s of the %(candidates)s pending expenses the rule "
                            "could match; applying decides every one of them.") % {
            "examined": effect["pending_examined"], "candidates": effect["pending_candidates"]}
    return question


@admin.register(CodingRule)
class CodingRuleAdmin(MappingAdmin):
    ordering_field = "position"          # Unfold: drag rows to reorder; the first match wins
    hide_ordering_field = True
    list_display = ("rule_number", "name", "active", "conditions", "actions_summary", "connection", "updated_at")
    list_filter = (("connection", RelatedDropdownFilter), "active", "hold", "skip")
    search_fields = ("name", "merchant", "account", "account_name")
    actions_detail = ["test_rule", "apply_rule"]
    fieldsets = (
        (None, {"fields": ("connection", ("name", "active"), "position")}),
        (_("When (all that are set)"), {"fields": (("merchant_match", "merchant"), "categories", "expense_types",
                                                "funding_source", "employees", "cards", ("amount_min", "amount_max"),
                                                "currency", "custom_fields", "dimensions")}),
        (_("Then"), {"fields": (("account", "account_name"), "tax_code", "set_dimensions", ("contact", "contact_name"),
                             ("hold", "hold_reason"), "skip")}),
        (_("History"), {"fields": ("recent_changes",)}),
    )

    @display(description=_("#"), ordering="id")
    def rule_number(self, obj):
        return f"#{obj.pk}"

    @display(description=_("When"))
    def conditions(self, obj):
        return rule_conditions(obj)

    @display(description=_("Then"))
    def actions_summary(self, obj):
        return rule_actions(obj)

    @action(description=_("Test this rule"), icon="science", permissions=["view"])
    def test_rule(self, request, object_id):
        """Reads only: which booked and pending expenses the rule (as saved) codes differently."""
        rule = self.get_queryset(request).get(pk=object_id)
        effect = rule_test(rule=rule)
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "original": rule,
                   "title": _("What rule #%(pk)s “%(name)s” changes") % {"pk": rule.pk, "name": rule.name},
                   "effect": effect,
                   "pending_money": _money(effect["pending_amounts"]),
                   "apply_url": reverse("admin:mappings_codingrule_apply_rule", args=[rule.pk]),
                   "change_url": reverse("admin:mappings_codingrule_change", args=[rule.pk])}
        return TemplateResponse(request, "admin/exports/rule_test.html", context)

    @confirmed_action(description=_("Apply to pending expenses"), icon="playlist_add_check", submit=_("Apply"),
                      what=_apply_question)
    def apply_rule(self, request, object_id):
        rule = self.get_queryset(request).get(pk=object_id)
        result = rule_apply(rule=rule, by=request.user)
        done = {"rule": rule.pk, "records": result["records"], "amounts": _money(result["amounts"])}
        if result["queued"]:
            messages.success(request, _("Rule #%(rule)s is on; %(records)s pending expense(s) are being re-coded "
                                        "in the background (%(amounts)s).") % done)
        else:
            messages.success(request, _("Rule #%(rule)s is on; %(records)s pending expense(s) re-coded "
                                        "(%(amounts)s).") % done)
        return redirect("admin:mappings_codingrule_change", object_id)


class HoldReleaseInline(admin.TabularInline):
    model = HoldRelease
    extra = 0
    can_delete = False
    fields = ("step", "approver_label", "role", "amount", "released", "note", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(HoldPolicy)
class HoldPolicyAdmin(OrgScopedAdmin):
    org_path = "organization"
    capability = "organization.manage"
    list_display = ("organization", "two_person_display", "updated_at")
    fields = ("organization", "two_person_above")

    @display(description=_("Two approvers above"))
    def two_person_display(self, obj):
        return format_html("{} {}", obj.two_person_above, obj.organization.base_currency) \
            if obj.two_person_above is not None else _("never (one approver)")


@admin.register(HoldRelease)
class HoldReleaseAdmin(OrgScopedAdmin):
    org_path = "organization"
    capability = "holds.release"
    list_display = ("record", "step", "approver_label", "role", "amount", "released", "created_at")
    list_filter = ("released",)
    readonly_fields = ("record", "review_item", "step", "approver_label", "role", "amount", "released", "note",
                       "created_at")
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(SuggestedCoding)
class SuggestedCodingAdmin(OrgScopedAdmin):
    """The open suggestions, oldest deadline first, worked from the keyboard: each answer is one POST
    (accept, or correct with an account id) and the row leaves the queue."""

    org_path = "organization"
    capability = "review.work"
    MAX_ROWS = 200
    # A suggestion's own page shows it; the answers are the queue's POSTs. Editable, its record and
    # owner were drop-downs of every export record and user (1M options: minutes and 2 GB at 1M rows).
    fields = ("record", "detail_text", "context", "sla_due_at", "created_at")
    readonly_fields = fields

    @display(description=_("detail"))
    def detail_text(self, obj):
        return shown(obj.detail, obj.detail_message) or "—"

    def get_queryset(self, request):
        return (super().get_queryset(request).filter(reason=ReviewItem.Reason.SUGGESTED_CODING,
                                                     resolved_at__isnull=True)
                .select_related("record__expense", "record__connection").order_by("sla_due_at", "id"))

    def has_add_permission(self, request, *args):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_urls(self):
        own = [path("<int:object_id>/answer/", self.admin_site.admin_view(self.answer),
                    name="exports_suggestedcoding_answer")]
        return own + super().get_urls()

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        cl = self.get_changelist_instance(request)       # the admin's own scoping, as every changelist
        items = list(cl.queryset[:self.MAX_ROWS])
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": _("Suggested coding"),
                   "cl": cl, "items": items, "more": max(0, cl.result_count - len(items)),
                   "can_answer": self.has_change_permission(request)}
        return TemplateResponse(request, "admin/exports/suggested_queue.html", context)

    def answer(self, request, object_id):
        """POST only: accept (no account) or correct (account, account_name). JSON answer."""
        if request.method != "POST":
            return JsonResponse({"error": _("POST an answer")}, status=405)
        item = self.get_queryset(request).filter(pk=object_id).first()
        if item is None or not self.has_change_permission(request, item):
            return JsonResponse({"error": _("no such open suggestion you may answer")}, status=404)
        account = request.POST.get("account", "").strip()
        try:
            correction = suggestion_answer(item=item, by=request.user, account=account,
                                           account_name=request.POST.get("account_name", "").strip(),
                                           dimensions={k[4:]: v for k, v in request.POST.items()
                                                       if k.startswith("dim_")})
        except Refused as exc:
            return JsonResponse({"error": refusal_shown(exc)}, status=409)
        verb = _("accepted") if correction.accepted else _("corrected to")
        return JsonResponse({"ok": True, "message": f"{item.record.reference}: {verb} "
                                                    f"{correction.account_name or correction.account}"})
