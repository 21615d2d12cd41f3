"""A seeded, realistic Expensico organisation: same seed and scale, same data, byte for byte.

Everything is built from one `random.Random(seed)` and a fixed start date, never the clock.
Money is Decimal throughout and serialised as strings. The funding bank account's statement is
derived from the card fundings and reimbursements (plus an opening deposit), so amounts,
references and running balances agree by construction.
"""

import copy
import hashlib
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal

START = date(2026, 1, 5)
BANK_CURRENCY = "SAR"
# rate from currency to SAR, as Expensico would apply it
RATES = {"SAR": Decimal("1"), "AED": Decimal("1.02100000"), "USD": Decimal("3.75000000"),
         "EUR": Decimal("4.07250000"), "KWD": Decimal("12.20450000"), "BHD": Decimal("9.94700000"),
         "OMR": Decimal("9.74030000"), "JPY": Decimal("0.02510000")}
DECIMALS = {"KWD": 3, "BHD": 3, "OMR": 3, "JPY": 0}
FIRST = ["Aisha", "Omar", "Fatimah", "Khalid", "Noura", "Yousef", "Sara", "Faisal", "Layla", "Hassan",
         "Maha", "Ibrahim", "Reem", "Tariq", "Huda", "Saleh"]
LAST = ["Al-Harbi", "Al-Qahtani", "Al-Otaibi", "Al-Shehri", "Al-Ghamdi", "Al-Zahrani", "Al-Dosari", "Al-Mutairi"]
CATEGORIES = [("TRV-AIR", "Air travel", "تذاكر طيران"), ("TRV-HTL", "Hotels", "فندق"),
              ("MEAL", "Meals & entertainment", "وجبة عمل"), ("TAXI", "Taxi & ride hailing", "سيارة أجرة"),
              ("FUEL", "Fuel", "وقود"), ("OFF", "Office supplies", "مستلزمات مكتبية"),
              ("SW", "Software subscriptions", "اشتراك برمجيات"), ("TEL", "Telecom", "اتصالات"),
              ("MIL", "Mileage", "بدل مسافة"), ("PD", "Per diem", "بدل يومي"),
              ("DRV", "Driver honorarium", "مكافأة سائق"), ("OLD", "Legacy misc", "متفرقات")]
MERCHANTS = {"TRV-AIR": ["Saudia", "flynas", "Emirates"], "TRV-HTL": ["Hilton Riyadh", "Marriott Jeddah"],
             "MEAL": ["Al Baik", "Najd Village", "Starbucks"], "TAXI": ["Careem", "Uber"],
             "FUEL": ["Aldrees", "SASCO"], "OFF": ["Jarir Bookstore", "Amazon.sa"],
             "SW": ["Atlassian", "Zoom Video"], "TEL": ["STC", "Mobily"]}
DIMENSIONS = {"cost_center": ["CC-100", "CC-200", "CC-300"], "project": ["PRJ-ALPHA", "PRJ-NEOM"],
              "department": ["SALES", "OPS", "FIN"], "client_code": ["CL-7", "CL-9"], "region": ["CENTRAL", "WEST"]}
DESTINATIONS = ["Riyadh", "Jeddah", "Dubai", "Kuwait City", "Manama", "Muscat"]


def q(amount: Decimal, currency: str) -> Decimal:
    return amount.quantize(Decimal(1).scaleb(-DECIMALS.get(currency, 2)), rounding=ROUND_HALF_UP)


def ts(d: date, seconds: int = 0) -> str:
    return (datetime.combine(d, time(9, 0), tzinfo=UTC) + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class Dataset:
    seed: int
    scale: int
    employees: list = field(default_factory=list)
    categories: list = field(default_factory=list)
    cards: list = field(default_factory=list)
    reports: list = field(default_factory=list)        # current state, as the pull API shows them
    fundings: list = field(default_factory=list)
    reimbursements: list = field(default_factory=list)
    bank_account: dict = field(default_factory=dict)
    statement_lines: list = field(default_factory=list)
    receipts: dict = field(default_factory=dict)        # receipt id -> bytes
    events: list = field(default_factory=list)          # (webhook_id, type, body dict) in natural order


class _Builder:
    def __init__(self, seed: int, scale: int, base_url: str, expenses_per_report: int | None):
        self.r = random.Random(seed)
        self.ds = Dataset(seed=seed, scale=scale)
        self.base_url = base_url.rstrip("/")
        self.per_report = expenses_per_report
        self.n = 0

    def uid(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}_{self.ds.seed}_{self.n:06d}"

    def build(self) -> Dataset:
        r, ds = self.r, self.ds
        for i in range(max(3, self.ds.scale // 4 + 3)):
            first, last = r.choice(FIRST), r.choice(LAST)
            ds.employees.append({"id": self.uid("emp"), "name": f"{first} {last}",
                                 "email": f"{first.lower()}.{last.lower().replace('-', '')}{i}@demo.example"})
        for code, name, _ in CATEGORIES:
            ds.categories.append({"id": self.uid("cat"), "code": code, "name": name, "active": code != "OLD"})
        for emp in ds.employees:
            ds.cards.append({"id": self.uid("card"), "last4": f"{r.randint(0, 9999):04d}", "employee": emp})
        ds.bank_account = {"id": self.uid("ba"), "name": "Expensico funding account", "currency": BANK_CURRENCY,
                           "iban": f"SA03800000006080101675{ds.seed % 100:02d}"}
        bank_moves = []  # (date, signed amount, description, reference, bank_reference)
        opening = Decimal(50000 * max(1, ds.scale))
        bank_moves.append((START - timedelta(days=1), opening, "Opening deposit", "CAPITAL", self.uid("bnk")))
        for card in ds.cards:
            self._funding(card, START, "in", q(Decimal(r.randint(2000, 8000)), "SAR"), bank_moves)
        for i in range(ds.scale):
            day = START + timedelta(days=i // 3)
            self._report(day, i)
            if i % 5 == 4:
                card = r.choice(ds.cards)
                self._funding(card, day, r.choice(["in", "out"]), q(Decimal(r.randint(100, 1500)), "SAR"), bank_moves)
        self._reimburse(bank_moves)
        self._statement(bank_moves)
        return ds

    def _funding(self, card, day, direction, amount, bank_moves):
        emp = card["employee"]
        fid, ref = self.uid("fund"), self.uid("bnk")
        obj = {"id": fid, "card": {"id": card["id"], "last4": card["last4"]},
               "employee": {"id": emp["id"], "name": emp["name"]}, "amount": str(amount), "currency": "SAR",
               "date": day.isoformat(), "bank_reference": ref,
               "description": f"Card {'top-up' if direction == 'in' else 'unload'} {card['last4']}",
               "direction": direction}
        self.ds.fundings.append(obj)
        # Funding a card takes money out of the bank account; unloading brings it back.
        bank_moves.append((day, -amount if direction == "in" else amount, obj["description"], fid, ref))
        event = "card.funded" if direction == "in" else "card.unloaded"
        self._event(event, ts(day, 3600), {"funding": {k: v for k, v in obj.items() if k != "direction"}})

    def _event(self, event_type, created_at, data):
        # A snapshot: later edits to the report (v2, cancellation) must not rewrite what was sent.
        self.ds.events.append((self.uid("msg"), event_type,
                               {"type": event_type, "created_at": created_at, "data": copy.deepcopy(data)}))

    def _expense(self, emp, card, day, report_currency, index):
        r = self.r
        kind = ["expense", "mileage", "per_diem", "driver_honorarium"][index % 4] if index < 4 else r.choices(
            ["expense", "mileage", "per_diem", "driver_honorarium"], [70, 12, 10, 8])[0]
        cats = {c["code"]: c for c in self.ds.categories}
        tax, details, merchant = None, {}, None
        if kind == "expense":
            code = r.choice(list(MERCHANTS))
            merchant = r.choice(MERCHANTS[code])
            currency = r.choices(list(RATES), [50, 8, 10, 6, 10, 6, 4, 6])[0]
            amount = q(Decimal(r.randint(500, 250000)) / 100, currency)
            if r.random() < 0.06:
                amount = -amount  # a refund / credit
            if currency == "SAR" and r.random() < 0.8:
                inclusive = r.random() < 0.7
                rate = Decimal("15.00")
                tax_amount = q(amount * rate / (100 + rate) if inclusive else amount * rate / 100, currency)
                tax = {"code": "VAT15", "rate": str(rate), "amount": str(tax_amount), "inclusive": inclusive}
            elif currency == "AED":
                tax = {"code": "VAT5", "rate": "5.00", "amount": str(q(amount * 5 / 105, currency)), "inclusive": True}
        elif kind == "mileage":
            code, currency = "MIL", "SAR"
            km, per_km = Decimal(r.randint(10, 600)), Decimal("0.85")
            amount = q(km * per_km, currency)
            details = {"distance_km": str(km), "rate_per_km": str(per_km)}
        elif kind == "per_diem":
            code, currency = "PD", r.choice(["SAR", "KWD", "BHD"])
            days, daily = r.randint(1, 5), {"SAR": Decimal("450"), "KWD": Decimal("36.250"), "BHD": Decimal("45.125")}
            amount = q(days * daily[currency], currency)
            details = {"days": days, "daily_rate": str(daily[currency]), "destination": r.choice(DESTINATIONS)}
        else:
            code, currency = "DRV", "SAR"
            trips, km, per_km = r.randint(1, 6), Decimal(r.randint(20, 300)), Decimal("1.10")
            amount = q(trips * km * per_km, currency)
            details = {"trips": trips, "distance_km": str(km), "rate_per_km": str(per_km),
                       "passengers": r.randint(1, 4)}
        cat = cats[code]
        funding = "card" if kind == "expense" and r.random() < 0.55 else "reimbursable"
        ar = dict((c, a) for c, _, a in CATEGORIES)[code]
        eid = self.uid("exp")
        receipts = []
        if kind == "expense" and r.random() > 0.15:  # ~15 % arrive with a missing receipt
            rid = self.uid("rcpt")
            content = f"%PDF-1.4\n% Expensico receipt {rid} {merchant} {amount} {currency}\n".encode()
            self.ds.receipts[rid] = content
            receipts.append({"id": rid, "filename": f"{rid}.pdf", "content_type": "application/pdf",
                             "size": len(content), "sha256": hashlib.sha256(content).hexdigest(),
                             "url": f"{self.base_url}/v1/receipts/{rid}/content"})
        dims = {k: r.choice(v) for k, v in DIMENSIONS.items() if r.random() < 0.6}
        rate = None if currency == report_currency else RATES[currency] / RATES[report_currency]
        return {
            "id": eid, "version": 1, "type": kind, "date": day.isoformat(), "merchant": merchant,
            "description": f"{cat['name']} {merchant or ''}".strip(),
            "description_ar": f"{ar} - {day.isoformat()}" if r.random() < 0.6 else None,
            "category": {"id": cat["id"], "code": cat["code"], "name": cat["name"]},
            "funding_source": funding,
            "card": {"id": card["id"], "last4": card["last4"]} if funding == "card" else None,
            "amount": str(amount), "currency": currency,
            "exchange_rate": None if rate is None else str(rate.quantize(Decimal("0.00000001"))),
            "tax": tax, "dimensions": dims, "details": details, "receipts": receipts,
            "custom_fields": {"trip_purpose": r.choice(["client visit", "conference", "site survey"])}
            if r.random() < 0.4 else {},
        }

    def _report(self, day, i):
        r, ds = self.r, self.ds
        emp = r.choice(ds.employees)
        card = next(c for c in ds.cards if c["employee"] is emp)
        count = self.per_report or r.randint(1, 8)
        expenses = [self._expense(emp, card, day - timedelta(days=r.randint(0, 3)), "SAR", j) for j in range(count)]
        approver = r.choice(ds.employees)
        # Batch approvals: several reports share one approved_at (cursor paging must not skip them).
        approved_at = ts(day, 7200 + (i // 3) * 60)
        report = {"id": self.uid("rpt"), "number": f"R-2026-{i + 1:04d}", "title": f"Expenses {day:%d %b} #{i + 1}",
                  "employee": {"id": emp["id"], "name": emp["name"], "email": emp["email"]},
                  "approved_at": approved_at, "approved_by": {"id": approver["id"], "name": approver["name"]},
                  "currency": "SAR", "expenses": expenses, "status": "approved"}
        self._event("expense_report.approved", approved_at, {"report": _without_status(report)})
        if r.random() < 0.25:
            # An edited expense re-approved: same id, version 2, new amount.
            edited = dict(r.choice(expenses))
            cur = edited["currency"]
            edited["version"] = 2
            edited["amount"] = str(q(Decimal(edited["amount"]) * Decimal("1.1"), cur))
            if edited["tax"]:
                t = dict(edited["tax"])
                t["amount"] = str(q(Decimal(t["amount"]) * Decimal("1.1"), cur))
                edited["tax"] = t
            expenses[expenses.index(next(e for e in expenses if e["id"] == edited["id"]))] = edited
            self._event("expense_report.approved", ts(day, 9000 + i),
                        {"report": {**_without_status(report), "expenses": [edited]}})
        if r.random() < 0.1 and len(expenses) > 1:
            gone = expenses.pop(r.randrange(len(expenses)))
            self._event("expense.cancelled", ts(day, 10000 + i),
                        {"expense_id": gone["id"], "report_id": report["id"], "version": gone["version"],
                         "reason": "Duplicate claim", "cancelled_at": ts(day, 10000 + i)})
        ds.reports.append(report)

    def _reimburse(self, bank_moves):
        by_emp: dict[str, list] = {}
        for rep in self.ds.reports:
            by_emp.setdefault(rep["employee"]["id"], []).append(rep)
        for _emp_id, reps in sorted(by_emp.items()):
            total = Decimal("0")
            for rep in reps:
                for e in rep["expenses"]:
                    if e["funding_source"] == "reimbursable":
                        rate = Decimal(e["exchange_rate"]) if e["exchange_rate"] else Decimal(1)
                        total += q(Decimal(e["amount"]) * rate, "SAR")
            if total <= 0:
                continue
            day = date.fromisoformat(max(r["approved_at"][:10] for r in reps)) + timedelta(days=2)
            rid, ref = self.uid("reimb"), self.uid("bnk")
            emp = reps[0]["employee"]
            obj = {"id": rid, "employee": {"id": emp["id"], "name": emp["name"]},
                   "report_ids": [r["id"] for r in reps], "amount": str(total), "currency": "SAR",
                   "date": day.isoformat(), "bank_reference": ref, "description": f"Claims paid to {emp['name']}"}
            self.ds.reimbursements.append(obj)
            bank_moves.append((day, -total, obj["description"], rid, ref))
            self._event("reimbursement.paid", ts(day, 3000), {"reimbursement": obj})

    def _statement(self, bank_moves):
        balance = Decimal("0")
        acct = self.ds.bank_account
        for day, amount, desc, reference, bank_ref in sorted(bank_moves, key=lambda m: (m[0], m[4])):
            balance += amount
            self.ds.statement_lines.append({
                "id": self.uid("line"), "date": day.isoformat(), "amount": str(amount), "balance": str(balance),
                "description": desc, "reference": reference, "bank_reference": bank_ref})
        lines = self.ds.statement_lines
        for start in range(0, len(lines), 25):
            chunk = lines[start:start + 25]
            # Lines may appear twice: each publication repeats the previous one's last line.
            if start:
                chunk = [lines[start - 1], *chunk]
            self._event("bank_statement.published", ts(date.fromisoformat(chunk[-1]["date"]), 80000),
                        {"bank_account": acct, "lines": chunk})


def _without_status(report):
    return {k: v for k, v in report.items() if k != "status"}


def generate(*, seed: int = 42, scale: int = 20, base_url: str = "http://127.0.0.1:8700",
             expenses_per_report: int | None = None) -> Dataset:
    return _Builder(seed, scale, base_url, expenses_per_report).build()
