"""Issue 18, Workday: each receipt of the expense lands on the accounting journal as Attachment_Data
(file name, content type, base64 content, comment) and reads back from the sandbox's copy by file
name and SHA-256 of the content; every request and answer is held to the v30 XSD (conftest)."""

import dataclasses
import hashlib
import uuid

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from connectors.base import connector_for
from connectors.entry import Attachment
from connectors.errors import Permanent
from connectors.workday import attachments
from connectors.workday.sandbox import testkit
from connectors.workday.sandbox.attachments import NAMED_FILE_NEEDS_CONTENT

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4 taxi receipt \x00\xff binary"
JPG = b"\xff\xd8\xff\xe0 photo of a receipt"


@pytest.fixture
def storage(settings, tmp_path):
    settings.STORAGES = {**settings.STORAGES, "default": {"BACKEND": "django.core.files.storage.FileSystemStorage",
                                                          "OPTIONS": {"location": str(tmp_path)}}}


def _stored(name: str, content: bytes, content_type: str) -> Attachment:
    path = default_storage.save(f"receipts/{name}", ContentFile(content))
    return Attachment(f"rcp_{name}", name, content_type, hashlib.sha256(content).hexdigest(), len(content), path)


def _entry(conn, server, *receipts: Attachment):
    reference = f"EXPENSICO-rcp_{uuid.uuid4().hex[:8]}-v1"
    return dataclasses.replace(testkit.sample_entry(server, conn, reference), attachments=receipts)


def _read(conn, **kw):
    return [doc for page in connector_for(conn).read_back(**kw) for doc in page.documents]


def test_each_receipt_lands_as_attachment_data_and_reads_back(workday_connection, workday_server, storage):
    conn, server = workday_connection, workday_server
    missing = Attachment("rcp_gone", "gone.pdf", "application/pdf", "0" * 64, 10, "receipts/gone.pdf")
    entry = _entry(conn, server, _stored("taxi.pdf", PDF, "application/pdf"), missing,
                   _stored("إيصال.jpg", JPG, "image/jpeg"))
    result = connector_for(conn).push(entry, str(uuid.uuid4()))
    assert result.warnings == ("receipt gone.pdf not fetched yet; pushed without it",)
    expected = (("taxi.pdf", hashlib.sha256(PDF).hexdigest()), ("إيصال.jpg", hashlib.sha256(JPG).hexdigest()))
    [by_reference] = _read(conn, references=[entry.reference])
    assert by_reference.raw["attachments"] == expected
    [by_date] = [d for d in _read(conn, date_from=entry.date, date_to=entry.date) if d.reference == entry.reference]
    assert by_date.raw["attachments"] == ()       # a range read (a month's reconciliation) skips the files
    [journal] = testkit.held(server, entry.reference)
    assert [(a["filename"], a["content_type"], a["comment"]) for a in journal["attachments"]] == [
        ("taxi.pdf", "application/pdf", f"Expensico receipt rcp_taxi.pdf of {entry.reference}"),
        ("إيصال.jpg", "image/jpeg", f"Expensico receipt rcp_إيصال.jpg of {entry.reference}")]


def test_a_lookup_by_reference_does_not_fetch_the_files(workday_connection, workday_server, storage):
    conn, server = workday_connection, workday_server
    entry = _entry(conn, server, _stored("taxi.pdf", PDF, "application/pdf"))
    connector_for(conn).push(entry, str(uuid.uuid4()))
    seen = []
    server.app.observers.append(lambda req, resp: seen.append(resp.body))
    assert entry.reference in connector_for(conn).find_by_reference([entry.reference])
    assert seen and not any(b"Attachment_Data" in body for body in seen)


def test_receipts_past_the_journal_limit_are_left_out_with_a_warning(workday_connection, workday_server, storage,
                                                                     monkeypatch):
    conn, server = workday_connection, workday_server
    monkeypatch.setattr(attachments, "MAX_JOURNAL_BYTES", len(PDF) + 5)
    entry = _entry(conn, server, _stored("taxi.pdf", PDF, "application/pdf"), _stored("photo.jpg", JPG, "image/jpeg"))
    result = connector_for(conn).push(entry, str(uuid.uuid4()))
    assert result.warnings == (f"receipt photo.jpg ({len(JPG)} bytes) left out: a Workday journal carries at most "
                               f"{len(PDF) + 5} bytes of receipts",)
    [doc] = _read(conn, references=[entry.reference])
    assert [name for name, _ in doc.raw["attachments"]] == ["taxi.pdf"]


def test_a_journal_without_receipts_reads_back_none(workday_connection, workday_server):
    entry = _entry(workday_connection, workday_server)
    connector_for(workday_connection).push(entry, str(uuid.uuid4()))
    [doc] = _read(workday_connection, references=[entry.reference])
    assert doc.raw["attachments"] == ()


def test_the_preview_describes_receipts_without_their_bytes(workday_connection, workday_server, storage):
    entry = _entry(workday_connection, workday_server, _stored("taxi.pdf", PDF, "application/pdf"))
    [item] = connector_for(workday_connection).preview(entry)["request"]["Accounting_Journal_Data"]["Attachment_Data"]
    assert item["Filename"] == "taxi.pdf" and item["Content_Type"] == "application/pdf"
    assert item["File_Content"].startswith(f"<{len(PDF)} bytes of receipts/taxi")


def test_the_sandbox_refuses_a_named_file_without_its_content_type(workday_connection, workday_server):
    connector = connector_for(workday_connection)
    data = connector.preview(_entry(workday_connection, workday_server))["request"]
    data["Accounting_Journal_Data"]["Attachment_Data"] = [{"Filename": "r.pdf", "File_Content": "JVBERi0="}]
    with pytest.raises(Permanent, match="File Content and Content Type are required"):
        connector.client.call("Submit_Accounting_Journal", data, idempotency_key=str(uuid.uuid4()))
    assert NAMED_FILE_NEEDS_CONTENT.startswith("If a file name is specified")


def test_long_names_and_content_types_fit_the_xsd(workday_connection, workday_server):
    att = Attachment("rcp_1", "x" * 300 + ".pdf", "application/" + "y" * 90, "0" * 64, 3)
    [item] = attachments.attachment_data(_entry(workday_connection, workday_server), [(att, b"abc")], [])
    assert len(item["Filename"]) == 255 and item["Filename"].endswith(".pdf")
    assert item["Content_Type"] == "application/octet-stream"
