"""The shipped Apideck spec copy, and the request/response checks the sandbox runs on it."""

import filecmp
from pathlib import Path

import pytest

from connectors.apideck.sandbox import spec

SHARED = Path("/work/shared/specs/apideck-accounting.yml")
HEADERS = {"authorization": "Bearer k", "x-apideck-app-id": "a", "x-apideck-consumer-id": "c"}


def test_shipped_copy_equals_shared_spec():
    if not SHARED.exists():
        pytest.skip("no /work/shared on this machine: the shipped copy is the contract")
    assert filecmp.cmp(spec.SPEC_PATH, SHARED, shallow=False)
    assert spec.spec()["info"]["version"] == "10.34.0"


def test_request_checks():
    assert spec.check_request("GET", "/accounting/journal-entries", {}, HEADERS, None)[0] == 0
    status, kind, _ = spec.check_request("GET", "/accounting/journal-entries", {}, {"authorization": "x"}, None)
    assert (status, kind) == (400, "RequestHeadersValidationError")
    status, kind, _ = spec.check_request("GET", "/accounting/journal-entries", {"filter[number]": ["X"]}, HEADERS, None)
    assert (status, kind) == (400, "UnsupportedFiltersError"), "filter[number] arrived after 10.34"
    status, kind, _ = spec.check_request("GET", "/accounting/journal-entries", {"limit": ["500"]}, HEADERS, None)
    assert (status, kind) == (400, "RequestValidationError")
    status, kind, problems = spec.check_request("POST", "/accounting/journal-entries", {}, HEADERS,
                                                {"line_items": [], "bogus": 1})
    assert status == 400 and any("bogus" in p for p in problems)
    assert spec.check_request("GET", "/accounting/nothing", {}, HEADERS, None)[0] == 404


def test_response_checks():
    ok = {"status_code": 201, "status": "Created", "service": "workday", "resource": "journal-entries",
          "operation": "add", "data": {"id": "x"}}
    assert spec.check_response("POST", "/accounting/journal-entries", 201, ok) == []
    assert spec.check_response("POST", "/accounting/journal-entries", 201, {"data": {}})
