from django.core import signing
from django.http import HttpResponseBadRequest
from django.shortcuts import render
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from expensico_sync.core.models import Organization

from . import kinds
from .links import read_token
from .services import set_mode


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
