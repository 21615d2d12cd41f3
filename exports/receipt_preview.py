"""Receipts as a person glances at them in the review queue: an image receipt as a thumbnail,
a PDF as an icon and a link, both served by the authenticated, organisation-scoped receipt view
(expensico_sync.source.receipt_views), never from a public media URL. The thumbnail is the file
itself scaled by the browser: Pillow is not installed, so no resized variant is made."""

from django.db.models import OuterRef, Subquery
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from expensico_sync.source.models import Receipt
from expensico_sync.source.receipt_views import receipt_url

from .models import ExportRecord

IMAGE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}   # what browsers show in <img>
ICON = '<span class="material-symbols-outlined text-base align-middle" aria-hidden="true">{}</span>'


def record_expense_id(record_path: str = "record_id") -> Subquery:
    """The expense id of the row's export record, for use inside a receipt subquery. Read through a
    subquery rather than the path `record__expense_id`: that path joins the export records into the
    outer query, and the join stays in the changelist's COUNT(*) even though Django drops the unused
    annotation (at 1M records PostgreSQL then scanned all of them to count 20,000 open items)."""
    return Subquery(ExportRecord.objects.filter(pk=OuterRef(OuterRef(record_path))).values("expense_id")[:1])


def first_receipt_annotations(expense: str | Subquery) -> dict[str, Subquery]:
    """For a changelist's single query: the first receipt's id, type and whether it is fetched
    (`expense`: the path to the expense id, or an expression giving it)."""
    first = Receipt.objects.filter(expense_id=OuterRef(expense) if isinstance(expense, str) else expense
                                   ).order_by("pk")
    return {"_receipt_id": Subquery(first.values("pk")[:1]),
            "_receipt_type": Subquery(first.values("content_type")[:1]),
            "_receipt_file": Subquery(first.values("file")[:1])}


def receipt_indicator(receipt_id, content_type: str, fetched: bool):
    """The list column: an icon saying image or PDF, linked to the file once it is fetched."""
    icon = "image" if content_type in IMAGE_TYPES else "picture_as_pdf" if content_type == "application/pdf" \
        else "description"
    label = format_html('<span class="whitespace-nowrap">' + ICON + ' {}</span>', icon, _("attached"))
    if not fetched:
        return format_html('<span data-test="receipt-indicator" title="{}">{}</span>', _("not fetched yet"), label)
    return format_html('<a class="text-primary-600" data-test="receipt-indicator" href="{}" target="_blank" '
                       'rel="noopener">{}</a>', receipt_url_for(receipt_id), label)


def receipt_url_for(receipt_id) -> str:
    return receipt_url(Receipt(pk=receipt_id))


def receipt_previews(receipts):
    """The item page: thumbnails for images, an icon and a link for PDFs and anything else."""
    return format_html('<div class="flex flex-wrap gap-3 items-end">{}</div>',
                       format_html_join("", "{}", ((_preview(r),) for r in receipts)))


def _preview(receipt: Receipt):
    if not receipt.file:
        return format_html('<span dir="auto">{} ({})</span>', receipt.filename, _("not fetched yet"))
    url = receipt_url(receipt)
    if receipt.content_type in IMAGE_TYPES:
        return format_html(
            '<a href="{}" target="_blank" rel="noopener" title="{}"><img data-test="receipt-thumbnail" src="{}" '
            'alt="{}" class="rounded-default border border-base-200" '
            'style="width: 8rem; height: 8rem; object-fit: contain"></a>',
            url, receipt.filename, url, receipt.filename)
    icon = "picture_as_pdf" if receipt.content_type == "application/pdf" else "description"
    return format_html('<a class="text-primary-600 underline" data-test="receipt-link" href="{}" target="_blank" '
                       'rel="noopener">' + ICON + ' <span dir="auto">{}</span></a>', url, icon, receipt.filename)
