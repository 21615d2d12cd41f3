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


@pytest.fixture(autouse=True)
def _back_to_the_default_language():
    """The switcher test activates Arabic in this thread: later tests expect the default again."""
    from django.utils import translation

    yield
    translation.activate(settings.LANGUAGE_CODE)


def _unquote(block: str) -> str:
    return "".join(re.findall(r'"((?:[^"\\]|\\.)*)"', block)).replace('\\"', '"').replace("\\n", "\n")


def catalogue(path: Path) -> dict[str, str]:
    """msgid → msgstr of a .po file, obsolete (#~) entries left out; a msgid with a context
    (pgettext) is keyed context + EOT (\\x04) + msgid, as gettext keeps it."""
    entries = {}
    for entry in re.split(r"\n\s*\n", path.read_text(encoding="utf-8")):
        if entry.lstrip().startswith("#~"):
            continue
        match = re.search(r'^msgid ((?:".*"\n?)+)msgstr ((?:".*"\n?)+)', entry, re.M)
        if match and _unquote(match.group(1)):
            context = re.search(r'^msgctxt ((?:".*"\n?)+)', entry, re.M)
            key = (_unquote(context.group(1)) + "\x04" if context else "") + _unquote(match.group(1))
            entries[key] = _unquote(match.group(2))
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
    assert "قائمة المراجعة" in page and "ما الذي حدث" in page  # our sidebar and our column


def test_amounts_show_their_currency_decimals_and_arabic_keeps_its_order():
    from decimal import Decimal

    from expensico_sync.core.formatting import bidi, money_text

    assert money_text(Decimal("1234567.5"), "SAR") == "1,234,567.50 SAR"
    assert money_text(Decimal("12000"), "JPY") == "12,000 JPY"
    assert money_text(Decimal("3.25"), "KWD") == "3.250 KWD"
    html = str(bidi("مكافأة سائق - 2026-01-03"))
    assert html == '<span dir="auto">مكافأة سائق - <span dir="ltr">2026-01-03</span></span>'
    assert "&lt;b&gt;" in str(bidi("<b>x</b>"))  # escaped, never raw HTML


OUR_APPS = {"core", "source", "notify", "retention", "backups", "access_reviews", "connectors", "mappings", "exports"}


def _labels_of_our_models():
    """(where, label) of every model name, field name, help text and choice we show, in our apps."""
    from django.apps import apps
    from django.db import models

    for model in apps.get_models():
        meta = model._meta
        if meta.app_label not in OUR_APPS or meta.proxy or model.__name__.startswith("Historical"):
            continue
        yield f"{meta.label} verbose_name", meta.verbose_name
        yield f"{meta.label} verbose_name_plural", meta.verbose_name_plural
        for field in meta.get_fields(include_hidden=False):
            if not isinstance(field, models.Field) or isinstance(field, models.AutoField):
                continue  # reverse relations are the other model's; the id is Django's
            if any(field.name in {f.name for f in base._meta.fields} for base in model.__mro__[1:]
                   if getattr(base, "_meta", None) and base._meta.app_label not in OUR_APPS):
                continue  # declared by a third-party abstract model (djangorestframework-api-key)
            if field.name == "id" or field.name.endswith("_ptr"):
                continue
            yield f"{meta.label}.{field.name}", field.verbose_name
            if field.help_text:
                yield f"{meta.label}.{field.name} help_text", field.help_text
            for _value, label in field.flatchoices if field.choices else ():
                yield f"{meta.label}.{field.name} choice", label


def test_every_model_field_and_choice_label_of_ours_is_translatable_and_has_its_arabic():
    """Django derives an unmarked label from the field's name ("description ar", "sla due at"):
    every label of ours is marked (gettext_lazy), readable, and the catalogue has its Arabic."""
    from django.utils.functional import Promise

    arabic = catalogue(PO)
    unmarked = [where for where, label in _labels_of_our_models() if not isinstance(label, Promise)]
    assert unmarked == [], "mark these with gettext_lazy (verbose_name=_(...))"
    labels = {where: str(label) for where, label in _labels_of_our_models()}
    missing = sorted(where for where, label in labels.items() if not arabic.get(label))
    assert missing == [], "no Arabic for these labels"
    raw = sorted(where for where, label in labels.items() if re.search(r"\b(ar|label|ms|html)$|_", label)
                 and "help_text" not in where and "choice" not in where)
    assert raw == [], "raw labels (a field name with its suffix): give them a readable verbose_name"


def test_raw_system_keys_are_shown_by_their_names():
    from connectors.registry import system_label, vendors

    assert all(system_label(v.key) == v.label for v in vendors())
    assert system_label("business_central") != "business_central"
    assert system_label("no_such_system") == "no_such_system"
