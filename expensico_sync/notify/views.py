from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods
from django.views.i18n import set_language as django_set_language

from expensico_sync.core.models import Organization

from . import kinds
from .links import read_token
from .services import language_of, language_remember, set_mode


@csrf_exempt                        # the signed token is the authority; mail clients POST without a session
@require_http_methods(["GET", "POST"])
def unsubscribe(request, token: str):
    """GET shows what the link does (a GET changes nothing: mail scanners follow links); POST,
    from the page's button or a mail client's one-click (RFC 8058), turns the kind off."""
    try:
        data = read_token(token)
        kind = kinds.kind(data["k"])
    except (signing.BadSignature, KeyError, LookupError):
        return HttpResponseBadRequest("This unsubscribe link is not valid.")
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.filter(pk=data["u"]).first()
    organization = Organization.objects.filter(pk=data["o"]).first() if data["o"] else None
    if user is None:
        return HttpResponseBadRequest("This unsubscribe link is not valid.")
    done = request.method == "POST"
    if done:
        set_mode(user, organization, kind.key, kinds.OFF)
    return render(request, "emails/unsubscribe.html", {"kind": kind, "organization": organization, "done": done})


@login_required(login_url="/admin/login/")
@require_http_methods(["GET", "POST"])
def preferences(request):
    """Each member's own choices: every kind they receive, per organisation, immediately, in the
    daily digest, or off (the same rows the unsubscribe link writes)."""
    rows = []
    for membership in request.user.memberships.select_related("organization").order_by("organization__name"):
        for kind in kinds.kinds():
            if membership.role in kind.roles:
                rows.append((membership.organization, kind))
    if request.method == "POST":
        language = request.POST.get("language")
        if language is not None:
            try:
                language_remember(request.user, language)
            except ValueError as exc:
                return HttpResponseBadRequest(str(exc))
        for organization, kind in rows:
            mode = request.POST.get(f"{organization.pk}:{kind.key}")
            if mode is not None:
                if mode not in dict(kinds.MODES):
                    return HttpResponseBadRequest(f"{organization.pk}:{kind.key}: choose one of "
                                                  f"{', '.join(dict(kinds.MODES))}")
                set_mode(request.user, organization, kind.key, mode)
        return redirect(request.path + "?saved=1")
    chosen = {(p.organization_id, p.kind): p.mode for p in request.user.notification_preferences.all()}
    table = [{"organization": o, "kind": k, "field": f"{o.pk}:{k.key}", "mode": chosen.get((o.pk, k.key), k.default_mode)}
             for o, k in rows]
    return render(request, "notify/preferences.html", {
        "rows": table, "modes": kinds.MODES, "subject": _("Your notifications"), "saved": request.GET.get("saved"),
        "languages": settings.LANGUAGES, "language": language_of(request.user)})


def set_language(request):
    """Django's language switcher, which also remembers a signed-in member's choice as the language
    of their notifications (the e-mails are written when nobody's request is there to ask)."""
    response = django_set_language(request)
    language = request.POST.get("language")
    if request.method == "POST" and request.user.is_authenticated and language in dict(settings.LANGUAGES):
        language_remember(request.user, language)
    return response
