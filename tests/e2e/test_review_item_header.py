"""Issue 21: "Header buttons must not crush the breadcrumbs". A missing-receipt review item offers
the most header buttons (receipt arrived, book without receipt, the other resolutions, history); in
Arabic their words are longer and the breadcrumbs were cut to nothing. In both directions, at 1440
and 1280 px, every breadcrumb is shown whole and no button covers it. Screenshots:
test-artifacts/review-item-header-*.png."""

import os

import pytest
from playwright.sync_api import expect

from exports.models import ReviewItem
from tests.conftest import admin_login
from tests.e2e.test_admin_arabic import _to_arabic
from tests.e2e.test_changelist_width import busy  # noqa: F401
from tests.exports.conftest import _fake_vendor_registered, conn, org, vendor  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Each breadcrumb's text against its box (truncate clips it with an ellipsis), and the header's
# buttons' boxes against the breadcrumbs'.
MEASURE = """h1 => {
    const parts = [...h1.querySelectorAll('a, span.truncate')].map(p => ({
        text: p.innerText.trim(), clipped: p.scrollWidth > p.clientWidth + 1}));
    const crumbs = h1.getBoundingClientRect();
    const list = h1.closest('#header-inner').querySelector('ul');
    const buttons = [...(list ? list.querySelectorAll(':scope > li') : [])].map(li => li.getBoundingClientRect())
        .filter(r => r.width > 0);
    const overlaps = buttons.filter(r => r.left < crumbs.right && r.right > crumbs.left
                                         && r.top < crumbs.bottom && r.bottom > crumbs.top).length;
    return {parts, overlaps, buttons: buttons.length, h1: [crumbs.width, h1.scrollWidth]};
}"""


@pytest.mark.parametrize("language", ["en", "ar"])
@pytest.mark.parametrize("width", [1440, 1280])
def test_header_buttons_leave_the_breadcrumbs_whole(page, live_server, artifacts_dir, busy, language, width):  # noqa: F811
    if language == "ar":
        _to_arabic(page, live_server)
    else:
        admin_login(page, live_server)
    page.set_viewport_size({"width": width, "height": 900})
    item = ReviewItem.objects.get(record__expense__expensico_id="exp_r", resolved_at__isnull=True)
    page.goto(f"{live_server.url}/admin/exports/reviewitem/{item.pk}/change/")
    h1 = page.locator("#header-inner h1")
    expect(h1).to_contain_text(item.record.reference)
    page.screenshot(path=os.path.join(artifacts_dir, f"review-item-header-{language}-{width}.png"))

    seen = h1.evaluate(MEASURE)
    assert seen["buttons"] >= 3, seen                       # the receipt's two, the other resolutions
    assert len(seen["parts"]) >= 3, seen                    # app › model › the item
    assert not [p for p in seen["parts"] if p["clipped"]], f"{language} {width}px: a breadcrumb is cut: {seen}"
    assert seen["h1"][1] <= seen["h1"][0] + 1, f"{language} {width}px: the breadcrumbs overflow: {seen}"
    assert seen["overlaps"] == 0, f"{language} {width}px: a button covers the breadcrumbs: {seen}"
    for name in ("Receipt arrived — retry", "Book without receipt") if language == "en" else ():
        expect(page.locator("#header-inner ul a", has_text=name)).to_be_visible()
    # The item's own Fix field: one link a line, whole (the list's clipping stays in the list).
    tops = page.locator("div.review-fix a").evaluate_all(
        "links => links.map(a => [Math.round(a.getBoundingClientRect().top), a.scrollWidth <= a.clientWidth + 1])")
    assert len(tops) == 3 and len({top for top, _whole in tops}) == 3 and all(whole for _top, whole in tops), tops
