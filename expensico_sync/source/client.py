"""The Expensico pull API client (expensico-api.md §2): bearer token, cursor pages, retries.

429 and 5xx are retried with stamina; a Retry-After header overrides the backoff. Only GETs are
made, so retrying is always safe.
"""

from collections.abc import Iterator
from datetime import timedelta

import requests
import stamina

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
    def __init__(self, *, base_url: str, token: str, session: requests.Session | None = None, page_size: int = 100):
        self.base_url = base_url.rstrip("/")
        self.session = session or requests.Session()
        self.session.headers.update({"Authorization": f"Bearer {token}", "Accept": "application/json"})
        self.page_size = page_size

    @classmethod
    def for_organization(cls, organization, **kwargs) -> "ExpensicoClient":
        if not organization.expensico_api_base_url:
            raise ExpensicoError(f"{organization.slug}: no Expensico API base URL configured")
        return cls(base_url=organization.expensico_api_base_url, token=organization.expensico_api_token, **kwargs)

    @stamina.retry(on=_should_retry, attempts=6, timeout=120)
    def _get(self, path: str, params: dict | None = None, *, raw: bool = False):
        response = self.session.get(f"{self.base_url}{path}", params=params, timeout=TIMEOUT)
        if response.status_code == 429 or response.status_code >= 500:
            raise ExpensicoTransient(f"GET {path}: {response.status_code}",
                                     _retry_after(response.headers.get("Retry-After")))
        if response.status_code in (401, 403):
            raise ExpensicoAuthError(f"GET {path}: {response.status_code} (check the API token)")
        if response.status_code == 404:
            raise ExpensicoNotFound(f"GET {path}: not found")
        if not response.ok:
            raise ExpensicoError(f"GET {path}: {response.status_code} {response.text[:200]}")
        return response.content if raw else parse_json(response.content)

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
