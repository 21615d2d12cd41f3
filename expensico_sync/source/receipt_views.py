"""Receipt files, served only to a signed-in member of the expense's organisation (never from a
public /media/ URL), from whatever storage holds them: the same path in development and production."""

from django.contrib.admin.views.decorators import staff_member_required
from django.http import FileResponse, Http404
from django.urls import reverse
from django.views.decorators.http import require_GET

from expensico_sync.core.selectors import Access

from .models import Receipt

# Shown in the browser; anything else (HTML, SVG: script) is downloaded, never rendered.
INLINE_TYPES = {"application/pdf", "image/png", "image/jpeg", "image/gif", "image/webp", "image/heic"}


def receipt_url(receipt: Receipt) -> str:
    return reverse("receipt-file", args=[receipt.pk])


@require_GET
@staff_member_required
def receipt_file(request, pk: int):
    receipt = Receipt.objects.select_related("expense").filter(pk=pk).first()
    if receipt is None or not (request.user.is_superuser
                               or receipt.expense.organization_id in Access.of(request.user).org_ids):
        raise Http404("no such receipt")   # the same answer whether it exists elsewhere or not at all
    if not receipt.file:
        raise Http404("the receipt's file has not been fetched yet")
    try:
        handle = receipt.file.open("rb")
    except FileNotFoundError:
        raise Http404("the receipt's file is missing from storage") from None
    inline = receipt.content_type in INLINE_TYPES
    response = FileResponse(handle, as_attachment=not inline, filename=receipt.filename or receipt.file.name or "receipt",
                            content_type=receipt.content_type if inline else "application/octet-stream")
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"
    response["Cache-Control"] = "private, no-store"
    return response
