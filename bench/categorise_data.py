"""Coded expenses for the categoriser bench and tests: the simulator's categories and merchants
with the noise real data has. Merchants are spelled several ways (processor prefixes, references,
Arabic), descriptions mix English and Arabic, employees file some spend under the wrong category,
and some accounts depend on more than the category (a client lunch, a department's tools).
Dimensions: a cost centre per employee (sometimes another, sometimes blank) and a project on travel.
Pure: ExpenseDocument and the account it was booked to, oldest first."""

import random
from datetime import date, timedelta
from decimal import Decimal

from expensico_sync.source.simulator.generator import CATEGORIES, FIRST, LAST
from mappings.documents import ExpenseDocument

ACCOUNTS = {"6100": "Air travel", "6110": "Hotel accommodation", "6120": "Local transport",
            "6130": "Vehicle fuel", "6200": "Staff meals", "6210": "Client entertainment",
            "6300": "Office supplies", "6310": "Software licences", "6320": "Video conferencing",
            "6400": "Telephone and internet", "6500": "Travel allowances"}
# merchant -> (category it belongs to, account, spellings)
MERCHANTS = {
    "saudia": ("TRV-AIR", "6100", ["SAUDIA AIRLINES 065", "Saudia", "saudia.com", "السعودية للطيران"]),
    "flynas": ("TRV-AIR", "6100", ["FLYNAS*BOOKING 4471", "flynas", "طيران ناس"]),
    "hilton": ("TRV-HTL", "6110", ["HILTON RIYADH HOTEL", "Hilton", "هيلتون الرياض"]),
    "marriott": ("TRV-HTL", "6110", ["MARRIOTT JEDDAH 221", "Marriott Hotels", "ماريوت"]),
    "careem": ("TAXI", "6120", ["CAREEM*RIDE 1234", "Careem Hala", "careem.com", "كريم"]),
    "uber": ("TAXI", "6120", ["UBER *TRIP HELP.UBER", "Uber BV", "اوبر"]),
    "aldrees": ("FUEL", "6130", ["ALDREES PETROL 12", "Aldrees", "الدريس"]),
    "sasco": ("FUEL", "6130", ["SASCO STATION 77", "sasco", "ساسكو"]),
    "albaik": ("MEAL", "6200", ["AL BAIK 0032", "Albaik", "البيك"]),
    "najd village": ("MEAL", "6210", ["NAJD VILLAGE REST", "Najd Village", "قرية نجد"]),
    "starbucks": ("MEAL", "6200", ["SQ *STARBUCKS 881", "Starbucks", "ستاربكس"]),
    "jarir": ("OFF", "6300", ["JARIR BOOKSTORE 5", "Jarir", "مكتبة جرير"]),
    "amazon": ("OFF", "6300", ["AMAZON.SA*MK2", "Amazon.sa", "امازون"]),
    "atlassian": ("SW", "6310", ["ATLASSIAN SYDNEY", "Atlassian", "اتلاسيان"]),
    "zoom": ("SW", "6320", ["ZOOM.US 888-799", "Zoom Video", "زووم"]),
    "stc": ("TEL", "6400", ["STC PAY BILL", "stc", "اس تي سي"]),
    "mobily": ("TEL", "6400", ["MOBILY BILL 55", "Mobily", "موبايلي"]),
}
# What a finance team maps each category to: the "always the category mapping" baseline.
CATEGORY_MAPPING = {"TRV-AIR": "6100", "TRV-HTL": "6110", "TAXI": "6120", "FUEL": "6130", "MEAL": "6200",
                    "OFF": "6300", "SW": "6310", "TEL": "6400", "PD": "6500"}
CATEGORY_NAMES = {code: (name, ar) for code, name, ar in CATEGORIES}
WORDS = {"TRV-AIR": ("flight to", "رحلة إلى"), "TRV-HTL": ("hotel night", "ليلة فندق"), "TAXI": ("ride to", "مشوار"),
         "FUEL": ("fuel for site visit", "وقود"), "MEAL": ("lunch", "غداء"), "OFF": ("supplies", "قرطاسية"),
         "SW": ("monthly subscription", "اشتراك شهري"), "TEL": ("mobile bill", "فاتورة جوال")}


def generate(n: int, *, seed: int = 7, misfiled: float = 0.15) -> list[tuple[ExpenseDocument, str]]:
    rng = random.Random(seed)
    dims_rng = random.Random(seed + 1)     # its own stream: the account figures do not move with it
    employees = [(f"emp_{i}", f"{rng.choice(FIRST)} {rng.choice(LAST)}") for i in range(60)]
    categories = list(CATEGORY_MAPPING)
    names = list(MERCHANTS)
    start = date(2026, 1, 1)
    rows = []
    for i in range(n):
        key = rng.choice(names)
        category, account, spellings = MERCHANTS[key]
        employee_id, employee_name = rng.choice(employees)
        with_client = category == "MEAL" and rng.random() < 0.3
        if with_client:
            account = "6210"  # a client lunch, whatever the restaurant
        if rng.random() < 0.03:
            account = rng.choice(list(ACCOUNTS))  # booked inconsistently: nobody can learn these
        recorded = with_client and rng.random() < 0.8  # the employee did not always tick "with client"
        filed = rng.choice(categories) if rng.random() < misfiled else category
        words = WORDS[category]
        text = f"{words[0]} {rng.choice(['Riyadh', 'Jeddah', 'Dubai', 'client', 'team'])}"
        arabic = rng.random() < 0.4
        currency = rng.choice(["SAR"] * 8 + ["AED", "USD"])
        rows.append((ExpenseDocument(
            source_id=f"exp_{i:06d}", version=1, type="expense", date=start + timedelta(days=i * 365 // max(n, 1)),
            amount=Decimal(rng.randint(1500, 250000)) / 100, currency=currency, category_code=filed,
            category_name=CATEGORY_NAMES[filed][0], funding_source=rng.choice(["card", "reimbursable"]),
            merchant=rng.choice(spellings), description="" if arabic else text,
            description_ar=words[1] if arabic or rng.random() < 0.2 else "",
            employee_id=employee_id, employee_name=employee_name,
            card_last4=str(1000 + int(employee_id[4:])),
            custom_fields=(("with_client", "yes" if recorded else "no"),),
            dimensions=_dimensions(dims_rng, int(employee_id[4:]), category)), account))
    return rows


def _dimensions(rng: random.Random, employee: int, category: str) -> tuple[tuple[str, str], ...]:
    """Each employee has a home cost centre (one in ten expenses charged elsewhere) and travellers a
    current project; a quarter of cost centres and a third of projects are left blank by the employee."""
    dims = {}
    if rng.random() >= 0.25:
        dims["cost_center"] = f"CC-{employee % 6}" if rng.random() >= 0.1 else f"CC-{rng.randrange(6)}"
    travel = category in ("TRV-AIR", "TRV-HTL", "TAXI")
    if (travel and rng.random() < 0.66) or (not travel and rng.random() < 0.03):
        dims["project"] = f"P-{employee % 8}"
    return tuple(sorted(dims.items()))
