"""The read side of the Workday sandbox's journals: `Get_Journals` by reference (every unknown id
listed in one Validation_Fault, as v30 has no Skip_Non_Existing_Instances) or by criteria, paged
with `Page`/`Count` (workday-soap.md B5), rendered from the XSD by zeep."""

from datetime import date, datetime
from decimal import Decimal

from ..client import NS
from . import attachments
from .soap import Fault, id_of, ids, ref


class JournalReadsMixin:
    max_page_size = 999      # the XSD's Count maximum; the testkit lowers it so paging shows with few journals

    def _find_journal(self, ref_el) -> dict | None:
        for item in ids(ref_el):
            if item["type"] == "WID" and item["value"] in self.journals:
                return self.journals[item["value"]]
            if item["type"] == "Accounting_Journal_ID":
                found = next((j for j in self.journals.values() if j["journal_id"] == item["value"]), None)
                if found:
                    return found
        return None

    def op_Get_Journals(self, request):
        refs = request.find("wd:Request_References", NS)
        criteria = request.find("wd:Request_Criteria", NS)
        if refs is not None:
            rows, invalid = [], []
            for ref_el in refs.findall("wd:JournalEntryReference", NS):
                found = self._find_journal(ref_el)
                if found is None:
                    # v30 has no Skip_Non_Existing_Instances: an unknown reference is a validation
                    # error, and every unknown one is listed in the same fault.
                    invalid.append(self._invalid_id(ref_el, ids(ref_el)[0]["type"] if ids(ref_el) else "WID"))
                elif found not in rows:
                    rows.append(found)
            if invalid:
                raise Fault("Validation_Fault", invalid[0].message, invalid[0].xpath,
                            more=[(f.message, f.xpath) for f in invalid[1:]])
        else:
            rows = sorted(self.journals.values(), key=lambda j: j["created"])
            if criteria is not None:
                number = criteria.findtext("wd:Journal_Number", None, NS)
                start = criteria.findtext("wd:Accounting_From_Date", None, NS)
                end = criteria.findtext("wd:Accounting_To_Date", None, NS)
                statuses = {id_of(s, "Journal_Entry_Status_ID") for s in criteria.findall("wd:Status_Reference", NS)}
                companies = {id_of(o, "Company_Reference_ID") for o in criteria.findall("wd:Organization_Reference", NS)}
                rows = [j for j in rows if (not number or j["journal_number"] == number)
                        and (not companies or j["company"] in companies)
                        and (not start or j["accounting_date"] >= start[:10])
                        and (not end or j["accounting_date"] <= end[:10]) and (not statuses or j["status"] in statuses)]
        page = int(request.findtext("wd:Response_Filter/wd:Page", "1", NS))
        count = min(int(request.findtext("wd:Response_Filter/wd:Count", "100", NS)), self.max_page_size)
        chunk = rows[(page - 1) * count: page * count]
        out = {"version": "v30.0", "Response_Filter": {"Page": page, "Count": count},
               "Response_Results": self._results(len(rows), count, page, len(chunk))}
        if chunk:
            with_files = attachments.wanted(request)
            out["Response_Data"] = {"Journal_Entry": [self._journal_out(j, with_files) for j in chunk]}
        if attachments.wanted(request):
            out["Response_Group"] = {"Include_Attachment_Data": True}
        return "Get_Journals_Response", out

    @staticmethod
    def _results(total: int, count: int, page: int, on_page: int) -> dict:
        return {"Total_Results": total, "Total_Pages": max(1, -(-total // count)), "Page_Results": on_page, "Page": page}

    def _linked(self, wid: str) -> dict:
        """A Journal_EntryObjectType for a linked journal: its WID and, when it has one, its
        Accounting_Journal_ID (the object type's two ID types)."""
        other = self.journals.get(wid) or {}
        return {"ID": [{"_value_1": wid, "type": "WID"}]
                + ([{"_value_1": other["journal_id"], "type": "Accounting_Journal_ID"}] if other.get("journal_id") else [])}

    def _journal_out(self, j: dict, with_files: bool = False) -> dict:
        wid = {"ID": [{"_value_1": j["wid"], "type": "WID"}]
               + ([{"_value_1": j["journal_id"], "type": "Accounting_Journal_ID"}] if j["journal_id"] else [])}
        data = {
            "Journal_Entry_Reference": wid, "Journal_Number": j["journal_number"],
            "Journal_Status_Reference": ref(j["status"], "Journal_Entry_Status_ID"),
            "Company_Reference": ref(j["company"], "Company_Reference_ID"),
            "Currency_Reference": ref(j["currency"], "Currency_ID"),
            "Accounting_Date": date.fromisoformat(j["accounting_date"]),
            "Journal_Source_Reference": ref(j["journal_source"], "Journal_Source_ID"),
            "Memo": j["memo"], "External_Reference_ID": j["external_reference"] or None,
            "Total_Ledger_Debits": Decimal(j["total_debits"]), "Total_Ledger_Credits": Decimal(j["total_credits"]),
            "Creation_Date": datetime.fromisoformat(j["created"]),
            "Last_Updated_Date": datetime.fromisoformat(j["last_updated"]),
            "Journal_Entry_Line_Data": [{
                "Line_Order": str(i),
                "Ledger_Account_Reference": ref(line["account"], "Ledger_Account_ID", parent_id=line["account_set"],
                                                parent_type="Account_Set_ID"),
                **_amounts(line),
                "Memo": line["memo"] or None, "External_Reference_ID": line["external_reference"] or None,
                "Worktags_Reference": [ref(v, t) for t, v in sorted(line["worktags"].items())],
            } for i, line in enumerate(j["lines"], start=1)],
        }
        if with_files and j.get("attachments"):
            data["Attachment_Data"] = attachments.answered(j)
        if j.get("reversed_by"):
            data["Cancel_Reversed_By_Journal_Entry_Reference"] = self._linked(j["reversed_by"])
        if j.get("reverses"):
            data["Cancel_Reverses_Journal_Entry_Reference"] = self._linked(j["reverses"])
        return {"Journal_Entry_Reference": wid, "Journal_Entry_Data": [data]}


def _amounts(line: dict) -> dict:
    """A line's amounts as Get_Journals answers them: Debit/Credit_Amount, and for a line in another
    currency than the company's that currency, its rate and the Ledger_Debit/Credit_Amount."""
    side = "Debit" if Decimal(line["debit"]) else "Credit"
    ledger = Decimal(line[side.lower()])
    if not line.get("currency"):
        return {f"{side}_Amount": ledger}
    return {f"{side}_Amount": Decimal(line["amount"]), "Currency_Reference": ref(line["currency"], "Currency_ID"),
            "Currency_Rate": Decimal(line["rate"]), f"Ledger_{side}_Amount": ledger}
