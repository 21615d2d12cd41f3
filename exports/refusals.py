"""A refusal (exports/errors.py) as the admin shows it: in the reader's language when its text is
one of our messages, as raised otherwise (the API sends the English)."""

from .errors import IllegalTransition, Refused
from .messages import shown, stored_of


def refusal_shown(refused: Refused) -> str:
    if isinstance(refused, IllegalTransition):
        stored = {"code": "illegal_transition",
                  "params": {"current": {"status": refused.current}, "target": {"status": refused.target}}}
        return shown(str(refused), stored)
    return shown(str(refused), stored_of(refused.detail))
