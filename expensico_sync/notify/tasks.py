from . import kinds
from .digest import send_all
from .sender import send_pending as _send_pending


def send_pending() -> int:
    return _send_pending()


def daily_digest() -> int:
    count = send_all(kinds.DIGEST_DAILY.key)
    _send_pending()
    return count


def weekly_digest() -> int:
    count = send_all(kinds.DIGEST_WEEKLY.key)
    _send_pending()
    return count
