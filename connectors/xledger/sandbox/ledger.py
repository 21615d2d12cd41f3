"""What an Xledger accountant does in Xledger's own screens and the API cannot (contract C6: no
mutation removes GL import items; how a processed voucher is changed is unknown): close periods,
delete a voucher, change its amount. Mixed into `XledgerSandbox` (owns `lock`, `tables`).

`POST /__sandbox__/ledger-desk` with one of
  {"closed_through": "YYYY-MM-DD" | null}   every posting date on or before it is closed
  {"delete_voucher": "<dbId of one of its rows>"}
  {"edit_voucher": "<dbId>", "amount": "99.00"}   its largest debit and credit become ±amount

Closed periods, a choice (the contract is silent): `addGLImportItems` refuses a row dated in a
closed period when it is added, like an invalid reference, with the error code
`BAD_REQUEST.PERIOD_CLOSED` (the documented `BAD_REQUEST.*` family), `extensions.field`
"postedDate" and `extensions.closedThrough` the last closed day.
"""

from datetime import date
from decimal import Decimal

from graphql import GraphQLError

from ...sandboxing.server import Request, Response

PERIOD_CLOSED = "BAD_REQUEST.PERIOD_CLOSED"


class LedgerDesk:
    closed_through: str | None = None

    def control(self, req: Request) -> Response:
        if not (req.method == "POST" and req.path.rstrip("/").endswith("/ledger-desk")):
            return super().control(req)
        body = req.json() or {}
        with self.lock:
            if "closed_through" in body:
                value = body["closed_through"]
                self.closed_through = value and date.fromisoformat(value).isoformat()
            if "delete_voucher" in body:
                self._forget(self.voucher(str(body["delete_voucher"])))
            if "edit_voucher" in body:
                self._edit(self.voucher(str(body["edit_voucher"])), Decimal(str(body["amount"])))
        return Response(200, {"closed_through": self.closed_through})

    def check_open(self, index: int, node: dict) -> None:
        posted = node.get("postedDate")
        if self.closed_through and posted and str(posted) <= self.closed_through:
            raise GraphQLError(f"The period of {posted} is closed for posting (closed through {self.closed_through}).",
                               extensions={"code": PERIOD_CLOSED, "field": "postedDate",
                                           "closedThrough": self.closed_through,
                                           "argumentPath": ["inputs", index, "node", "postedDate"]})

    def voucher(self, db_id: str) -> dict:
        """The import rows and journal entries of the voucher one import row belongs to."""
        row = next(r for r in self.tables["glImportItems"] if r["dbId"] == db_id)
        same = (row["_call"], row.get("extIdentifier"))
        return {name: [r for r in self.tables[name] if (r.get("_call"), r.get("extIdentifier")) == same]
                for name in ("glImportItems", "journalEntries")}

    def _forget(self, voucher: dict) -> None:
        for name, rows in voucher.items():
            ids = {id(r) for r in rows}
            self.tables[name] = [r for r in self.tables[name] if id(r) not in ids]

    @staticmethod
    def _edit(voucher: dict, amount: Decimal) -> None:
        for rows in voucher.values():
            if not rows:
                continue
            debit = max(rows, key=lambda r: Decimal(str(r["amount"])))
            credit = min(rows, key=lambda r: Decimal(str(r["amount"])))
            debit["amount"], credit["amount"] = format(amount, "f"), format(-amount, "f")
