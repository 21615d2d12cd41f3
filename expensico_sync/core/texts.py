"""Texts a lower floor writes for a person to read later (a pre-flight finding, a mapping gap's
detail, an allowance's explanation), kept as a code and parameters beside the English, so each
reader sees them in their own language.

A floor registers its templates (`register`, at import, as dashboard panels register) and writes
`said(code, **params)`: a `Said`, a `str` (the English text, stored and sent by the API as before)
that also carries its code and parameters. Where it is stored with its code (an upper floor's
`*_message` JSON field), `shown(text, stored)` renders it in the active language; an upper floor's
own table of texts finds these codes too (`Texts`). Parameters are data (names, account ids,
amounts, the vendor's own words), kept as they are; a parameter may itself be a `Said`, or a list
of them joined with "; "."""

from typing import Any

from django.utils.translation import gettext

# code → English template with named placeholders, from every floor that registered.
REGISTERED: dict[str, str] = {}


def register(texts: dict[str, str]) -> dict[str, str]:
    """Adds a floor's templates (marked with gettext_noop, so makemessages extracts them)."""
    for code, template in texts.items():
        if REGISTERED.get(code, template) != template:
            raise ValueError(f"message code {code!r} is registered with another text")
        REGISTERED[code] = template
    return texts


class Said(str):
    """The English text, carrying the code and parameters it was made from."""

    code: str
    params: dict[str, Any]

    def __new__(cls, code: str, params: dict[str, Any]) -> "Said":
        text = super().__new__(cls, cls.render(code, params, translate=False))
        text.code, text.params = code, params
        return text

    def __reduce__(self):                     # cached gaps are pickled: rebuild from the code
        return (type(self), (self.code, self.params))

    @staticmethod
    def render(code: str, params: dict[str, Any], *, translate: bool) -> str:
        """How this kind of text is written (an upper floor's table renders its own)."""
        return render(code, params, translate=translate)

    def stored(self) -> dict[str, Any]:
        return {"code": self.code, "params": self.params}

    def shown(self) -> str:
        """In the active language."""
        return self.render(self.code, self.params, translate=True)


def said(code: str, /, **params: Any) -> Said:
    if code not in REGISTERED:
        raise KeyError(f"unknown message code {code!r}")
    return Said(code, {k: _plain(v) for k, v in params.items()})


def shown(text: str, stored: dict[str, Any] | None) -> str:
    """The stored text in the active language when its code is registered; as stored otherwise."""
    if isinstance(text, Said) and not stored:
        return text.shown()
    if not stored or stored.get("code") not in REGISTERED:
        return text
    try:
        return render(stored["code"], stored.get("params") or {}, translate=True)
    except (KeyError, TypeError, ValueError):
        return text


def render(code: str, params: dict[str, Any], *, translate: bool) -> str:
    template = REGISTERED[code]
    text = gettext(template) if translate else template
    return text % {k: _value(v, translate) for k, v in params.items()} if params else text


class Texts(dict[str, str]):
    """An upper floor's own table of texts that also finds the codes lower floors registered."""

    def __contains__(self, code: object) -> bool:
        return super().__contains__(code) or code in REGISTERED

    def __missing__(self, code: str) -> str:
        return REGISTERED[code]


def _plain(value: Any) -> Any:
    if isinstance(value, Said):
        return value.stored()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return "" if value is None else str(value)


def _value(value: Any, translate: bool) -> str:
    if isinstance(value, list):
        return "; ".join(_value(v, translate) for v in value)
    if isinstance(value, dict) and value.get("code") in REGISTERED:
        return render(value["code"], value.get("params") or {}, translate=translate)
    return str(value)
