"""The pure step: a source document plus a mapping snapshot becomes an `AccountingEntry`.

No database and no network, so it is property-tested. Every entry balances by construction: the
paid-through (or bank) side is the rounded gross, the tax is rounded once, and the expense line
takes the difference, so no minor unit is ever lost. A refund is the same computation on the
absolute amount with debit and credit swapped.
"""

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext_noop

from connectors.entry import AccountingEntry, Dimension, EntryKind, EntryLine, LineRole, reference_for
from connectors.money import round_money
from expensico_sync.core.texts import register, said

from .coding import Decision, FieldGuess, Prediction
from .documents import ExpenseDocument, FundingDocument, ReimbursementDocument, StatementLineDocument
from .fx import realised_difference
from .gap_words import BALANCE, CLAIMS, FUNDING_BANK, FX_ACCOUNT
from .settings import ConnectionSettings
from .snapshot import CategoryRule, MappingSnapshot

# Who coded an expense and why a rule skips one: words a person reads later (review items, records).
TEXTS = register({
    "coded_by_reviewer": gettext_noop("reviewer (%(by)s)"),
    "coded_by_mapping": gettext_noop("the mapping"),
    "skipped_by_rule": gettext_noop("skipped by %(rule)s %(name)s"),
    "held_by_coding_rule": gettext_noop("%(rule)s %(name)s: %(reason)s"),
})
ZERO = Decimal("0")
HUNDRED = Decimal("100")


@dataclass(frozen=True)
class GapItem:
    kind: str       # category | tax | dimension | currency | setting | suggestion (gap_words.GAP_KINDS)
    key: str        # what is missing, e.g. the category code or "cost_center=CC-9"
    detail: str = ""


@dataclass(frozen=True)
class MappingGap:
    source_id: str
    items: tuple[GapItem, ...] = field(default_factory=tuple)
    mapping_version: str = ""
    suggestion: Prediction | None = None   # the model's guess for the missing category, below auto-apply
    # Set when only dimensions are proposed: who decided the account (suggestion.account is theirs).
    account_from: str = ""

    def __bool__(self) -> bool:
        return bool(self.items)

    @property
    def kinds(self) -> frozenset[str]:
        return frozenset(i.kind for i in self.items)


def tax_split(amount: Decimal, rate: Decimal, inclusive: bool, currency: str, *,
              stated: Decimal | None = None) -> tuple[Decimal, Decimal]:
    """(net, tax) for a non-negative amount. The tax the source states is the tax: recomputing it
    from the rate can differ by a minor unit (Expensico rounds the tax of an edited amount on its
    own), and the books must show what the document says. Otherwise tax = net × rate / 100,
    rounded half-up once."""
    if stated is not None:
        return (amount - stated, stated) if inclusive else (amount, stated)
    if inclusive:
        tax = round_money(amount * rate / (HUNDRED + rate), currency)
        return amount - tax, tax
    return amount, round_money(amount * rate / HUNDRED, currency)


def _stated_tax(doc: ExpenseDocument, inclusive: bool) -> Decimal | None:
    """The VAT the source states, as a magnitude, when it applies to the treatment booked (a tax
    rule that overrides the document's treatment recomputes the tax from the rate)."""
    if doc.tax_amount is None or not doc.tax_code or doc.tax_inclusive is None or doc.tax_inclusive != inclusive:
        return None
    return round_money(abs(doc.tax_amount), doc.currency)


def _conversion(*, currency: str, on: date, expensico_rate: Decimal | None, report_currency: str,
                snapshot: MappingSnapshot, settings: ConnectionSettings,
                gaps: list[GapItem]) -> tuple[str, Decimal | None, bool]:
    """(the entry's currency, its rate to the base currency, whether the amounts are converted).

    A foreign document always carries the organisation's rate (Expensico's by default), so a
    vendor that takes the document currency with a rate gets both, and one that books only its
    own currency converts at it. Only `base_currency_amounts` converts here; only then is a
    missing rate a gap."""
    base = settings.base_currency
    if not base or currency == base:
        return currency, None, False
    source = snapshot.currency.rate_source
    if source == "target":
        return currency, None, False  # the ledger converts with its own table
    rate = expensico_rate if source == "expensico" and report_currency == base else None
    if rate is None:
        rate = snapshot.table_rate(currency, on)
    if not settings.base_currency_amounts:
        return currency, rate, False
    if rate is None:
        gaps.append(GapItem("currency", currency, said("gap_no_rate", currency=currency, base=base, on=on)))
        return currency, None, False
    return base, rate, True


def _convert(amount: Decimal, rate: Decimal | None, currency: str) -> Decimal:
    return round_money(amount if rate is None else amount * rate, currency)


def _side(role: LineRole, account: str, amount: Decimal, *, debit: bool, **kwargs: Any) -> EntryLine:
    return EntryLine(role=role, account=account, debit=amount if debit else ZERO,
                     credit=ZERO if debit else amount, **kwargs)


Document = ExpenseDocument | FundingDocument | ReimbursementDocument | StatementLineDocument
Resolved = AccountingEntry | MappingGap


def resolve(document: Document, snapshot: MappingSnapshot, connection_settings: ConnectionSettings, *,
            decision: Decision | None = None) -> Resolved:
    """AccountingEntry, or MappingGap naming everything missing (never just the first).

    An expense's account comes from, in order: a person's decision, the first matching coding
    rule, the category mapping (merchant fallback included), the model above the auto-apply
    threshold. The entry says which in extra["coded_by"] unless it was the plain mapping."""
    if isinstance(document, ExpenseDocument):
        return _resolve_expense(document, snapshot, connection_settings, decision)
    if isinstance(document, FundingDocument):
        return _resolve_funding(document, snapshot, connection_settings)
    if isinstance(document, ReimbursementDocument):
        return _resolve_reimbursement(document, snapshot, connection_settings)
    if isinstance(document, StatementLineDocument):
        return _resolve_statement_line(document, snapshot, connection_settings)
    raise TypeError(f"cannot resolve {type(document).__name__}")


def _account(doc: ExpenseDocument, snapshot: MappingSnapshot, coding: Any,
             decision: Decision | None, guess: Callable[[], Prediction | None]) -> tuple[CategoryRule | None, str, Any]:
    """(CategoryRule or None, who coded it or "", the model's sub-threshold suggestion or None)."""
    if decision is not None:
        return CategoryRule(decision.account, decision.account_name), said("coded_by_reviewer", by=decision.by), None
    if coding is not None and coding.account:
        return CategoryRule(coding.account, coding.account_name), coding.label, None
    rule = snapshot.category_rule(doc.category_code, doc.funding_source, doc.type)
    merchant = snapshot.merchant_rule(doc.merchant)
    if rule is None and merchant and merchant.category_code:
        rule = snapshot.category_rule(merchant.category_code, doc.funding_source, doc.type)
    if rule is not None and snapshot.predictor is not None and snapshot.disagree_at is not None:
        model = guess()
        if model is not None and model.account != rule.account and model.probability >= snapshot.disagree_at:
            return None, "", model       # a person chooses between the mapping and the model
        return rule, "", None
    if rule is not None or snapshot.predictor is None:
        return rule, "", None
    model = guess()
    if model is None:
        return None, "", None
    if snapshot.auto_apply is not None and model.probability >= snapshot.auto_apply:
        return CategoryRule(model.account, model.account_name), model.label, None
    return None, "", model


def _model_dimensions(dims: dict[str, str], snapshot: MappingSnapshot, decision: Decision | None,
                      guess: Callable[[], Prediction | None]) -> tuple[dict[str, str], list[FieldGuess]]:
    """Fills the mapped dimension keys the expense left blank, per field: a reviewer's choice, else
    the model's value at or above the auto-apply threshold (applied; returns who coded each), else
    the model's value below it (proposed). Only values the dimension mapping knows are considered;
    a head that says "blank" leaves the key blank."""
    coded_by: dict[str, str] = {}
    if decision is not None:
        for key, value in decision.dimensions:
            if key not in dims:
                dims[key], coded_by[key] = value, said("coded_by_reviewer", by=decision.by)
        return coded_by, []
    missing = snapshot.mapped_dimension_keys - set(dims)
    if snapshot.predictor is None or not missing:
        return coded_by, []
    model = guess()
    proposed = []
    for field_guess in (model.dimensions if model is not None else ()):
        key, value = field_guess.key, field_guess.value
        if key not in missing or not value or (key, value) not in snapshot.dimensions:
            continue
        if snapshot.auto_apply is not None and field_guess.probability >= snapshot.auto_apply:
            dims[key], coded_by[key] = value, field_guess.label
        else:
            proposed.append(field_guess)
    return coded_by, proposed


def _resolve_expense(doc: ExpenseDocument, snapshot: MappingSnapshot, settings: ConnectionSettings,
                     decision: Decision | None = None) -> Resolved:
    gaps: list[GapItem] = []
    coding = snapshot.coding_rule(doc)
    predicted: list[Prediction | None] = []

    def guess() -> Prediction | None:      # the model runs at most once per expense
        if not predicted:
            predicted.append(snapshot.predictor(doc) if snapshot.predictor is not None else None)
        return predicted[0]

    rule, coded_by, suggestion = _account(doc, snapshot, coding, decision, guess)
    merchant = snapshot.merchant_rule(doc.merchant)
    if rule is None:
        mapped = snapshot.category_rule(doc.category_code, doc.funding_source, doc.type) if suggestion else None
        gaps.append(GapItem("category", doc.category_code,
                            said("gap_model_disagrees", account=mapped.account_name or mapped.account)
                            if mapped else doc.category_name))

    tax_rule = None
    rate = doc.tax_rate or ZERO
    tax_code = coding.tax_code if coding is not None and coding.tax_code else doc.tax_code
    if tax_code:
        tax_rule = snapshot.taxes.get(tax_code)
        if tax_rule is None:
            gaps.append(GapItem("tax", tax_code, f"{rate}%"))
        elif tax_rule.separate_line and not tax_rule.tax_account and rate:
            gaps.append(GapItem("tax", tax_code, said("gap_tax_account_needed")))

    dimensions = []
    mapped_keys = snapshot.mapped_dimension_keys
    doc_dimensions = tuple(doc.dimensions)
    if coding is not None and coding.set_dimensions:
        doc_dimensions = tuple(sorted({**dict(doc_dimensions), **dict(coding.set_dimensions)}.items()))
    filled = dict(doc_dimensions)
    dimensions_by, proposed = _model_dimensions(filled, snapshot, decision, guess)
    doc_dimensions = tuple(sorted(filled.items()))
    account_from = ""
    if proposed:
        gaps += [GapItem("suggestion", g.key, said("gap_model_suggests", value=g.value, label=g.label))
                 for g in proposed]
        model = guess()
        if suggestion is None and rule is not None and model is not None:
            account_from = coded_by or said("coded_by_mapping")
            suggestion = replace(model, account=rule.account, account_name=rule.account_name)
        if suggestion is not None:
            suggestion = replace(suggestion, dimensions=tuple(proposed))
    if "category" in mapped_keys and doc.category_code:
        doc_dimensions += (("category", doc.category_code),)
    for key, value in doc_dimensions:
        if key not in mapped_keys:
            continue
        dim = snapshot.dimensions.get((key, value))
        if dim is None:
            gaps.append(GapItem("dimension", f"{key}={value}", key))
        elif dim.remote_id:
            dimensions.append(Dimension(kind=dim.remote_kind or key, remote_id=dim.remote_id, label=dim.label))

    paid_through = (settings.employees_balance_account if doc.funding_source == "card"
                    else settings.employee_claims_account)
    if not paid_through:
        which = BALANCE if doc.funding_source == "card" else CLAIMS
        gaps.append(GapItem("setting", which, said("gap_choose_account", which=which)))

    currency, fx_rate, converted = _conversion(
        currency=doc.currency, on=doc.date, expensico_rate=doc.exchange_rate, report_currency=doc.report_currency,
        snapshot=snapshot, settings=settings, gaps=gaps)
    inclusive = doc.tax_inclusive is not False
    if tax_rule is not None and tax_rule.treatment != "as_document":
        inclusive = tax_rule.treatment == "inclusive"
    magnitude = round_money(abs(doc.amount), doc.currency)
    stated = _stated_tax(doc, inclusive)
    if stated is not None and inclusive and stated > magnitude:
        gaps.append(GapItem("tax", tax_code, said("gap_vat_exceeds", stated=stated, amount=magnitude)))
    if gaps:
        return MappingGap(source_id=doc.source_id, items=tuple(gaps), mapping_version=snapshot.version,
                          suggestion=suggestion, account_from=account_from)
    assert rule is not None  # a missing rule is a gap, returned above

    net, tax = tax_split(magnitude, rate, inclusive, doc.currency, stated=stated)
    gross = net + tax
    if converted:
        # Convert the two stated figures and derive the third, so conversion loses nothing.
        gross, tax = _convert(gross, fx_rate, currency), _convert(tax, fx_rate, currency)
        net = gross - tax
    debit = doc.amount >= 0  # a refund mirrors the expense
    tax_ref = tax_rule.tax_rate or None if tax_rule else None
    dims = tuple(sorted(dimensions, key=lambda d: (d.kind, d.remote_id)))
    lines = []
    if tax and tax_rule is not None and tax_rule.separate_line:
        lines.append(_side(LineRole.EXPENSE, rule.account, net, debit=debit, description=doc.description,
                           tax_rate=tax_ref, tax_amount=tax, tax_inclusive=False, dimensions=dims))
        lines.append(_side(LineRole.TAX, tax_rule.tax_account, tax, debit=debit, description=tax_code,
                           tax_rate=tax_ref, dimensions=dims))
    else:
        lines.append(_side(LineRole.EXPENSE, rule.account, gross, debit=debit, description=doc.description,
                           tax_rate=tax_ref, tax_amount=tax, tax_inclusive=True, dimensions=dims))
    lines.append(_side(LineRole.PAID_THROUGH, paid_through, gross, debit=not debit,
                       description=doc.employee_name))
    contact = (merchant.contact or None) if merchant else None
    if coding is not None and coding.contact:
        contact = coding.contact
    extra = {"funding_source": doc.funding_source, "expense_type": doc.type, "original_currency": doc.currency,
             "original_amount": str(doc.amount), "report": doc.report_number}
    if coded_by:
        extra["coded_by"] = coded_by
    for key, by in dimensions_by.items():
        extra[f"coded_by_{key}"] = by
    if tax and tax_ref:
        # The source's treatment, for a vendor that keeps it (the lines carry the gross either way).
        extra["tax_treatment"] = "inclusive" if inclusive else "exclusive"
    return AccountingEntry(
        kind=EntryKind.EXPENSE, reference=reference_for(doc.source_id, doc.version), date=doc.date,
        currency=currency, lines=tuple(lines), description=doc.description, description_ar=doc.description_ar,
        exchange_rate=fx_rate, contact=contact, merchant=doc.merchant,
        employee=doc.employee_name, attachments=doc.attachments, source_id=doc.source_id,
        source_version=doc.version, mapping_version=snapshot.version,
        extra=tuple(sorted(extra.items())))


def _bank_entry(*, source_id: str, version: int, on: date, amount: Decimal, currency: str,
                counterpart: tuple[str, str], into_bank: bool, description: str, bank_reference: str,
                snapshot: MappingSnapshot, settings: ConnectionSettings, gaps: list[GapItem]) -> Resolved:
    if not settings.funding_bank_account:
        gaps.append(GapItem("setting", FUNDING_BANK, said("gap_choose_account", which=FUNDING_BANK)))
    if not counterpart[1]:
        gaps.append(GapItem("setting", counterpart[0], said("gap_choose_account", which=counterpart[0])))
    entry_currency, rate, converted = _conversion(currency=currency, on=on, expensico_rate=None, report_currency="",
                                                  snapshot=snapshot, settings=settings, gaps=gaps)
    if gaps:
        return MappingGap(source_id=source_id, items=tuple(gaps), mapping_version=snapshot.version)
    value = _convert(round_money(abs(amount), currency), rate if converted else None, entry_currency)
    lines = (_side(LineRole.BANK, settings.funding_bank_account, value, debit=into_bank, description=description),
             _side(LineRole.COUNTERPART, counterpart[1], value, debit=not into_bank, description=description))
    return AccountingEntry(
        kind=EntryKind.LEDGER_BANK_TRANSACTION, reference=reference_for(source_id, version), date=on,
        currency=entry_currency, lines=lines, description=description, exchange_rate=rate,
        source_id=source_id, source_version=version, bank_account=settings.funding_bank_account,
        amount=value if into_bank else -value, bank_reference=bank_reference, mapping_version=snapshot.version)


def _resolve_funding(doc: FundingDocument, snapshot: MappingSnapshot, settings: ConnectionSettings) -> Resolved:
    # "in": bank → card (debit Employees Balance, credit bank); "out" the reverse.
    return _bank_entry(source_id=doc.source_id, version=doc.version, on=doc.date, amount=doc.amount,
                       currency=doc.currency, counterpart=(BALANCE, settings.employees_balance_account),
                       into_bank=doc.direction == "out", description=doc.description or
                       f"Card {doc.card_last4} {'funded' if doc.direction == 'in' else 'unloaded'}",
                       bank_reference=doc.bank_reference, snapshot=snapshot, settings=settings, gaps=[])


def _resolve_reimbursement(doc: ReimbursementDocument, snapshot: MappingSnapshot,
                           settings: ConnectionSettings) -> Resolved:
    entry = _bank_entry(source_id=doc.source_id, version=doc.version, on=doc.date, amount=doc.amount,
                        currency=doc.currency, counterpart=(CLAIMS, settings.employee_claims_account),
                        into_bank=False, description=doc.description or f"Reimbursement {doc.employee_name}",
                        bank_reference=doc.bank_reference, snapshot=snapshot, settings=settings, gaps=[])
    if isinstance(entry, MappingGap) or doc.currency != settings.base_currency or entry.currency != doc.currency \
            or not settings.realised_fx:
        return entry
    return _with_realised_fx(entry, doc, snapshot, settings)


def _with_realised_fx(entry: AccountingEntry, doc: ReimbursementDocument, snapshot: MappingSnapshot,
                      settings: ConnectionSettings) -> Resolved:
    """Employee Claims is debited with what the claims were booked at; the bank's difference goes
    to the gain/loss account (a loss on the debit side, a gain on the credit side)."""
    if not any(claim.currency != settings.base_currency for claim in doc.claims):
        return entry                   # nothing was converted: no rate difference to realise
    claims = [_resolve_expense(claim, snapshot, settings) for claim in doc.claims]
    booked = [c for c in claims if isinstance(c, AccountingEntry)]
    if len(booked) != len(claims):
        return entry                   # a claim that cannot be resolved: its booked value is unknown
    difference = realised_difference(paid=abs(doc.amount), claims=booked, base_currency=settings.base_currency)
    if not difference:
        return entry
    if not snapshot.currency.fx_account:
        return MappingGap(source_id=doc.source_id, mapping_version=snapshot.version, items=(GapItem(
            "currency", FX_ACCOUNT, said("gap_fx_account_needed", booked=abs(doc.amount) - difference,
                                         currency=doc.currency, paid=abs(doc.amount))),))
    bank, claims_line = entry.lines
    owed = claims_line.debit - difference
    if owed <= 0:
        return entry                   # not a rate difference: the payment is not for these claims
    fx = _side(LineRole.FX, snapshot.currency.fx_account, abs(difference), debit=difference > 0,
               description=f"Realised exchange {'loss' if difference > 0 else 'gain'}")
    lines = (bank, replace(claims_line, debit=owed), fx)
    return replace(entry, lines=lines, extra=(*entry.extra, ("realised_fx", str(difference))))


def _resolve_statement_line(doc: StatementLineDocument, snapshot: MappingSnapshot,
                            settings: ConnectionSettings) -> Resolved:
    if not settings.funding_bank_account:
        return MappingGap(source_id=doc.source_id, mapping_version=snapshot.version, items=(
            GapItem("setting", FUNDING_BANK, said("gap_choose_account", which=FUNDING_BANK)),))
    return AccountingEntry(
        kind=EntryKind.STATEMENT_TRANSACTION, reference=reference_for(doc.source_id, doc.version), date=doc.date,
        currency=doc.currency, lines=(), description=doc.description, source_id=doc.source_id,
        source_version=doc.version, bank_account=settings.funding_bank_account,
        amount=round_money(doc.amount, doc.currency), bank_reference=doc.bank_reference or doc.reference,
        mapping_version=snapshot.version,
        extra=(("statement_balance", str(doc.balance)),) if doc.balance is not None else ())


def holds_for(doc: ExpenseDocument, snapshot: MappingSnapshot) -> tuple[str, ...]:
    """Names of the hold rules that stop this expense for review; every condition of a rule must match."""
    held = []
    for rule in snapshot.holds:
        checks = []
        if rule.amount_over is not None:
            checks.append((not rule.currency or rule.currency == doc.currency) and abs(doc.amount) > rule.amount_over)
        if rule.missing_receipt:
            # Mileage, per diem and honoraria are computed, not bought: they carry no receipt.
            checks.append(doc.type == "expense" and not doc.has_receipts)
        if rule.categories:
            checks.append(doc.category_code in rule.categories)
        if rule.employees:
            checks.append(doc.employee_id in rule.employees)
        if rule.funding_source:
            checks.append(doc.funding_source == rule.funding_source)
        if checks and all(checks):
            held.append(rule.name)
    coding = snapshot.coding_rule(doc)
    if coding is not None and coding.hold:
        held.append(said("held_by_coding_rule", rule=coding.label, name=coding.name, reason=coding.hold_reason))
    return tuple(held)


def skipped_by(doc: ExpenseDocument, snapshot: MappingSnapshot) -> str:
    """Why a coding rule says never to export this expense ("" when none does)."""
    coding = snapshot.coding_rule(doc)
    return said("skipped_by_rule", rule=coding.label, name=coding.name) if coding is not None and coding.skip else ""
