"""BC's OData V4 web-service page `ODataV4/Company('<name>')/Chart_of_Accounts` (page 16, which a
customer can publish in *Web Services*): API v2.0 `accounts` is read-only, so `ensure_account`
creates G/L accounts here. Mixed into the sandbox app (`self.sets`, `self.company`, `self._put`)."""

import re
from urllib.parse import unquote

from ..sandboxing import Request, Response
from .sandbox_odata import ODataError, error


class ChartOfAccountsMixin:
    odata_prefix = ""

    def chart_of_accounts(self, req: Request) -> Response:
        rest = unquote(req.path[len(self.odata_prefix):])
        match = re.match(r"^Company\('(.+)'\)/Chart_of_Accounts$", rest)
        if not match or match.group(1) != self.company["name"]:
            return error(404, "BadRequest_NotFound", "The requested web service was not published.")
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
