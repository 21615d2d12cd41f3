"""Reference data of the Workday sandbox: account sets (read and written), companies, currencies,
worktags (cost centres, spend categories, projects, regions), suppliers and tax rates. Each answer
is rendered from the XSD by zeep, so required elements the real service always sends are here too."""

from datetime import date
from decimal import Decimal

from ..client import NS, WD
from .soap import Fault, id_of, org_data, ref, xpath_of


class ReferenceDataMixin:
    def op_Get_Account_Sets(self, request):
        wanted = [id_of(r, "Account_Set_ID") for r in request.findall("wd:Request_References/wd:Account_Set_Reference", NS)]
        sets = [(k, v) for k, v in self.account_sets.items() if not wanted or k in wanted]
        return "Get_Account_Sets_Response", {
            "version": "v30.0", "Response_Results": self._results(len(sets), 100, 1, len(sets)),
            "Response_Data": {"Account_Set": [{
                "Account_Set_Reference": ref(k, "Account_Set_ID"),
                "Account_Set_Data": [{
                    "Account_Set_ID": k, "Account_Set_Name": v["name"], "Chart_of_Accounts": v["chart"],
                    "Ledger_Account_Data": [{
                        "Ledger_Account_Identifier": a["id"], "Ledger_Account_Name": a["name"],
                        "Ledger_Account_Type_Reference": ref(a["type"], "Ledger_Account_Type_ID"),
                        "Retired": bool(a.get("retired"))} for a in v["accounts"].values()]}]}
                for k, v in sets]} if sets else None}

    def op_Put_Account_Set(self, request):
        data = request.find("wd:Account_Set_Data", NS)
        set_id = data.findtext("wd:Account_Set_ID", "", NS) or id_of(
            request.find("wd:Account_Set_Reference", NS), "Account_Set_ID")
        add_only = request.get(f"{{{WD}}}Add_Only") in ("true", "1")
        if set_id in self.account_sets and add_only:
            raise Fault("Validation_Fault", "The Web Service is set to Add Only; but the Account Set already exists.",
                        xpath_of(data))
        target = self.account_sets.setdefault(set_id, {"name": data.findtext("wd:Account_Set_Name", "", NS),
                                                       "chart": False, "accounts": {}})
        target["name"] = data.findtext("wd:Account_Set_Name", target["name"], NS)
        for acc in data.findall("wd:Ledger_Account_Data", NS):
            type_el = acc.find("wd:Ledger_Account_Type_Reference", NS)
            account_type = id_of(type_el, "Ledger_Account_Type_ID")
            if account_type not in {"Cash", "Asset", "Liability", "Equity", "Revenue", "Expense"}:
                raise self._invalid_id(type_el, "Ledger_Account_Type_ID")
            identifier = acc.findtext("wd:Ledger_Account_Identifier", "", NS)
            target["accounts"][identifier] = {"id": identifier, "type": account_type,
                                              "name": acc.findtext("wd:Ledger_Account_Name", "", NS),
                                              "retired": acc.findtext("wd:Retired", "false", NS) in ("true", "1")}
        return "Put_Account_Set_Response", {"version": "v30.0", "Account_Set_Reference": ref(set_id, "Account_Set_ID")}

    def op_Get_Workday_Companies(self, request):
        wanted = [id_of(r, "Company_Reference_ID") for r in
                  request.findall("wd:Request_References/wd:Company_Reference", NS)]
        rows = [c for c in self.seed["companies"] if not wanted or c["id"] in wanted]
        if wanted and not rows:
            raise self._invalid_id(request.find("wd:Request_References/wd:Company_Reference", NS),
                                   "Company_Reference_ID")
        return "Get_Workday_Companies_Response", {
            "version": "v30.0", "Response_Results": [self._results(len(rows), 100, 1, len(rows))],
            "Response_Data": [{"Company": [{
                "Company_Reference": ref(c["id"], "Company_Reference_ID"),
                "Company_Data": [{"Organization_Data": org_data(c["id"], c["name"]),
                                  "Organization_Subtype_Reference": ref("Company", "Organization_Subtype_ID"),
                                  "Effective_Date": date(2020, 1, 1)}]} for c in rows]}]}

    def op_Currency_GetAll(self, request):
        return "Currency_List", {"version": "v30.0", "Currency_Data": [
            {"Currency_ID": c["id"], "Currency_Description": c["name"], "Currency_Numeric_Code": c["numeric"],
             "Currency_Retired": False, "Currency_Precision": c["precision"]} for c in self.seed["currencies"]]}

    def _simple_list(self, element: str, pool: str, build) -> tuple[str, dict]:
        rows = self.seed[pool]
        key, payload = build(rows)
        return element, {"version": "v30.0", "Response_Results": self._results(len(rows), 100, 1, len(rows)),
                         "Response_Data": {key: payload}}

    def op_Get_Cost_Centers(self, request):
        return self._simple_list("Get_Cost_Centers_Response", "cost_centers", lambda rows: ("Cost_Center", [{
            "Cost_Center_Reference": ref(r["id"], "Cost_Center_Reference_ID"),
            "Cost_Center_Data": {"Organization_Data": org_data(r["id"], r["name"], not r.get("inactive")),
                                 "Organization_Subtype_Reference": ref("Cost_Center", "Organization_Subtype_ID"),
                                 "Effective_Date": date(2020, 1, 1)}} for r in rows]))

    def op_Get_Regions(self, request):
        return self._simple_list("Get_Regions_Response", "regions", lambda rows: ("Region", [{
            "Region_Reference": ref(r["id"], "Region_Reference_ID"),
            "Region_Data": {"Organization_Data": org_data(r["id"], r["name"], not r.get("inactive")),
                            "Organization_Subtype_Reference": ref("Region", "Organization_Subtype_ID"),
                            "Effective_Date": date(2020, 1, 1)}} for r in rows]))

    def op_Get_Resource_Categories(self, request):
        return self._simple_list("Get_Resource_Categories_Response", "spend_categories", lambda rows: (
            "Resource_Category", [{"Resource_Category_Reference": ref(r["id"], "Spend_Category_ID"),
                                   "Resource_Category_Data": {"Resource_Category_ID": r["id"],
                                                              "Resource_Category_Name": r["name"],
                                                              "Expense_Usage": True,
                                                              "Accounting_Treatment_Reference": ref(
                                                                  "Expense", "Accounting_Treatment_ID")}} for r in rows]))

    def op_Get_Basic_Projects(self, request):
        return self._simple_list("Get_Basic_Projects_Response", "projects", lambda rows: ("Basic_Project", [{
            "Basic_Project_Reference": ref(r["id"], "Project_ID"),
            "Basic_Project_Data": {"Project_ID": r["id"], "Project_Name": r["name"], "Inactive": bool(r.get("inactive"))}}
            for r in rows]))

    def op_Get_Basic_Suppliers(self, request):
        return self._simple_list("Get_Basic_Suppliers_Response", "suppliers", lambda rows: ("Basic_Supplier", [{
            "Supplier_Reference": ref(r["id"], "Supplier_ID"),
            "Basic_Supplier_Data": {"Supplier_ID": r["id"], "Supplier_Name": r["name"], "Inactive": False}}
            for r in rows]))

    def op_Get_Tax_Rates(self, request):      # operation Get_Transaction_Tax_Rates
        return self._simple_list("Get_Tax_Rates_Response", "tax_rates", lambda rows: ("Tax_Rate", [{
            "Tax_Rate_Reference": ref(r["id"], "Tax_Rate_ID"),
            "Tax_Rate_Data": {"Tax_Rate_ID": r["id"], "Tax_Rate_Name": r["name"], "Tax_Rate": Decimal(r["rate"]),
                              "Country_Reference": ref(r["country"], "ISO_3166-1_Alpha-2_Code"),
                              "Tax_Authority_Reference": ref(r["authority"], "Tax_Authority_ID"),
                              "Tax_Category_Reference": ref("Standard", "Tax_Category_ID")}} for r in rows]))
