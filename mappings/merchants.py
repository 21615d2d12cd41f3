"""Merchant names as card networks spell them, reduced so repeat merchants meet.

"CAREEM*RIDE 1234", "Careem Hala", "careem" and "CAREEM.COM" all become "careem": the text
before a processor's `*` separator, without digits, punctuation, web suffixes and trailing
noise words.
"""

import re
import unicodedata
from functools import lru_cache

_NOISE = {"ride", "rides", "hala", "food", "llc", "ltd", "inc", "co", "com", "sa", "ksa", "uae", "the",
          "store", "online", "payment", "payments", "pos", "www", "est", "trading", "company", "app"}
_WEB = re.compile(r"\.(com|net|org|sa|ae|io|co)(\.[a-z]{2})?\b")


@lru_cache(maxsize=4096)  # pure; every rule compares its merchant with each expense's (a rule test: 1,000 × rules)
def normalise_merchant(name: str | None) -> str:
    if not name:
        return ""
    text = unicodedata.normalize("NFKC", name).casefold().strip()
    # Processors prefix the merchant and append a reference after "*": "SQ *CAFE", "CAREEM*RIDE".
    parts = [p.strip() for p in text.split("*") if p.strip()]
    if len(parts) > 1 and parts[0] in {"sq", "sp", "pp", "paypal", "tst", "sumup"}:
        parts = parts[1:]
    text = parts[0] if parts else ""
    text = _WEB.sub(" ", text)
    text = re.sub(r"[\d_]+", " ", text)
    text = re.sub(r"[^\w\s]", " ", text)  # \w keeps Arabic letters
    words = [w for w in text.split() if w]
    while len(words) > 1 and words[-1] in _NOISE:
        words.pop()
    if len(words) > 1 and words[0] in {"the", "www"}:
        words = words[1:]
    return " ".join(words)
