"""The review queue read at 1440 and 1280 px: "What happened" (was "What the vendor said") and "Fix" wrapped one word per
line (issue 21's review queue). The vendor's words now take at least 11rem, cut to three lines with
the whole text in the tooltip, and each fix link sits on one line; the table still fits its
container. Screenshots: test-artifacts/review-queue-width-*.png."""

import os

import pytest
from playwright.sync_api import expect

from tests.conftest import admin_login
from tests.e2e.test_changelist_width import busy  # noqa: F401
from tests.exports.conftest import _fake_vendor_registered, conn, org, vendor  # noqa: F401

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

# Per cell: how many lines its text needs (scrollHeight, so text cut to three lines still counts
# every line it would take) and how many words it has.
LINES = """cells => cells.map(el => {
    const line = parseFloat(getComputedStyle(el).lineHeight);
    return {text: el.innerText, lines: Math.round(el.scrollHeight / line),
            words: el.innerText.trim().split(/\\s+/).length, width: el.getBoundingClientRect().width};
})"""


@pytest.mark.parametrize("width", [1440, 1280])
def test_the_review_queue_is_readable(page, live_server, artifacts_dir, busy, width):  # noqa: F811
    admin_login(page, live_server)
    page.set_viewport_size({"width": width, "height": 900})
    page.goto(f"{live_server.url}/admin/exports/reviewitem/")
    table = page.locator("#result_list")
    expect(table.locator("tbody tr")).to_have_count(4)
    page.screenshot(path=os.path.join(artifacts_dir, f"review-queue-width-{width}.png"), full_page=True)

    said = table.locator("td.field-said .review-said").evaluate_all(LINES)
    assert len(said) == 4
    for cell in said:
        assert cell["lines"] <= 4, f"{width}px: {cell}"
        if cell["words"] >= 3:
            assert cell["lines"] < cell["words"], f"{width}px: one word per line: {cell}"
        assert cell["width"] >= 170, f"{width}px: the vendor's words squeezed: {cell}"

    fixes = table.locator("td.field-fix_link a").evaluate_all(LINES)
    assert len(fixes) >= 5      # retry, the mapping, three for the missing receipt, acknowledge
    for link in fixes:
        assert link["lines"] == 1, f"{width}px: a fix link wraps: {link}"

    table_width, container_width, page_width = table.evaluate(
        "t => [t.scrollWidth, t.parentElement.clientWidth, document.documentElement.scrollWidth]")
    assert table_width <= container_width, f"{width}px: the table is {table_width}px in {container_width}px"
    assert page_width <= width, f"{width}px: the page scrolls sideways ({page_width}px)"

    # The whole text is a hover away.
    receipt = table.locator("td.field-said .review-said", has_text="Receipt needed")
    assert "Receipt needed" in receipt.get_attribute("title")
    assert table.locator("td.field-fix_link a[title='Receipt arrived — retry']").count() == 1
