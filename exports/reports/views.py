from django.contrib.auth.views import redirect_to_login
from django.core import signing
from django.http import FileResponse, Http404
from django.utils import timezone
from django.views.decorators.http import require_GET

from expensico_sync.core.selectors import organization_ids_for

from ..close.packs import pack_open
from .models import GeneratedReport
from .services import read_token


@require_GET
def download(request, token: str):
    """A signed, expiring link; and the person must be signed in and a member of the organisation."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url="/admin/login/")
    try:
        report_token = read_token(token)
    except signing.SignatureExpired:
        raise Http404("This link has expired: the report is built again on its next run.") from None
    except signing.BadSignature:
        raise Http404("This link is not valid.") from None
    report = GeneratedReport.objects.select_related("evidence_pack").filter(token=report_token).first()
    if report is None or report.expires_at < timezone.now() or report.status != GeneratedReport.Status.READY \
            or report.organization_id not in organization_ids_for(request.user):
        raise Http404("No such report.")
    if report.file.name:
        return FileResponse(report.file.open("rb"), as_attachment=True, filename=report.filename,
                            content_type=report.content_type)
    pack = report.evidence_pack
    if pack is None or pack.sha256 != report.sha256:
        raise Http404("This evidence pack was rebuilt since the link was sent: download the current one from "
                      "Close → Months.")
    try:
        response = FileResponse(pack_open(pack), as_attachment=True, filename=report.filename,
                                content_type=report.content_type)
    except FileNotFoundError:
        raise Http404("The evidence pack's file is gone: build it again from Close → Months.") from None
    response["X-Evidence-SHA256"] = pack.sha256
    return response
