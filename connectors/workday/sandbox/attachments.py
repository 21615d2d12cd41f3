"""Attachment_Data on the sandbox's accounting journals (Financials_Attachment_DataType, XSD):
validated on Submit_Accounting_Journal, held with the journal, answered by Get_Journals when the
request's Response_Group asks for it (Include_Attachment_Data), as Workday does.

The XSD itself holds the lengths (wd:Filename ≤ 255, wd:Content_Type ≤ 80) and that File_Content is
base64 (the request is schema-validated before it gets here); this adds the type's own validation
message: a named file needs its content and its content type. Workday documents no size limit for
an attachment on a web-service journal, so the sandbox sets none."""

import base64
import binascii

from ..client import NS, WD
from .soap import Fault, xpath_of

NAMED_FILE_NEEDS_CONTENT = ("If a file name is specified for a Financial Attachment, File Content and Content Type "
                            "are required.")


def validated(data) -> list[dict]:
    """The Attachment_Data of an Accounting_Journal_Data element, as the sandbox holds them."""
    out = []
    for el in data.findall("wd:Attachment_Data", NS):
        filename = el.get(f"{{{WD}}}Filename") or ""
        content_type = el.get(f"{{{WD}}}Content_Type") or ""
        content = (el.findtext("wd:File_Content", "", NS) or "").strip()
        if filename and not (content and content_type):
            raise Fault("Validation_Fault", NAMED_FILE_NEEDS_CONTENT, xpath_of(el))
        try:
            raw = base64.b64decode(content, validate=True)
        except (binascii.Error, ValueError):
            raise Fault("Validation_Fault", "File_Content is not base64.", xpath_of(el)) from None
        out.append({"filename": filename, "content_type": content_type,
                    "comment": el.findtext("wd:Comment", "", NS) or "",
                    "content": base64.b64encode(raw).decode("ascii")})   # text: snapshots are JSON
    return out


def wanted(request) -> bool:
    return request.findtext("wd:Response_Group/wd:Include_Attachment_Data", "false", NS) in ("true", "1")


def answered(journal: dict) -> list[dict]:
    """Get_Journals' Attachment_Data for a held journal (zeep keyword data)."""
    return [{"File_Content": a["content"], "Comment": a["comment"] or None,
             "Filename": a["filename"] or None, "Content_Type": a["content_type"] or None}
            for a in journal.get("attachments") or []]
