"""Reference data of the Apideck sandbox: company info, worktags as tracking categories, tax rates,
suppliers, and the ledger accounts (listed, read, patched and created). Workday ids encode the
account set (apideck.md A5, D1): here base64 of {"Account_Id", "Account_Set_Id"}."""

from ..schema import decode_account_id, encode_account_id
from .envelope import error, now_ts


class ReferenceDataMixin:
    def _company_info(self, req, body, item_id):
        company = self.seed["company"]
        return self._ok("company-info", "one", {"id": company["id"], "company_name": company["name"],
                                                "legal_name": company["name"], "currency": company["currency"],
                                                "country": company["country"], "status": "active"})

    def _tracking_categories(self, req, body, item_id):
        if req.method != "GET" or item_id:
            return self._unsupported(f"{req.method} tracking-categories")
        rows = [{"id": w["id"], "name": w["name"], "code": w["id"], "parent_id": w["type"],
                 "parent_name": w["type_name"], "status": w.get("status", "active")} for w in self.seed["worktags"]]
        return self._page(req, "tracking-categories", rows)

    def _tax_rates(self, req, body, item_id):
        if req.method != "GET" or item_id:
            return self._unsupported(f"{req.method} tax-rates")
        rows = [{"id": t["id"], "name": t["name"], "code": t["id"], "effective_tax_rate": t["rate"],
                 "total_tax_rate": t["rate"], "status": "active", "country": "SA"} for t in self.seed["tax_rates"]]
        return self._page(req, "tax-rates", rows)

    def _suppliers(self, req, body, item_id):
        if req.method != "GET" or item_id:
            return self._unsupported(f"{req.method} suppliers")
        rows = [{"id": s["id"], "display_id": s["id"], "display_name": s["name"], "company_name": s["name"],
                 "status": "active"} for s in self.seed["suppliers"]]
        return self._page(req, "suppliers", rows)

    # Ledger accounts --------------------------------------------------------------------
    def _ledger_accounts(self, req, body, item_id):
        if item_id:
            row = self.ledger_accounts.get(item_id)
            if row is None:
                return error(404, "EntityNotFoundError", "Unknown Ledger Account",
                             f"Could not find ledger account with id: '{item_id}'")
            if req.method == "GET":
                return self._ok("ledger-accounts", "one", row)
            if req.method == "PATCH":
                row.update({k: v for k, v in body.items() if k in ("name", "description", "status", "active")},
                           updated_at=now_ts(), row_version=str(int(row["row_version"]) + 1))
                return self._ok("ledger-accounts", "update", {"id": item_id})
            return self._unsupported("DELETE ledger-accounts")
        if req.method == "GET":
            filters = self._filters(req)
            rows = list(self.ledger_accounts.values())
            if "name" in filters:
                rows = [r for r in rows if filters["name"].lower() in r["name"].lower()]
            if "classification" in filters:
                rows = [r for r in rows if r["classification"] == filters["classification"]]
            if "updated_since" in filters:
                rows = [r for r in rows if r["updated_at"] >= filters["updated_since"]]
            if "status" in filters or "subsidiary_id" in filters:
                return error(400, "UnsupportedFiltersError", "Unsupported filters",
                             {"supported_filters": ["name", "classification", "updated_since"]})
            return self._page(req, "ledger-accounts", rows)
        code = body.get("display_id") or body.get("code") or body.get("nominal_code")
        if not code or not body.get("name"):
            return error(400, "RequestValidationError", "Invalid Params",
                         {"missing": [{"display_id": "required"}] if not code else [{"name": "required"}]})
        account_set = (decode_account_id(body.get("parent_account", {}).get("id", "")) or {}).get(
            "Account_Set_Id", "Standard")
        if encode_account_id(code, account_set) in self.ledger_accounts:
            return error(400, "ConnectorExecutionError", "Workday rejected the request", None, [
                {"message": f"Ledger Account Identifier {code} already exists in Account Set {account_set}",
                 "detail": "display_id", "code": "VALIDATION_ERROR"}])
        wd_type = {"bank": "Cash", "expense": "Expense", "current_liability": "Liability",
                   "current_asset": "Asset"}.get(body.get("type"), "Asset")
        row = self._add_account(code, account_set, body["name"], wd_type, now_ts())
        return self._ok("ledger-accounts", "add", {"id": row["id"]}, 201)
