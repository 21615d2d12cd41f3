"""Admin buttons that change state: a GET only asks, the POST (with its CSRF token) acts.

Links get followed by prefetchers, crawlers, link previews and a second click on "back"; two such
GETs once rotated an organisation's webhook secret twice. So every state-changing detail or list
action is declared with `confirmed_action`: the button opens Unfold's own dialog (a POST form),
and a plain GET of the action's URL renders the same question as a full admin page.
"""

from collections.abc import Callable
from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.functional import Promise
from unfold.decorators import action
from unfold.forms import BaseDialogForm


def _allowed(model_admin, request, permissions, object_id) -> bool:
    checks = [getattr(model_admin, f"has_{name}_permission") for name in permissions]
    return all(check(request, object_id) if object_id is not None else check(request) for check in checks)


def _confirmation_page(model_admin, request, *, title: str, what: str, submit: str, object_id, form_class=None):
    opts = model_admin.model._meta
    obj = model_admin.get_queryset(request).filter(pk=object_id).first() if object_id is not None else None
    if object_id is not None and obj is None:
        raise PermissionDenied
    cancel_url = (reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id]) if obj
                  else reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    context = {**model_admin.admin_site.each_context(request), "opts": opts, "original": obj,
               "title": f"{title}: {obj}" if obj else str(title), "what": str(what), "submit_text": str(submit),
               "form": (form_class or BaseDialogForm)(request=request, object_id=object_id), "cancel_url": cancel_url}
    return TemplateResponse(request, "admin/confirm_action.html", context)


def confirmed_action(*, description: str | Promise, icon: str, what: "str | Promise | Callable[..., str]",
                     permissions: tuple[str, ...] = ("change",), submit: str | Promise | None = None,
                     url_path: str | None = None, form_class=None):
    """An Unfold action (detail or list) whose function runs only on a confirmed POST.

    `what` tells the person what will happen. The function is called as before,
    `(self, request, object_id)` or `(self, request)`, and returns its redirect. A callable
    `what(model_admin, request, object_id)` says it with today's figures (how many records…): the
    button then leads to the confirmation page, which asks it afresh, instead of a fixed dialog.
    With a `form_class` (a `BaseDialogForm` asking, say, for a reason) the dialog and the page show
    its fields, and the function is called with the valid form as `form=`."""
    submit = submit or description
    dynamic = callable(what)

    def decorator(func):
        def respond(model_admin, request, *args, **kwargs):
            response = func(model_admin, request, *args, **kwargs)
            if request.headers.get("HX-Request") and response.status_code in (301, 302):
                # The dialog posts through htmx, which would swap the next page into the modal.
                return HttpResponse(headers={"HX-Redirect": response["Location"]})
            return response

        def act(model_admin, request, form, *args, **kwargs):
            if form_class is not None:
                kwargs["form"] = form
            return respond(model_admin, request, *args, **kwargs)

        dialog = None if dynamic else {"title": description, "description": what, "form_submit_text": submit}
        if dialog and form_class is not None:
            dialog["form_class"] = form_class
        unfold_view = action(description=description, icon=icon, permissions=list(permissions), url_path=url_path,
                             dialog=dialog)(wraps(func)(respond if dynamic else act))

        @wraps(unfold_view)
        def view(model_admin, request, *args, **kwargs):
            if request.method == "POST" or (request.headers.get("HX-Request") and not dynamic):
                return unfold_view(model_admin, request, *args, **kwargs)
            object_id = kwargs.get("object_id")
            if not _allowed(model_admin, request, permissions, object_id):
                raise PermissionDenied
            text = what(model_admin, request, object_id) if dynamic else what
            return _confirmation_page(model_admin, request, title=description, what=text, submit=submit,
                                      object_id=object_id, form_class=form_class)

        view.confirmed = True
        return view

    return decorator


def bulk_confirmation(model_admin, request, queryset, *, title: str, what: str, rows=(), submit: str):
    """For a changelist action over the selected rows: None once the person confirmed (the action
    then runs), otherwise the page that says how many rows (and what they add up to) it will touch.
    The page re-posts the same action and selection with `confirmed=1`."""
    if request.POST.get("confirmed") == "1":
        return None
    opts = model_admin.model._meta
    context = {**model_admin.admin_site.each_context(request), "opts": opts, "title": title, "what": what,
               "rows": list(rows), "submit_text": submit, "action": request.POST.get("action", ""),
               "selected": [str(pk) for pk in queryset.values_list("pk", flat=True)],
               "select_across": request.POST.get("select_across", "0"),
               "cancel_url": reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")}
    return TemplateResponse(request, "admin/confirm_bulk_action.html", context)
