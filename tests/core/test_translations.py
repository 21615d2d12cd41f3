"""The admin in Arabic: every string of ours has its Arabic, the compiled catalogue matches it,
and the admin switches language (right to left) from the language switcher."""

import gettext
import re
import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.urls import reverse

from tests.core.factories import make_org
from tests.exports.factories import make_review_item

LOCALE = Path(settings.BASE_DIR) / "locale"
PO = LOCALE / "ar" / "LC_MESSAGES" / "django.po"
IGNORE = [".venv", "tests", "bench", "staticfiles", "test-artifacts", "docs", "var"]


def _unquote(block: str) -> str:
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block)).replace('\\"', '"').replace("\\n", "\n")


def catalogue(path: Path) -> dict[str, str]:
    """msgid → msgstr of a .po file, obsolete (#~) entries left out."""
    entries = {}
    for entry in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        if entry.lstrip().startswith("#~"):
            continue
        match = re.search(r'^msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', entry, re.M)
        if match and _unquote(match.group(1)):
            entries[_unquote(match.group(1))] = _unquote(match.group(2))
    return entries


def test_every_string_of_ours_has_its_arabic(tmp_path, settings):
    """Extracts the strings afresh from the code (as `makemessages` does) into a copy of the
    catalogue: a new or changed msgid without Arabic fails here, naming it."""
    copy = tmp_path / "ar" / "LC_MESSAGES"
    copy.mkdir(parents=True)
    shutil.copy(PO, copy / "django.po")
    settings.LOCALE_PATHS = [tmp_path]
    call_command("makemessages", locale=["ar"], ignore_patterns=IGNORE, no_location=True, verbosity=0)
    fresh = catalogue(copy / "django.po")
    assert len(fresh) > 150
    untranslated = sorted(msgid for msgid, msgstr in fresh.items() if not msgstr.strip())
    assert untranslated == [], "no Arabic in locale/ar/LC_MESSAGES/django.po for these (run makemessages, translate)"
    assert set(fresh) == set(catalogue(PO)), "locale/ar/LC_MESSAGES/django.po is stale: run makemessages -l ar"


def test_the_compiled_catalogue_matches_the_po_file():
    with open(LOCALE / "ar" / "LC_MESSAGES" / "django.mo", "rb") as handle:
        compiled = gettext.GNUTranslations(handle)
    stale = [msgid for msgid, msgstr in catalogue(PO).items() if compiled.gettext(msgid) != msgstr]
    assert stale == [], "django.mo is older than django.po: run compilemessages -l ar"


@pytest.mark.django_db
def test_the_admin_switches_to_arabic_right_to_left(admin_client):
    make_review_item(make_org("arabic"))
    page = admin_client.get(reverse("admin:index")).content.decode()
    assert 'dir="ltr"' in page and reverse("set_language") in page  # the switcher is offered
    response = admin_client.post(reverse("set_language"), {"language": "ar", "next": reverse("admin:index")})
    assert response.status_code == 302
    page = admin_client.get(reverse("admin:exports_reviewitem_changelist")).content.decode()
    assert '<html lang="ar" dir="rtl"' in page
    assert "قائمة المراجعة" in page and "ما قاله المورّد" in page  # our sidebar and our column


def test_amounts_show_their_currency_decimals_and_arabic_keeps_its_order():
    from decimal import Decimal

    from expensico_sync.core.formatting import bidi, money_text

    assert money_text(Decimal("1234567.5"), "SAR") == "1,234,567.50 SAR"
    assert money_text(Decimal("12000"), "JPY") == "12,000 JPY"
    assert money_text(Decimal("3.25"), "KWD") == "3.250 KWD"
    html = str(bidi("مكافأة سائق - 2026-01-03"))
    assert html == '<span dir="auto">مكافأة سائق - <span dir="ltr">2026-01-03</span></span>'
    assert "&lt;b&gt;" in str(bidi("<b>x</b>"))  # escaped, never raw HTML
