"""Sync runs: the add form says first what the run will do (documents per kind in the range), a
run's page shows its status and counters live while it runs, and nothing on it is saved by hand."""

import json

from django.contrib import admin, messages
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display

from .admin import SyncRunAdmin, SyncRunForm
from .models import SyncRun
from .services.sync import sync_run_documents

KIND_WORDS = (("expenses", _("Approved expenses")), ("fundings", _("Card fundings")), ("reimbursements", _("Reimbursements")),
              ("lines", _("Bank statement lines")))
COUNTERS = (("found", _("Found")), ("already_there", _("Already at the vendor")), ("exported", _("Exported")),
            ("held", _("Held for review")), ("failed", _("Failed")))

LIVE_HTML = """
<div id="sync-run-live-{id}" data-url="{url}" data-live="{live}" class="flex flex-col gap-3 min-w-80 max-w-xl">
  <div class="flex items-center gap-3"><span class="font-semibold" data-status>{status}</span>
    <span class="text-sm" data-progress>{pct}%</span></div>
  <div class="h-3 w-full rounded bg-base-200 dark:bg-base-700 overflow-hidden">
    <div class="h-3 bg-primary-600" data-bar style="width:{pct}%"></div></div>
  <table class="text-sm w-auto max-w-sm"><tbody>{rows}</tbody></table>
</div>
<script>(function(){{
  var box=document.getElementById("sync-run-live-{id}"); if(!box||box.dataset.live!=="1")return;
  var words={words};
  function tick(){{fetch(box.dataset.url,{{credentials:"same-origin"}}).then(function(r){{return r.json()}}).then(function(d){{
    box.querySelector("[data-bar]").style.width=d.progress+"%";
    box.querySelector("[data-progress]").textContent=d.progress+"%";
    box.querySelector("[data-status]").textContent=words[d.status]||d.status;
    box.querySelectorAll("[data-counter]").forEach(function(c){{c.textContent=d[c.dataset.counter];}});
    if(d.status!=="finished"&&d.status!=="failed")setTimeout(tick,2000);}});}}
  setTimeout(tick,2000);}})();</script>
"""


class SyncRunPreviewForm(SyncRunForm):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if "date_from" not in self.fields:   # a run's own page: every field is read-only
            return
        self.fields["date_from"].label = _("Documents dated from")
        self.fields["date_to"].label = _("Documents dated to")
        self.fields["date_to"].help_text = (_("Only documents whose own date falls in the range are found (expenses by "
                                            "their date, not by when the report was approved)."))
        self.fields["connection"].queryset = self.fields["connection"].queryset.filter(active=True)
        self.fields["connection"].help_text = _("Active connections only: a new one is activated at the end of its setup.")


admin.site.unregister(SyncRun)


@admin.register(SyncRun)
class SyncRunLiveAdmin(SyncRunAdmin):
    form = SyncRunPreviewForm
    list_display = ("__str__", "connection", "status_badge", "live_counters", "created_at")  # type: ignore[assignment]

    def get_fields(self, request, obj=None):
        if obj is None:
            return ("connection", "date_from", "date_to")
        return ("connection", "date_from", "date_to", "live_counters", "error", "pull_sync", "started_at",
                "finished_at", "created_by")

    def get_readonly_fields(self, request, obj=None):
        return (*super().get_readonly_fields(request, obj), "live_counters")

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if change:   # a run is never edited: its page reads, and updates itself while it runs
            context.update(show_save=False, show_save_and_continue=False, show_save_and_add_another=False,
                           show_save_as_new=False, show_delete_link=False)
        else:
            context.update(show_save_and_continue=False, show_save_and_add_another=False)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def add_view(self, request, form_url="", extra_context=None):
        """POST without `_confirmed`: the preview (counts per kind), with a button that starts the run."""
        if request.method == "POST" and not request.POST.get("_confirmed"):
            form = self.get_form(request)(request.POST)
            if form.is_valid():
                return self._preview(request, form)
        return super().add_view(request, form_url, extra_context)

    def _preview(self, request, form):
        data = form.cleaned_data
        conn = data["connection"]
        docs = sync_run_documents(organization_id=conn.organization_id, date_from=data["date_from"],
                                  date_to=data["date_to"])
        counts = [(label, docs[kind].count()) for kind, label in KIND_WORDS]
        already = conn.export_records.filter(status="exported", document_date__range=(data["date_from"],
                                                                                       data["date_to"])).count()
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "title": _("Start a sync run?"),
                   "connection": conn, "date_from": data["date_from"], "date_to": data["date_to"],
                   "counts": counts, "total": sum(n for _, n in counts), "already": already,
                   "pulls": bool(conn.organization.expensico_api_base_url),
                   "back_url": reverse("admin:exports_syncrun_add")}
        return TemplateResponse(request, "exports/admin/syncrun_preview.html", context)

    def save_model(self, request, obj, form, change):
        try:
            super().save_model(request, obj, form, change)
        except ValueError as exc:
            messages.error(request, _("Not started: %(error)s") % {"error": exc})

    @display(description=_("Status and counters"))
    def live_counters(self, obj):
        if not obj.pk:
            return "—"
        live = "1" if obj.status not in (SyncRun.Status.FINISHED, SyncRun.Status.FAILED) else "0"
        rows = format_html_join("", '<tr><td class="pr-4 text-font-subtle-light dark:text-font-subtle-dark">{}</td>'
                                '<td class="font-semibold" data-counter="{}">{}</td></tr>',
                                ((label, name, getattr(obj, name)) for name, label in COUNTERS))
        words = mark_safe(json.dumps({value: str(label) for value, label in SyncRun.Status.choices}))  # our labels
        return format_html(LIVE_HTML, id=obj.pk, url=reverse("sync-run-detail", args=[obj.pk]), pct=obj.progress,
                           status=obj.get_status_display(), rows=rows, live=live, words=words)
