from pathlib import Path
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from unfold.admin import ModelAdmin
from unfold.decorators import action, display

from . import catcher, kinds
from .models import Notification, Preference

CAUGHT_PAGE = 50


@admin.register(Notification)
class NotificationAdmin(ModelAdmin):
    """The outbox, for operators (superusers): what was sent, held for a digest, or not sent and why."""

    list_display = ("created_at", "kind_label", "subject", "user", "organization", "delivery", "attempts", "sent_at")
    list_filter = ("status", "mode", "kind", "organization")
    # Prefix on the subject, exact on the incident (both indexed); a recipient by the start of their
    # username or e-mail, as a list of ids: `%term%` over four columns and a join read all 100,000 rows.
    search_fields = ("^subject", "=incident")
    search_help_text = _("Subject (its beginning), incident, or the recipient's username or e-mail (its beginning)")
    readonly_fields = [f.name for f in Notification._meta.fields]
    list_select_related = ("user", "organization")
    sortable_by = ("created_at",)   # indexed; the other columns sorted the whole outbox for each page
    actions_list = ["caught_mail"]

    def get_search_results(self, request, queryset, search_term):
        found, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term:
            users = get_user_model().objects.filter(Q(username__istartswith=term) | Q(email__istartswith=term))
            ids = list(users.values_list("pk", flat=True)[:200])
            if ids:
                found |= queryset.filter(user_id__in=ids)
        return found, may_have_duplicates

    @display(description=_("Kind"))
    def kind_label(self, obj):
        return _kind_label(obj.kind)

    @display(description=_("Delivery"), label={"sent": "success", "digested": "success", "failed": "danger",
                                            "unknown": "warning"})
    def delivery(self, obj):
        return obj.status, obj.get_status_display()

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @action(description=_("Caught mail (development)"), icon="mail", url_path="caught-mail")
    def caught_mail(self, request):
        return self.caught_view(request)

    def get_urls(self):
        view = self.admin_site.admin_view(self.caught_view)
        return [path("caught/<str:name>/", view, name="notify_caught_message")] + super().get_urls()

    def caught_view(self, request, name: str | None = None):
        if not request.user.is_superuser:
            raise PermissionDenied
        if not settings.MAIL_CATCHER_DIR:
            raise Http404(_("No mail catcher in this deployment (MAIL_CATCHER_DIR is empty)."))
        directory = Path(settings.MAIL_CATCHER_DIR)
        before = request.GET.get("before", "")
        if "/" in before:
            raise Http404
        # Headers only for the list (a page of CAUGHT_PAGE), the whole message only for the one shown.
        messages = catcher.listed(directory, CAUGHT_PAGE, before)
        chosen = None
        if name:
            if "/" in name or not (directory / name).is_file():
                raise Http404
            chosen = catcher.read(directory / name)
        elif messages:
            chosen = catcher.read(directory / messages[0].name)
        context = {**self.admin_site.each_context(request), "title": _("Caught mail"), "messages_caught": messages,
                   "chosen": chosen, "directory": directory,
                   "older": f"?{urlencode({'before': messages[-1].name})}" if len(messages) == CAUGHT_PAGE else "",
                   "newest": bool(before)}
        context["links"] = [(m, reverse("admin:notify_caught_message", args=[m.name])) for m in messages]
        return TemplateResponse(request, "notify/caught_mail.html", context)


class PreferenceForm(forms.ModelForm):
    kind = forms.ChoiceField(choices=())

    class Meta:
        model = Preference
        fields = ("user", "organization", "kind", "mode")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [(k.key, k.label) for k in kinds.kinds()]


@admin.register(Preference)
class PreferenceAdmin(ModelAdmin):
    """Members' choices (immediately, in the daily digest, or off), for operators; members change
    theirs through the unsubscribe link in every email."""

    form = PreferenceForm
    list_display = ("user", "kind_label", "organization", "mode", "updated_at")
    list_filter = ("mode", "kind", "organization")
    search_fields = ("user__username", "user__email")
    list_select_related = ("user", "organization")

    @display(description=_("Kind"))
    def kind_label(self, obj):
        return _kind_label(obj.kind)

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    has_view_permission = has_add_permission = has_change_permission = has_delete_permission = (
        lambda self, request, obj=None: self.has_module_permission(request))


def _kind_label(key: str) -> str:
    try:
        return str(kinds.kind(key).label)
    except LookupError:
        return key
