"""SOAP helpers shared by the Workday sandbox modules: faults, references, XPaths."""

import secrets
from datetime import UTC, datetime
from functools import cache

from lxml import etree

from ..client import NS, WD, XSD_PATH


@cache
def xsd() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(XSD_PATH)))


class Fault(Exception):
    def __init__(self, kind: str, message: str, xpath: str = "", status: int | None = None,
                 more: list[tuple[str, str]] = ()):
        super().__init__(message)
        self.kind, self.message, self.xpath, self.status = kind, message, xpath, status
        self.errors = [(message, xpath), *more]     # Workday reports every validation error at once


def xpath_of(el) -> str:
    steps = []
    while el is not None and etree.QName(el).namespace == WD:
        parent = el.getparent()
        same = [s for s in parent if s.tag == el.tag] if parent is not None else [el]
        steps.append(f"bsvc:{etree.QName(el).localname}[{same.index(el) + 1}]")
        el = parent
    return "/" + "/".join(reversed(steps))


def ids(ref) -> list[dict]:
    if ref is None:
        return []
    return [{"type": i.get(f"{{{WD}}}type"), "value": (i.text or "").strip(),
             "parent_id": i.get(f"{{{WD}}}parent_id"), "parent_type": i.get(f"{{{WD}}}parent_type")}
            for i in ref.findall("wd:ID", NS)]


def id_of(ref, id_type: str) -> str | None:
    return next((i["value"] for i in ids(ref) if i["type"] == id_type), None)


def ref(value: str, id_type: str, **attrs) -> dict:
    return {"ID": [{"_value_1": value, "type": id_type, **attrs}]}


def org_data(org_id: str, name: str, active: bool = True) -> dict:
    return {"ID": org_id, "Organization_Name": name, "Organization_Active": active,
            "Availability_Date": datetime(2020, 1, 1, tzinfo=UTC)}


def new_wid() -> str:
    return secrets.token_hex(16)
