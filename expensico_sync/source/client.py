"""The Expensico pull API client (expensico-api.md §2): bearer token, cursor pages, retries.

429 and 5xx are retried with stamina; a Retry-After header overrides the backoff. Only GETs are
made, so retrying is always safe.
"""

import time
from collections.abc import Iterator
from datetime import timedelta
from urllib.parse import urlsplit

import requests
import stamina

from expensico_sync.core.outbound import GuardedSession, OutboundRefused

from .schemas import parse_json

TIMEOUT = (5, 60)
MAX_RETRY_AFTER = 30.0  # longer waits belong in a re-queued task, not a sleeping worker


class ExpensicoError(Exception):
    pass


class ExpensicoTransient(ExpensicoError):
    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


class ExpensicoAuthError(ExpensicoError):
    pass


class ExpensicoNotFound(ExpensicoError):
    pass


class ExpensicoTooLarge(ExpensicoError):
    pass


class ExpensicoRefused(ExpensicoError):
    """We would not send the request: the host is not allowed (see core/outbound.py). Not retried."""


def _retry_after(value: str | None) -> float | None:
    try:
        return min(max(float(value), 0.0), MAX_RETRY_AFTER) if value else None
    except ValueError:
        return None  # an HTTP-date: fall back to the exponential backoff


def _should_retry(exc: Exception) -> bool | float | timedelta:
    if isinstance(exc, ExpensicoTransient):
        return exc.retry_after if exc.retry_after is not None else True
    return isinstance(exc, requests.ConnectionError | requests.Timeout)


class ExpensicoClient:
    def __init__(self, *, base_url: str, token: str, session: GuardedSession | None = None, page_size: int = 100):
        self.base_url = base_url.rstrip("/")
        self.session = session or GuardedSession()
        self.session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
        self.page_size = page_size

    @classmethod
    def for_organization(cls, organization, **kwargs) -> "ExpensicoClient":
        if not organization.expensico_api_base_url:
            raise ExpensicoError(f"{organization.slug}: no Expensico API base URL configured")
        if not organization.expensico_api_token:
            # Cleared when the base URL moved to another host without a token: nothing to send.
            raise ExpensicoAuthError(f"{organization.slug}: no Expensico API token configured")
        return cls(base_url=organization.expensico_api_base_url, token=organization.expensico_api_token, **kwargs)

    def _send(self, url: str, **kwargs) -> requests.Response:
        try:
            return self.session.get(url, **kwargs)
        except OutboundRefused as exc:
            raise ExpensicoRefused(str(exc)) from exc

    @staticmethod
    def _raise_for_status(response: requests.Response, path: str) -> None:
        if response.status_code == 429 or response.status_code >= 500:
            raise ExpensicoTransient(f"GET {path}: {response.status_code}",
                                     _retry_after(response.headers.get("Retry-After")))
        if response.status_code in (401, 403):
            raise ExpensicoAuthError(f"GET {path}: {response.status_code} (check the API token)")
        if response.status_code == 404:
            raise ExpensicoNotFound(f"GET {path}: not found")
        if not response.ok:
            raise ExpensicoError(f"GET {path}: {response.status_code} {response.text[:200]}")

    @stamina.retry(on=_should_retry, attempts=6, timeout=120)
    def _get(self, path: str, params: dict | None = None, *, raw: bool = False):
        response = self._send(f"{self.base_url}{path}", params=params, timeout=TIMEOUT)
        self._raise_for_status(response, path)
        return response.content if raw else parse_json(response.content)

    def download(self, url: str, *, max_bytes: int, stop_at: float, timeout=TIMEOUT) -> bytes:
        """One streamed GET of a file on this API. Refused past `max_bytes` (declared or read) or
        past `stop_at` (time.monotonic()); each read waits at most the read timeout, so a server
        dripping bytes cannot hold a worker much beyond the deadline."""
        path = urlsplit(url).path
        with self._send(url, timeout=timeout, stream=True) as response:
            self._raise_for_status(response, path)
            declared = response.headers.get("Content-Length", "")
            if declared.isdigit() and int(declared) > max_bytes:
                raise ExpensicoTooLarge(f"GET {path}: {declared} bytes declared, "
                                        f"more than the {max_bytes} bytes allowed")
            chunks, size = [], 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise ExpensicoTooLarge(f"GET {path}: more than the {max_bytes} bytes allowed")
                if time.monotonic() > stop_at:
                    raise ExpensicoError(f"GET {path}: not complete by the download deadline")
                chunks.append(chunk)
        return b"".join(chunks)

    def page(self, path: str, params: dict | None = None, cursor: str | None = None) -> tuple[list, str | None]:
        query = {**(params or {}), "limit": self.page_size}
        if cursor:
            query["cursor"] = cursor
        body = self._get(path, query)
        return body["data"], body.get("next_cursor")

    def pages(self, path: str, params: dict | None = None, cursor: str | None = None) -> Iterator[tuple[list, str | None]]:
        """Yields (rows, next_cursor); next_cursor is None on the last page."""
        while True:
            rows, cursor = self.page(path, params, cursor)
            yield rows, cursor
            if not cursor:
                return

    def report(self, report_id: str) -> dict:
        return self._get(f"/v1/expense-reports/{report_id}")

    def receipt_content(self, receipt_id: str) -> bytes:
        return self._get(f"/v1/receipts/{receipt_id}/content", raw=True)
