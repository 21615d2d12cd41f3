"""The review queue shows the receipt: an image as a thumbnail and a PDF as an icon and a link on the
item page, an indicator in the list; all through the authenticated, organisation-scoped receipt view."""

import re

import pytest
from django.core.files.base import ContentFile
from django.urls import reverse

from expensico_sync.source.models import Receipt
from exports.models import ReviewItem
from exports.services.worker import records_work_due

from .conftest import approve, expense

pytestmark = pytest.mark.django_db

PNG = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
       b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")


@pytest.fixture
def queue_items(org, conn, vendor, settings, tmp_path):
    settings.MEDIA_ROOT = str(tmp_path)
    approve(org, expense("exp_img", category="HOTEL"), expense("exp_pdf", category="HOTEL"))
    records_work_due()
    image = Receipt.objects.get(expense__expensico_id="exp_img")
    image.content_type, image.filename = "image/png", "taxi.png"
    image.file.save("taxi.png", ContentFile(PNG), save=False)
    image.save()
    pdf = Receipt.objects.get(expense__expensico_id="exp_pdf")
    pdf.file.save("r.pdf", ContentFile(b"%PDF-1.4"), save=True)
    return {i.record.source_id: i for i in ReviewItem.objects.select_related("record")}, image, pdf


def test_item_page_shows_an_image_thumbnail_and_a_pdf_link(admin_client, queue_items):
    by_source, image, pdf = queue_items
    page = admin_client.get(reverse("admin:exports_reviewitem_change", args=[by_source["exp_img"].pk])).content.decode()
    assert f'data-test="receipt-thumbnail" src="/receipts/{image.pk}/"' in page
    served = admin_client.get(f"/receipts/{image.pk}/")
    assert served.status_code == 200 and served["Content-Type"] == "image/png"
    page = admin_client.get(reverse("admin:exports_reviewitem_change", args=[by_source["exp_pdf"].pk])).content.decode()
    assert f'data-test="receipt-link" href="/receipts/{pdf.pk}/"' in page and "picture_as_pdf" in page
    assert "receipt-thumbnail" not in page


def test_list_shows_which_kind_of_receipt(admin_client, queue_items):
    _, image, pdf = queue_items
    url = reverse("admin:exports_reviewitem_changelist")
    page = admin_client.get(url).content.decode()
    assert page.count('data-test="receipt-indicator"') == 2
    assert f'href="/receipts/{image.pk}/"' in page and f'href="/receipts/{pdf.pk}/"' in page
    assert ">image</span>" in page and ">picture_as_pdf</span>" in page


def test_receipt_not_fetched_or_missing_says_so(admin_client, queue_items):
    by_source, image, _ = queue_items
    image.file = ""
    image.save()
    page = admin_client.get(reverse("admin:exports_reviewitem_change", args=[by_source["exp_img"].pk])).content.decode()
    assert "taxi.png (not fetched yet)" in page and "receipt-thumbnail" not in page
    Receipt.objects.filter(pk=image.pk).delete()
    listing = admin_client.get(reverse("admin:exports_reviewitem_changelist")).content.decode()
    assert ">missing</span>" in listing


def test_not_fetched_yet_is_translated():
    """The indicator's title and the item page's note were plain English on an Arabic page."""
    from django.utils import translation

    from exports.receipt_preview import _preview, receipt_indicator

    with translation.override("ar"):
        assert "لم يُجلب بعد" in receipt_indicator(1, "application/pdf", fetched=False)
        assert "لم يُجلب بعد" in _preview(Receipt(filename="taxi.png"))


def test_the_item_page_offers_widgets_that_show_and_only_the_fields_its_reason_uses(admin_client, queue_items):
    """"Resolve as" and "Correct account" were Django's bare widgets (no border: invisible), and the
    correct account, which answers a suggested coding only, sat on every item."""
    by_source, _, _ = queue_items
    item = by_source["exp_img"]
    page = admin_client.get(reverse("admin:exports_reviewitem_change", args=[item.pk])).content.decode()
    assert 'name="correct_account"' not in page
    assert "border" in re.search(r'<select[^>]*name="resolve_as"[^>]*>', page).group(0)   # Unfold's, styled
    ReviewItem.objects.filter(pk=item.pk).update(reason=ReviewItem.Reason.SUGGESTED_CODING)
    page = admin_client.get(reverse("admin:exports_reviewitem_change", args=[item.pk])).content.decode()
    assert "border" in re.search(r'<input[^>]*name="correct_account"[^>]*>', page).group(0)
