"""Issue 14, items 1 and 2 at send time: the pull client and receipt downloads reach only allowed
hosts, never a private address the deployment did not list, never a redirect off the host, and
receipts are capped in bytes and time. Every "attacker" here is a real loopback listener that
records what reaches it."""

import hashlib
import time
from datetime import date

import pytest
from django.urls import reverse

from expensico_sync.core import outbound
from expensico_sync.core.models import Organization
from expensico_sync.core.roles import Role
from expensico_sync.source.client import ExpensicoClient, ExpensicoError, ExpensicoRefused
from expensico_sync.source.models import Receipt
from expensico_sync.source.pull import pull_sync_create, pull_sync_run
from expensico_sync.source.receipts import receipts_fetch
from tests.core.factories import make_member
from tests.source.factories import expense_payload, report_payload
from tests.source.helpers import Listener, approved, post_event

pytestmark = pytest.mark.django_db
PDF = b"%PDF-1.7 a receipt"
DAY = date(2026, 3, 1)


def page(body=b'{"data": [], "next_cursor": null}'):
    return lambda h: Listener.send(h, 200, body, Content_Type="application/json")


def configure(org, url, token="tok"):
    org.expensico_api_base_url, org.expensico_api_token = url, token
    org.save()


def test_a_redirected_base_url_never_receives_the_stored_token(client, org, listener):
    """The probe's attack: an owner points the base URL at a host of their own without re-entering
    the token, then a sync runs. The token is gone and nothing reaches the listener."""
    expensico = listener(answer=page())
    configure(org, expensico.url(), token="tok-secret")
    attacker = listener(answer=page())
    client.force_login(make_member(org, Role.OWNER))
    response = client.patch(f"/api/v1/organizations/{org.pk}/", {"expensico_api_base_url": attacker.url()},
                            content_type="application/json")
    assert response.status_code == 200
    org = Organization.objects.get(pk=org.pk)
    with pytest.raises(ExpensicoError, match="no Expensico API token"):
        pull_sync_run(pull_sync=pull_sync_create(organization=org, date_from=DAY, date_to=DAY))
    assert attacker.requests == []


def test_the_pull_client_refuses_a_host_no_longer_allowed_at_send_time(org, listener, settings):
    """Validation happens when the URL is saved; the deployment's list can change afterwards."""
    server = listener(answer=page())
    configure(org, server.url())
    settings.EXPENSICO_HOSTS_ALLOW = settings.VENDOR_HOSTS_ALLOW = []
    with pytest.raises(ExpensicoRefused, match="not Expensico's API host"):
        ExpensicoClient.for_organization(org).page("/v1/categories")
    assert server.requests == []
    settings.VENDOR_HOSTS_ALLOW = ["127.0.0.1"]  # either list names it: allowed again
    assert ExpensicoClient.for_organization(org).page("/v1/categories") == ([], None)
    assert server.requests == [("/v1/categories?limit=100", "Bearer tok")]


def test_an_allowed_name_resolving_to_loopback_is_refused_unless_listed(org, listener, settings, monkeypatch):
    """Expensico's own host name is allowed, but only where it resolves to public addresses: here
    the name is "localhost" (it resolves to loopback through /etc/hosts)."""
    server = listener(answer=page())
    monkeypatch.setattr(outbound, "EXPENSICO_API_HOSTS", frozenset({"localhost"}))
    settings.EXPENSICO_HOSTS_ALLOW = settings.VENDOR_HOSTS_ALLOW = []
    client = ExpensicoClient(base_url=server.url(host="localhost", scheme="https"), token="tok")
    with pytest.raises(ExpensicoRefused, match="resolves to .*loopback"):
        client.page("/v1/categories")
    assert server.requests == []
    settings.EXPENSICO_HOSTS_ALLOW = ["localhost"]
    assert ExpensicoClient(base_url=server.url(host="localhost"), token="tok").page("/v1/categories") == ([], None)


def test_redirects_are_followed_on_the_same_host_only(org, listener):
    elsewhere = listener(answer=page())

    def answer(h):
        path = h.path.split("?")[0]
        if path == "/v1/categories":
            return Listener.send(h, 302, Location="/v1/moved?limit=100")
        if path == "/v1/moved":
            return page()(h)
        return Listener.send(h, 302, Location=elsewhere.url("/v1/steal"))

    expensico = listener(answer=answer)
    client = ExpensicoClient(base_url=expensico.url(), token="tok")
    assert client.page("/v1/categories") == ([], None)  # the same-origin hop is followed
    with pytest.raises(ExpensicoRefused, match="redirected off its host"):
        client.page("/v1/card-fundings")
    assert elsewhere.requests == []


def receipt(rid, url, content=PDF, filename="r.pdf"):
    return {"id": rid, "filename": filename, "content_type": "application/pdf", "size": len(content),
            "sha256": hashlib.sha256(content).hexdigest(), "url": url}


def deliver(client, org, receipts, django_capture_on_commit_callbacks):
    body = approved(report_payload(1, expenses=[expense_payload(1, receipts=receipts)]))
    with django_capture_on_commit_callbacks(execute=True):
        response = post_event(client, org, body)
    assert response.status_code == 202  # a refused receipt never fails the delivery
    return {r.expensico_id: r for r in Receipt.objects.all()}


def test_a_receipt_off_the_organisations_expensico_host_is_refused_and_the_rest_goes_on(
        client, org, listener, django_capture_on_commit_callbacks):
    expensico = listener(body=PDF)
    configure(org, expensico.url())
    attacker = listener(body=PDF)
    receipts = deliver(client, org, [
        receipt("r_ok", expensico.url("/v1/receipts/r_ok/content")),
        receipt("r_port", attacker.url("/v1/receipts/r_port/content")),
        receipt("r_scheme", expensico.url("/v1/receipts/r_scheme/content", scheme="https")),
    ], django_capture_on_commit_callbacks)
    assert receipts["r_ok"].verified and receipts["r_ok"].file.read() == PDF
    for rid in ("r_port", "r_scheme"):
        assert not receipts[rid].verified and receipts[rid].fetch_error.startswith("refused:"), rid
    assert attacker.requests == []
    assert expensico.requests == [("/v1/receipts/r_ok/content", "Bearer tok")]
    # Visible to a person on the expense, with its reason.
    client.force_login(make_member(org, Role.OWNER))
    page = client.get(reverse("admin:source_expense_change", args=[receipts["r_port"].expense_id])).content.decode()
    assert "refused:" in page and "is not the organisation&#x27;s Expensico API" in page


def test_receipts_are_refused_without_a_configured_expensico_api(client, org, listener,
                                                                 django_capture_on_commit_callbacks):
    server = listener(body=PDF)
    receipts = deliver(client, org, [receipt("r1", server.url("/v1/receipts/r1/content"))],
                       django_capture_on_commit_callbacks)
    assert "no Expensico API base URL" in receipts["r1"].fetch_error and server.requests == []


def test_a_receipt_on_a_private_address_is_fetched_only_when_a_list_names_the_host(org, listener, settings,
                                                                                  monkeypatch):
    server = listener(body=PDF)
    monkeypatch.setattr(outbound, "EXPENSICO_API_HOSTS", frozenset({"localhost"}))
    settings.EXPENSICO_HOSTS_ALLOW = settings.VENDOR_HOSTS_ALLOW = []
    configure(org, server.url(host="localhost", scheme="https"))
    one = _receipt_row(org, "r1", server.url("/v1/receipts/r1/content", host="localhost", scheme="https"))
    assert receipts_fetch(receipt_ids=[one.pk]) == {"verified": 0, "mismatch": 0, "failed": 1}
    one.refresh_from_db()
    assert "loopback" in one.fetch_error and server.requests == []
    settings.VENDOR_HOSTS_ALLOW = ["localhost"]
    Organization.objects.filter(pk=org.pk).update(expensico_api_base_url=server.url(host="localhost"))
    two = _receipt_row(org, "r2", server.url("/v1/receipts/r2/content", host="localhost"))
    assert receipts_fetch(receipt_ids=[two.pk])["verified"] == 1


def _receipt_row(org, rid, url, content=PDF):
    from tests.source.factories import make_report

    report = make_report(org, report_payload(expenses=[expense_payload(receipts=[receipt(rid, url, content)])]))
    return Receipt.objects.get(expense__report=report)


def test_a_receipt_replaced_while_it_downloads_leaves_no_file_and_no_error(org, listener, settings, tmp_path,
                                                                         monkeypatch):
    """A newer version of the expense deletes its receipts while the old one downloads (the demo's
    start-up did it: "Save with update_fields did not affect any rows" in the worker log)."""
    settings.MEDIA_ROOT = str(tmp_path)
    server = listener(body=PDF)
    configure(org, server.url())
    row = _receipt_row(org, "gone", server.url("/v1/receipts/gone/content"))
    real_download = ExpensicoClient.download

    def download_then_superseded(self, url, **kwargs):
        content = real_download(self, url, **kwargs)
        Receipt.objects.filter(pk=row.pk).delete()
        return content

    monkeypatch.setattr(ExpensicoClient, "download", download_then_superseded)
    assert receipts_fetch(receipt_ids=[row.pk]) == {"verified": 0, "mismatch": 0, "failed": 0}
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize("declared", [True, False], ids=["declared", "undeclared"])
def test_a_receipt_larger_than_the_cap_is_refused(org, listener, settings, declared):
    big = PDF + b"x" * 5000

    def answer(h):
        h.send_response(200)
        if declared:
            h.send_header("Content-Length", str(len(big)))
        h.end_headers()
        h.wfile.write(big)  # HTTP/1.0 without a length: the body ends when the connection closes

    server = listener(answer=answer)
    configure(org, server.url())
    settings.RECEIPT_MAX_BYTES = 1000
    row = _receipt_row(org, "big", server.url("/v1/receipts/big/content"), big)
    assert receipts_fetch(receipt_ids=[row.pk])["failed"] == 1
    row.refresh_from_db()
    assert "more than the 1000 bytes allowed" in row.fetch_error and not row.file


def test_a_receipt_dripping_past_the_deadline_is_given_up(org, listener, settings):
    def answer(h):
        h.send_response(200)
        h.end_headers()
        try:
            for _ in range(100):
                h.wfile.write(b"x")
                h.wfile.flush()
                time.sleep(0.05)
        except OSError:
            pass  # the client hung up: what the test wants

    server = listener(answer=answer)
    configure(org, server.url())
    settings.RECEIPT_DEADLINE_SECONDS = 0.2
    row = _receipt_row(org, "slow", server.url("/v1/receipts/slow/content"))
    assert receipts_fetch(receipt_ids=[row.pk], patient=False)["failed"] == 1
    row.refresh_from_db()
    assert "deadline" in row.fetch_error


def test_a_receipt_redirected_off_the_host_is_refused(org, listener):
    elsewhere = listener(body=PDF)
    server = listener(answer=lambda h: Listener.send(h, 302, Location=elsewhere.url("/file.pdf")))
    configure(org, server.url())
    row = _receipt_row(org, "hop", server.url("/v1/receipts/hop/content"))
    assert receipts_fetch(receipt_ids=[row.pk])["failed"] == 1
    row.refresh_from_db()
    assert "redirected off its host" in row.fetch_error and elsewhere.requests == []


def test_a_name_that_does_not_resolve_is_a_connection_error_retried_not_a_refusal(monkeypatch, settings):
    import requests

    monkeypatch.setattr(outbound, "EXPENSICO_API_HOSTS", frozenset({"expensico.invalid"}))  # RFC 2606: never resolves
    settings.EXPENSICO_HOSTS_ALLOW = []
    with pytest.raises(requests.ConnectionError):
        outbound.GuardedSession().get("https://expensico.invalid/v1/categories", timeout=5)
