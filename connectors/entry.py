"""The canonical accounting entry: the only thing connectors receive (ARCHITECTURE §2).

Built by the pure `mappings.resolve` step from a source document plus the connection's mapping,
turned into a vendor payload by each connector's `schema.py`. It validates itself on
construction, so an unbalanced or mis-rounded entry cannot exist.
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum

from .money import convert_balanced, fits_minor_unit

ZERO = Decimal("0")


class EntryKind(StrEnum):
    EXPENSE = "expense"
    REVERSAL = "reversal"
    LEDGER_BANK_TRANSACTION = "ledger_bank_transaction"
    STATEMENT_TRANSACTION = "statement_transaction"


class LineRole(StrEnum):
    """What a line is for, so a vendor schema can place it (Wafeq: paid_through vs line items)."""

    EXPENSE = "expense"          # the cost, on the mapped expense account
    TAX = "tax"                  # recoverable tax, when the vendor wants a separate tax line
    PAID_THROUGH = "paid_through"  # Employee Claims (liability) or Employees Balance (asset)
    BANK = "bank"                # the funding bank account
    COUNTERPART = "counterpart"  # the other side of a bank transaction
    FX = "fx"                    # exchange gain/loss rounding


@dataclass(frozen=True)
class Dimension:
    kind: str        # remote dimension kind: cost_center, project, branch, worktag:Cost_Center, …
    remote_id: str
    label: str = ""


@dataclass(frozen=True)
class EntryLine:
    role: LineRole
    account: str                      # remote account id
    debit: Decimal = ZERO
    credit: Decimal = ZERO
    description: str = ""
    tax_rate: str | None = None       # remote tax rate id
    tax_amount: Decimal = ZERO        # tax inside (inclusive) or on top of (exclusive) this line
    tax_inclusive: bool = True
    dimensions: tuple[Dimension, ...] = ()

    @property
    def net(self) -> Decimal:
        return self.debit - self.credit


@dataclass(frozen=True)
class Attachment:
    source_id: str
    filename: str
    content_type: str
    sha256: str
    size: int = 0
    storage_path: str = ""            # where the fetched file lives in our storage


@dataclass(frozen=True)
class AccountingEntry:
    kind: EntryKind
    reference: str                    # EXPENSICO-<source id>-v<version>: our lookup key everywhere
    date: date
    currency: str
    lines: tuple[EntryLine, ...]
    description: str = ""
    description_ar: str = ""
    exchange_rate: Decimal | None = None   # currency -> organisation base currency, as used
    contact: str | None = None             # remote contact/vendor id
    merchant: str = ""
    employee: str = ""
    attachments: tuple[Attachment, ...] = ()
    source_id: str = ""
    source_version: int = 1
    # Bank-side documents: the remote bank account, the signed amount (+ into the account),
    # and the bank's own reference. Statement transactions carry no lines.
    bank_account: str | None = None
    amount: Decimal | None = None
    bank_reference: str = ""
    reverses: str | None = None            # for REVERSAL: the reference of the entry undone
    mapping_version: str = ""
    extra: tuple[tuple[str, str], ...] = field(default=())

    def __post_init__(self):
        for name in ("reference", "currency"):
            if not getattr(self, name):
                raise ValueError(f"AccountingEntry.{name} is required")
        for i, line in enumerate(self.lines):
            for money in (line.debit, line.credit, line.tax_amount):
                if not isinstance(money, Decimal):
                    raise TypeError(f"lines[{i}]: money must be Decimal")
                if not fits_minor_unit(money, self.currency):
                    raise ValueError(f"lines[{i}]: {money} has more decimals than {self.currency} allows")
            if line.debit < 0 or line.credit < 0:
                raise ValueError(f"lines[{i}]: debit and credit are never negative")
            if line.debit and line.credit:
                raise ValueError(f"lines[{i}]: a line is a debit or a credit, not both")
        if self.kind is EntryKind.STATEMENT_TRANSACTION:
            if self.amount is None or self.bank_account is None:
                raise ValueError("a statement transaction needs amount and bank_account")
        else:
            if len(self.lines) < 2:
                raise ValueError("an entry needs at least two lines")
            if self.total_debit != self.total_credit:
                raise ValueError(
                    f"entry {self.reference} does not balance: debit {self.total_debit} != credit "
                    f"{self.total_credit}")
        if self.amount is not None and not fits_minor_unit(self.amount, self.currency):
            raise ValueError(f"amount {self.amount} has more decimals than {self.currency} allows")

    @property
    def total_debit(self) -> Decimal:
        return sum((line.debit for line in self.lines), ZERO)

    @property
    def total_credit(self) -> Decimal:
        return sum((line.credit for line in self.lines), ZERO)

    def lines_with(self, role: LineRole) -> tuple[EntryLine, ...]:
        return tuple(line for line in self.lines if line.role is role)

    def converted_nets(self, currency: str) -> list[Decimal]:
        """Each line's signed net (debit positive) in `currency` at the entry's own rate, netting to
        zero, with the paid-through (or bank) side converted exactly: the rounding goes elsewhere."""
        keep = frozenset(i for i, line in enumerate(self.lines) if line.role in (LineRole.PAID_THROUGH, LineRole.BANK))
        if self.exchange_rate is None:
            raise ValueError(f"{self.reference}: converting to {currency} needs the entry's exchange rate")
        return convert_balanced([line.net for line in self.lines], self.exchange_rate, currency, keep=keep)

    def original_note(self) -> str:
        """The document's own currency, amount and rate, for a vendor that books it converted."""
        return f"{self.currency} {self.gross} at {self.exchange_rate}"

    @property
    def gross(self) -> Decimal:
        """What the paid-through (or bank) side moved: the document's total."""
        side = self.lines_with(LineRole.PAID_THROUGH) or self.lines_with(LineRole.BANK)
        return abs(sum((line.net for line in side), ZERO))


def reference_for(source_id: str, version: int) -> str:
    return f"EXPENSICO-{source_id}-v{version}"
