"""BC's OData V4 web-service pages a customer can publish in *Web Services*:
`ODataV4/Company('<name>')/Chart_of_Accounts` (page 16: API v2.0 `accounts` is read-only, so
`ensure_account` creates G/L accounts here) and `General_Ledger_Setup` (page 118: "Allow Posting
From/To", the company's closed periods; BC writes a blank date as 0001-01-01). Mixed into the
sandbox app (`self.sets`, `self.company`, `self._put`, `self.gl_setup`)."""

import re
from datetime import date
from urllib.parse import unquote

from ...sandboxing.server import Request, Response
from .odata import ODataError, error

BLANK_DATE = "0001-01-01"
GL_SETUP_FIELDS = ("Allow_Posting_From", "Allow_Posting_To")


class ChartOfAccountsMixin:
    odata_prefix = ""

    def odata_page(self, req: Request) -> Response:
        rest = unquote(req.path[len(self.odata_prefix):])
        match = re.match(r"^Company\('(.+)'\)/(Chart_of_Accounts|General_Ledger_Setup)(\(''\))?$", rest)
        if not match or match.group(1) != self.company["name"]:
            return error(404, "BadRequest_NotFound", "The requested web service was not published.")
        if match.group(2) == "General_Ledger_Setup":
            return self.general_ledger_setup(req)
        return self.chart_of_accounts(req)

    def general_ledger_setup(self, req: Request) -> Response:
        if req.method == "GET":
            return Response(200, {"value": [{"Primary_Key": "", **self.gl_setup}]})
        if req.method != "PATCH":
            return self._not_allowed(req.method)
        body = {k: v for k, v in (req.json() or {}).items() if k in GL_SETUP_FIELDS}
        for name, value in body.items():
            try:
                date.fromisoformat(value or BLANK_DATE)
            except (TypeError, ValueError):
                raise ODataError(400, "BadRequest", f"Cannot convert the literal '{value}' to Edm.Date "
                                 f"for the property '{name}'.") from None
        self.gl_setup.update({k: v or BLANK_DATE for k, v in body.items()})
        return Response(200, {"Primary_Key": "", **self.gl_setup})

    def check_posting_date(self, posting_date: str, where: str) -> None:
        """BC's check when a document is posted (Gen. Jnl.-Check Line), not when it is entered."""
        start, end = (self.gl_setup[k] for k in GL_SETUP_FIELDS)
        if (start != BLANK_DATE and posting_date < start) or (end != BLANK_DATE and posting_date > end):
            raise ODataError(400, "Application_DialogException",
                             f"Posting Date is not within your range of allowed posting dates in {where}.")

    def chart_of_accounts(self, req: Request) -> Response:
        if req.method == "GET":
            return Response(200, {"value": [_page_row(a) for a in self.sets["accounts"].values()]})
        if req.method != "POST":
            return self._not_allowed(req.method)
        body = req.json() or {}
        number = str(body.get("No", ""))
        if not number or any(a["number"] == number for a in self.sets["accounts"].values()):
            raise ODataError(400, "Internal_EntityWithSameKeyExists", f"The record already exists: No.='{number}'.")
        row = self._put("accounts", {"number": number, "displayName": body.get("Name", ""),
                                     "category": body.get("Account_Category", ""),
                                     "subCategory": body.get("Account_Subcategory_Descript", ""),
                                     "accountType": body.get("Account_Type", "Posting"),
                                     "directPosting": bool(body.get("Direct_Posting", True)), "blocked": False,
                                     "netChange": 0})
        return Response(201, _page_row(row))


def _page_row(account: dict) -> dict:
    return {"No": account["number"], "Name": account["displayName"], "Account_Category": account["category"],
            "Account_Type": account["accountType"], "Direct_Posting": account["directPosting"]}
