"""Spend anomaly detectors, pure: expense facts in, findings with a readable explanation out.

Robust statistics only (median and MAD): an organisation's history is small per employee and
category, skewed, and full of legitimate one-offs, and a median/MAD score can be explained in one
sentence ("3.4× this employee's usual Hotel in SAR"). An IsolationForest was considered and left
out: on these few, mostly one-dimensional groups it finds the same outliers and cannot say why.

Each detector looks only at expenses dated inside the scanned window, comparing them with what
came before (history outside the window counts as history). A finding's `pattern` is what a
dismissal remembers: dismiss "this employee's weekend taxis" once and they are not flagged again.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from statistics import median

from connectors.money import minor_exponent
from mappings.allowances import allowance_check

from ..messages import said, word

MIN_HISTORY = 5            # fewer earlier expenses in a group: no "usual" to compare with
MAD_TO_SIGMA = Decimal("1.4826")   # MAD × this estimates the standard deviation of normal data
SCALE_FLOOR = Decimal("0.1")       # identical history (MAD 0): deviations are measured against 10 % of the median
HUNDREDTH = Decimal("0.01")


@dataclass(frozen=True)
class Facts:
    """What the detectors read of one approved expense."""

    key: int                         # the source.Expense primary key
    source_id: str
    employee_id: str
    employee_name: str
    category: str
    category_name: str
    merchant: str                    # normalised, so "CAREEM*RIDE 12" and "Careem" meet
    merchant_label: str
    amount: Decimal
    currency: str
    date: date
    type: str = "expense"
    receipts: tuple[str, ...] = ()   # SHA-256 of each receipt file
    details: dict = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True)
class Finding:
    key: int                         # the expense it is attached to
    detector: str
    pattern: str
    score: float                     # how far out: a ratio, or 1.0 for yes/no detectors
    explanation: str                 # a messages.Message where it is ours (allowances' words are mappings')
    context: dict = field(default_factory=dict)


@dataclass(frozen=True)
class Detector:
    key: str
    label: str
    threshold: float | None          # the default; None: a yes/no detector
    threshold_help: str
    enabled: bool                    # on by default?
    run: Callable[..., list[Finding]]


def _amount(amount, currency: str) -> Decimal:
    """To the currency's minor unit (KWD 3 places, JPY none), half up."""
    return Decimal(amount).quantize(Decimal(1).scaleb(-minor_exponent(currency)), ROUND_HALF_UP)


def _money(amount, currency: str) -> str:
    """An amount as people read it, to the currency's minor unit."""
    return f"{_amount(amount, currency):,.{minor_exponent(currency)}f} {currency}"


def _ratio(amount: Decimal, usual: Decimal) -> Decimal:
    """amount / usual in Decimal, to the hundredth (0 when there is no usual)."""
    return (amount / usual).quantize(HUNDREDTH, ROUND_HALF_UP) if usual else Decimal(0)


def _times(ratio: Decimal) -> str:
    return f"{ratio.quantize(Decimal('0.1'), ROUND_HALF_UP)}×"


def _plain(number: Decimal) -> str:
    return f"{number:,.0f}" if number == number.to_integral_value() else f"{number:,}"


def _robust(history: list[Decimal]) -> tuple[Decimal, Decimal]:
    """(median, scale) of a group's earlier amounts, in Decimal."""
    mid = Decimal(median(history))
    mad = Decimal(median([abs(v - mid) for v in history]))
    return mid, max(MAD_TO_SIGMA * mad, SCALE_FLOOR * abs(mid), HUNDREDTH)


def _window(facts, since: date):
    return [f for f in facts if f.date >= since]


def _earlier(groups, key, fact) -> list[Decimal]:
    return [f.amount for f in groups.get(key, ()) if (f.date, f.key) < (fact.date, fact.key)]


# --- unusual amount -------------------------------------------------------------------------------

def unusual_amount(facts: list[Facts], since: date, threshold: float, options: dict) -> list[Finding]:
    """An amount far above the usual of the same employee and category, else of the same merchant,
    else of the category across the organisation (the first with enough history decides)."""
    ratio_floor = Decimal(str(options.get("min_ratio", 2.0)))
    limit = Decimal(str(threshold))
    by_employee, by_merchant, by_category = defaultdict(list), defaultdict(list), defaultdict(list)
    for f in facts:
        if f.amount > 0 and f.type == "expense":
            by_employee[(f.employee_id, f.category, f.currency)].append(f)
            by_merchant[(f.merchant, f.currency)].append(f)
            by_category[(f.category, f.currency)].append(f)
    found = []
    for f in _window(facts, since):
        if f.amount <= 0 or f.type != "expense":
            continue
        category = f.category_name or f.category
        groups = ((by_employee, (f.employee_id, f.category, f.currency), f"emp={f.employee_id}:cat={f.category}",
                   ("unusual_employee", {"employee": f.employee_name or word("this employee"), "category": category})),
                  (by_merchant, (f.merchant, f.currency), f"m={f.merchant}",
                   ("unusual_merchant", {"merchant": f.merchant_label})),
                  (by_category, (f.category, f.currency), f"cat={f.category}",
                   ("unusual_category", {"category": category})))
        for index, key, pattern, (code, words) in groups:
            history = _earlier(index, key, f)
            if len(history) < MIN_HISTORY or (f.merchant == "" and pattern.startswith("m=")):
                continue
            mid, scale = _robust(history)
            z, ratio = (f.amount - mid) / scale, _ratio(f.amount, mid)
            if z >= limit and ratio >= ratio_floor:
                found.append(Finding(
                    f.key, "unusual_amount", f"{pattern}:{f.currency}", float(ratio),
                    said(code, amount=_money(f.amount, f.currency), times=_times(ratio), currency=f.currency,
                         median=_money(mid, f.currency), count=len(history), **words),
                    {"median": str(_amount(mid, f.currency)), "ratio": float(ratio), "robust_z": float(z.quantize(Decimal("0.1"))),
                     "history": len(history)}))
            break       # the most specific group with enough history decides, flagged or not
    return found


# --- spend spike ----------------------------------------------------------------------------------

def spend_spike(facts: list[Facts], since: date, threshold: float, options: dict) -> list[Finding]:
    """An employee's month far above their usual month (in one currency); attached to that month's
    largest expense."""
    min_months = int(options.get("min_months", 3))
    months: dict[tuple, list[Facts]] = defaultdict(list)
    for f in facts:
        if f.amount > 0:
            months[(f.employee_id, f.currency, f.date.replace(day=1))].append(f)
    found = []
    for (employee, currency, month), rows in months.items():
        if month < since.replace(day=1) or not any(r.date >= since for r in rows):
            continue
        earlier = [sum((r.amount for r in other), Decimal(0)) for (e, c, m), other in months.items()
                   if e == employee and c == currency and m < month]
        if len(earlier) < min_months:
            continue
        total = sum((r.amount for r in rows), Decimal(0))
        usual = Decimal(median(earlier))
        ratio = _ratio(total, usual)
        if ratio >= Decimal(str(threshold)):
            biggest = max(rows, key=lambda r: (r.amount, r.key))
            found.append(Finding(
                biggest.key, "spend_spike", f"emp={employee}:{currency}:{month:%Y-%m}", float(ratio),
                said("spend_spike", employee=biggest.employee_name or employee, total=_money(total, currency),
                     month={"month": f"{month:%Y-%m}"}, times=_times(ratio), usual=_money(usual, currency),
                     count=len(earlier)),
                {"month": f"{month:%Y-%m}", "total": str(_amount(total, currency)), "usual": str(_amount(usual, currency)),
                 "ratio": float(ratio), "expenses": len(rows)}))
    return found


# --- weekend and holiday spend --------------------------------------------------------------------

def weekend_spend(facts: list[Facts], since: date, threshold: float | None, options: dict) -> list[Finding]:
    """Spend on the organisation's weekend days or holidays (off unless the organisation wants it)."""
    weekend = {int(d) for d in options.get("weekend_days", [4, 5])}       # Friday and Saturday
    holidays = {date.fromisoformat(str(d)) for d in options.get("holidays", [])}
    found = []
    for f in _window(facts, since):
        if f.amount <= 0 or (f.date.weekday() not in weekend and f.date not in holidays):
            continue
        on = {"date": {"day": f.date.isoformat()}, "amount": _money(f.amount, f.currency),
              "category": f.category_name or f.category, "merchant": f.merchant_label or word("no merchant")}
        found.append(Finding(
            f.key, "weekend_spend", f"emp={f.employee_id}:cat={f.category}", 1.0,
            said("holiday_spend", **on) if f.date in holidays else
            said("weekend_spend", weekday={"weekday": f.date.isoformat()}, **on),
            {"date": f.date.isoformat(), "holiday": f.date in holidays}))
    return found


# --- round numbers --------------------------------------------------------------------------------

def round_number(facts: list[Facts], since: date, threshold: float, options: dict) -> list[Finding]:
    """A receipt amount that is an exact multiple of `threshold` (e.g. 100) where such amounts are
    rare in that category: invented or estimated amounts tend to be round."""
    unit = Decimal(str(threshold))
    rare = float(options.get("max_share", 0.2))
    by_category = defaultdict(list)
    for f in facts:
        if f.amount > 0 and f.type == "expense":
            by_category[(f.category, f.currency)].append(f)
    found = []
    for f in _window(facts, since):
        if f.type != "expense" or f.amount < unit or f.amount % unit:
            continue
        history = _earlier(by_category, (f.category, f.currency), f)
        if len(history) < MIN_HISTORY:
            continue
        share = sum(1 for a in history if a >= unit and a % unit == 0) / len(history)
        if share <= rare:
            found.append(Finding(
                f.key, "round_number", f"cat={f.category}:m={f.merchant}", 1.0,
                said("round_number", amount=_money(f.amount, f.currency), category=f.category_name or f.category,
                     merchant=f.merchant_label or word("no merchant"), share=f"{share:.0%}", count=len(history),
                     unit=_plain(unit)),
                {"unit": str(unit), "share": round(share, 3), "history": len(history)}))
    return found


# --- split claims ---------------------------------------------------------------------------------

def split_claim(facts: list[Facts], since: date, threshold: float, options: dict) -> list[Finding]:
    """Two or more claims by one employee at one merchant on one day, each under the limit
    (`threshold`) and together over it: possibly one purchase split to stay under the limit."""
    limit = Decimal(str(threshold))
    groups = defaultdict(list)
    for f in _window(facts, since):
        if f.amount > 0 and f.merchant:
            groups[(f.employee_id, f.merchant, f.currency, f.date)].append(f)
    found = []
    for (employee, merchant, currency, day), rows in groups.items():
        total = sum((r.amount for r in rows), Decimal(0))
        if len(rows) < 2 or total < limit or any(r.amount >= limit for r in rows):
            continue
        last = max(rows, key=lambda r: r.key)
        low, high = min(r.amount for r in rows), max(r.amount for r in rows)
        found.append(Finding(
            last.key, "split_claim", f"emp={employee}:m={merchant}", float(_ratio(total, limit)),
            said("split_claim", count=len(rows), employee=last.employee_name or employee, merchant=last.merchant_label,
                 date={"day": day.isoformat()}, low=f"{low:,.2f}", high=f"{high:,.2f}", currency=currency,
                 total=_money(total, currency), limit=_money(limit, currency)),
            {"expenses": sorted(r.source_id for r in rows), "total": f"{total:.2f}", "limit": str(limit)}))
    return found


# --- the same receipt twice -----------------------------------------------------------------------

def receipt_reused(facts: list[Facts], since: date, threshold: float | None, options: dict) -> list[Finding]:
    """A receipt file (same SHA-256) attached to more than one expense: every later use is flagged."""
    first: dict[str, Facts] = {}
    found = []
    for f in sorted(facts, key=lambda x: (x.date, x.key)):
        for sha in f.receipts:
            earlier = first.get(sha)
            if earlier is None:
                first[sha] = f
            elif earlier.source_id != f.source_id and f.date >= since:
                found.append(Finding(
                    f.key, "receipt_reused", f"sha={sha}", 1.0,
                    said("receipt_reused", expense=earlier.source_id,
                         employee=earlier.employee_name or earlier.employee_id,
                         date={"day": earlier.date.isoformat()}, amount=_money(earlier.amount, earlier.currency)),
                    {"sha256": sha, "first_expense": earlier.source_id}))
                break
    return found


# --- per diem and mileage at the organisation's own rates ----------------------------------------

def allowance_rate(facts: list[Facts], since: date, threshold: float, options: dict) -> list[Finding]:
    """A mileage or per-diem amount that differs from its details at the organisation's rates by
    more than `threshold` percent. `options["rates"]`: the organisation's rates (the scan adds them)."""
    rates = options.get("rates") or []
    found = []
    for f in _window(facts, since):
        check = allowance_check(kind=f.type, details=f.details, amount=f.amount, currency=f.currency, on=f.date,
                                rates=rates)
        if check is None or abs(check.difference) <= max(Decimal("0.01"),
                                                         check.expected * Decimal(str(threshold)) / 100):
            continue
        found.append(Finding(
            f.key, "allowance_rate", f"emp={f.employee_id}:{f.type}:{f.currency}",
            float((abs(check.difference) / check.expected).quantize(Decimal("0.001"), ROUND_HALF_UP))
            if check.expected else 1.0,
            check.explanation(f.currency),
            {"expected": f"{check.expected:.2f}", "stated": f"{check.stated:.2f}", "rate": str(check.rate.rate),
             "quantity": str(check.quantity)}))
    return found


DETECTORS: dict[str, Detector] = {d.key: d for d in (
    Detector("unusual_amount", "Unusual amount", 3.5,
             "Robust z-score (distance from the median in MADs) from which an amount is flagged; it must also be "
             "at least twice the median", True, unusual_amount),
    Detector("spend_spike", "Monthly spend spike", 3.0,
             "How many times an employee's usual monthly spend a month must reach", True, spend_spike),
    Detector("weekend_spend", "Weekend and holiday spend", None,
             "Options: weekend_days (0 = Monday … 6 = Sunday; default Friday and Saturday), holidays "
             "(ISO dates)", False, weekend_spend),
    Detector("round_number", "Round amounts", 100.0,
             "The unit a round amount is a multiple of (100 flags 500.00 but not 487.50)", True, round_number),
    Detector("split_claim", "Split claims", 1000.0,
             "The approval limit (in the expenses' currency) that split claims stay under", True, split_claim),
    Detector("receipt_reused", "Same receipt used twice", None, "Yes/no: any reuse is flagged", True,
             receipt_reused),
    Detector("allowance_rate", "Per diem / mileage off the organisation's rates", 1.0,
             "Percent a mileage or per-diem amount may differ from its details at the organisation's own rates "
             "(set the rates under Mappings › Allowance rates; none set: nothing is checked)", True, allowance_rate),
)}


def detect(facts: list[Facts], since: date, settings: dict[str, tuple[bool, float | None, dict]]) -> list[Finding]:
    """Runs every enabled detector; `settings`: detector key → (enabled, threshold, options)."""
    found: list[Finding] = []
    for key, detector in DETECTORS.items():
        enabled, threshold, options = settings.get(key, (detector.enabled, detector.threshold, {}))
        if enabled:
            found += detector.run(facts, since, detector.threshold if threshold is None else threshold, options)
    return found
