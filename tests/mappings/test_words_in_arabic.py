"""What mappings store in English or as codes is put in the reader's words when shown: suggestion
reasons with Arabic's six plural forms, change reasons and gap details matched back to their
templates. English stays exactly what was written before."""

import re

from django.utils import translation

from mappings import gap_words, history
from mappings.suggest import Reason, Suggestion


def test_a_count_in_a_reason_takes_each_of_arabics_six_plural_forms():
    with translation.override("ar"):
        forms = {re.sub(r"\d+", "#", str(Reason("used", n))) for n in (0, 1, 2, 3, 11, 100)}
    assert len(forms) == 6 and not any(re.search(r"[A-Za-z]", form) for form in forms)
    with translation.override("en"):
        assert str(Reason("used", 1)) == "used for 1 similar expense"
        assert str(Reason("others", 3)) == "chosen for a similar category 3 times elsewhere"


def test_a_suggestion_says_why_in_the_language_active_when_shown():
    suggestion = Suggestion("acc-1", "Transport", "6100", 80.0, (Reason("used", 2), Reason("name")))
    assert suggestion.why == "used for 2 similar expenses · name match"
    with translation.override("ar"):
        assert not re.search(r"[A-Za-z]", suggestion.why)


def test_every_stored_change_reason_reads_in_arabic():
    stored = [history.REASON_CLONED % {"source": "Books"}, history.REASON_REVERTED_TO % {"at": "2026-11-02T10:00:00"},
              history.REASON_REVERTED_VERSION % {"version": 7}, history.REASON_SUGGESTION_APPLIED % {"user": "noura"},
              history.REASON_SUGGESTION_AUTO % {"score": "93"}, history.REASON_RULE_APPLIED]
    with translation.override("ar"):
        shown = [history.reason_text(reason) for reason in stored]
    assert not any(re.search(r"[A-Za-z]{3}", re.sub(r"Books|noura", "", s)) for s in shown), shown
    assert "7" in shown[2] and "noura" in shown[3]
    assert history.reason_text("typed by hand") == "typed by hand"


def test_gap_details_and_setting_keys_read_in_arabic():
    details = [gap_words.CHOOSE_ACCOUNT % {"which": gap_words.CLAIMS}, gap_words.TAX_ACCOUNT_NEEDED,
               gap_words.NO_RATE % {"currency": "USD", "base": "SAR", "on": "2026-11-02"},
               gap_words.VAT_EXCEEDS % {"stated": "20.00", "amount": "15.00"}]
    with translation.override("ar"):
        shown = [gap_words.gap_detail_text(d) for d in details]
        assert gap_words.gap_key_label(gap_words.FUNDING_BANK) != gap_words.FUNDING_BANK
        assert gap_words.gap_key_label("TRAVEL") == "TRAVEL"
        assert gap_words.gap_detail_text("Travel") == "Travel"   # a category's own name stays
    assert not any(re.search(r"[a-z]{3}", re.sub(r"USD|SAR", "", s)) for s in shown), shown
