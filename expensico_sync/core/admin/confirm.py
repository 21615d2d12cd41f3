"""Admin buttons that change state: a GET only asks, the POST (with its CSRF token) acts.

Links get followed by prefetchers, crawlers, link previews and a second click on "back"; two such
GETs once rotated an organisation's webhook secret twice. So every state-changing detail or list
action is declared with `confirmed_action`: the button opens Unfold's own dialog (a POST form),
and a plain GET of the action's URL renders the same question as a full admin page.
"""

from functools import wraps

from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from unfold.decorators import action
from unfold.forms import BaseDialogForm


def _allowed(model_admin, request, permissions, object_id) -> bool:
    checks = [getattr(model_admin, f"has_{name}_permission") for name in permissions]
    return all(check(request, object_id) if object_id is not None else check(request) for check in checks)


def _confirmation_page(model_admin, request, *, title: str, what: str, submit: str, object_id):
    opts = model_admin.model._meta
    obj = model_admin.get_queryset(request).filter(pk=object_id).first() if object_id is not None else None
    if object_id is not None and obj is None:
        raise PermissionDenied
    cancel_url = (reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[object_id]) if obj
                  else reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist"))
    if callable(what):
        what = what(model_admin, request, object_id)
    context = {**model_admin.admin_site.each_context(request), "opts": opts, "original": obj,
               "title": f"{title}: {obj}" if obj else title, "what": what, "submit_text": submit,
               "form": BaseDialogForm(request=request, object_id=object_id), "cancel_url": cancel_url}
    return TemplateResponse(request, "admin/confirm_action.html", context)


def confirmed_action(*, description: str, icon: str, what: str, permissions: tuple[str, ...] = ("change",),
                     submit: str | None = None, url_path: str | None = None):
    """An Unfold action (detail or list) whose function runs only on a confirmed POST.

    `what` tells the person what will happen. The function is called as before,
    `(self, request, object_id)` or `(self, request)`, and returns its redirect.

    `what` may be a callable `(model_admin, request, object_id) -> str` when the question depends
    on the data (how many records, how much money): the button then opens the full confirmation
    page, computed when asked, instead of the static dialog."""
    submit = submit or description
    dynamic = callable(what)

    def decorator(func):
        def act(model_admin, request, *args, **kwargs):
            if not dynamic:
                args = args[1:]  # the dialog's form
            response = func(model_admin, request, *args, **kwargs)
            if request.headers.get("HX-Request") and response.status_code in (301, 302):
                # The dialog posts through htmx, which would swap the next page into the modal.
                return HttpResponse(headers={"HX-Redirect": response["Location"]})
            return response

        dialog = None if dynamic else {"title": description, "description": what, "form_submit_text": submit}
        unfold_view = action(description=description, icon=icon, permissions=list(permissions), url_path=url_path,
                             dialog=dialog)(wraps(func)(act))

        @wraps(unfold_view)
        def view(model_admin, request, *args, **kwargs):
            if request.method == "POST" or request.headers.get("HX-Request"):
                return unfold_view(model_admin, request, *args, **kwargs)
            object_id = kwargs.get("object_id")
            if not _allowed(model_admin, request, permissions, object_id):
                raise PermissionDenied
            return _confirmation_page(model_admin, request, title=description, what=what, submit=submit,
                                      object_id=object_id)

        view.confirmed = True
        return view

    return decorator
