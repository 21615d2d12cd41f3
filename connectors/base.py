"""The connector interface: six verbs, nothing vendor-specific (ARCHITECTURE §3).

A connector is built around one `Connection` row (credentials, chosen accounts, base URL) and
speaks to the vendor only through its own `client.py`. Everything it raises is from
`connectors.errors`.
"""

import functools
import logging
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any, TypeVar

from .entry import AccountingEntry, EntryKind
from .errors import SHAPE_ERRORS, ConnectorError, unexpected_answer
from .registry import vendor, vendors

if TYPE_CHECKING:
    from .models import Connection
    from .preflight import VendorMetadata

Verb = TypeVar("Verb", bound=Callable[..., Any])

log = logging.getLogger(__name__)

# The verbs the setup screens and the API call directly. A vendor answer of an unexpected shape
# must reach them as a taxonomy error, not as a KeyError (a 500). push and reverse are left out:
# after a write, the worker already treats anything unexpected as an unknown outcome.
GUARDED_VERBS = ("check", "catalog", "ensure_account")


class CatalogKind(StrEnum):
    ACCOUNTS = "accounts"            # expense (and other) ledger accounts
    BANK_ACCOUNTS = "bank_accounts"
    TAX_RATES = "tax_rates"
    DIMENSIONS = "dimensions"        # cost centres, projects, branches, worktags, GL objects …
    CONTACTS = "contacts"            # contacts / vendors / suppliers
    CURRENCIES = "currencies"


@dataclass(frozen=True)
class CatalogItem:
    kind: CatalogKind
    remote_id: str
    name: str
    code: str = ""
    classification: str = ""         # e.g. EXPENSE, CURRENT_LIABILITY; dimension kind for DIMENSIONS
    active: bool = True
    extra: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


class AccountPurpose(StrEnum):
    EMPLOYEE_CLAIMS = "employee_claims"      # liability: reimbursable spend owed to employees
    EMPLOYEES_BALANCE = "employees_balance"  # asset: money loaded on employee cards
    FUNDING_BANK = "funding_bank"            # the bank account that funds cards and pays claims


@dataclass(frozen=True)
class AccountSpec:
    purpose: AccountPurpose
    name: str
    currency: str = ""


@dataclass(frozen=True)
class CheckResult:
    ok: bool
    detail: str = ""
    organization_name: str = ""
    error: Exception | None = field(default=None, compare=False)   # the taxonomy error behind ok=False


@dataclass(frozen=True)
class PushResult:
    external_id: str
    request_id: str = ""
    replayed: bool = False           # the vendor answered from its idempotency store
    calls: int = 1                   # vendor requests this push took (for the frugality figures)
    warnings: tuple[str, ...] = ()   # a person must look: e.g. Workday left it as a draft
    notes: tuple[str, ...] = ()      # informational, nothing to do: e.g. a reversal found it already undone
    document_number: str = ""        # the vendor's own human number (Moon ERP EXP-…, BC's document no.)
    status: str = ""                 # the vendor status it was left in, where not simply booked (a draft)


@dataclass(frozen=True)
class RemoteDocument:
    reference: str
    external_id: str
    status: str = ""                 # vendor status (draft, posted, cancelled …)
    amount: str = ""
    live: bool = True                # False when the vendor shows it deleted/cancelled/reversed


@dataclass(frozen=True)
class VendorLine:
    """One line of a document as the vendor holds it (read back, never our own copy)."""
    account: str                     # the vendor's account id, as `EntryLine.account` carries it
    debit: Decimal = Decimal("0")
    credit: Decimal = Decimal("0")
    tax_amount: Decimal = Decimal("0")
    tax_rate: str | None = None
    description: str = ""
    dimensions: tuple[tuple[str, str], ...] = ()   # (kind, remote id)


@dataclass(frozen=True)
class VendorDocument:
    """A document read back from the vendor's ledger: what `read_back` yields."""
    reference: str                   # our reference when the document carries one, else ""
    external_id: str
    date: date
    currency: str
    amount: Decimal                  # gross, in `currency`, positive
    status: str                      # posted | draft | cancelled (normalised)
    lines: tuple[VendorLine, ...] = ()
    memo: str = ""
    raw: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)   # the vendor's own record


@dataclass(frozen=True)
class ReadBackPage:
    documents: tuple[VendorDocument, ...]
    requests: int                    # vendor requests this page cost (Xledger bills them)


@dataclass(frozen=True)
class ImportFailure:
    """A document the vendor accepted, then failed to book in a later (asynchronous) import job."""
    error_id: str                    # the vendor's id for the error row
    reference: str                   # our reference, as the document carried it
    message: str
    created_at: str                  # the vendor's timestamp (ISO); the next poll asks from here
    level: str = ""
    row: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


class Connector(ABC):
    """The six verbs below, then the optional capabilities: each declared here with a default
    that means "not offered", so the engine calls them on any connector and never probes names."""

    system: str = ""                 # its key in connectors/registry.py
    label: str = ""
    # True for vendors that book in a later job: the engine then polls `import_failures()`.
    polls_import_failures: bool = False
    # Requests a month included in the vendor's price, where the vendor bills beyond it (Xledger).
    monthly_request_allowance: int | None = None
    request_price: tuple[Decimal, str] | None = None   # (price of one billed request, currency)
    # True for connectors that implement `read_back` (verification and reconciliation use it).
    reads_back: bool = False
    # False for vendors whose document line cannot carry a tax code with its tax amount: a tax
    # mapping with a tax code must then book the tax on a separate line (refused at save time).
    carries_line_tax: bool = True
    # Vendor requests that one month's read-back may spend before a person confirms it (Xledger
    # bills requests); None = no budget to show.
    read_back_request_budget: int | None = None
    # Documents one read-back request returns at most (the cost estimate shown before a run).
    read_back_page_size: int = 100
    # True for connectors that implement `preflight_metadata` (entries are checked before sending).
    offers_preflight: bool = False
    # False where a ledger bank transaction takes one counterpart only (Wafeq): a reimbursement's
    # realised exchange difference cannot ride on it, and stays on Employee Claims.
    carries_bank_fx_line: bool = True
    # Vendor statuses of an accepted document that is not booked yet (a draft, awaiting approval):
    # the engine re-checks such documents on a schedule until they are posted or rejected.
    unsettled_statuses: tuple[str, ...] = ()
    # Document kinds (EntryKind values) the vendor has an API for; others are marked "not
    # supported by this system" (visible, not a failure), never sent.
    supported_kinds: frozenset[str] = frozenset({"expense", "reversal", "ledger_bank_transaction",
                                                 "statement_transaction"})
    unsupported_reason: str = ""
    # "Push many": documents one `push_many` call may carry. 0 = not offered: the engine sends one
    # `push` per document. Vendors that bill or limit requests and take many documents per call
    # (Xledger's multi-input `addGLImportItems`, Business Central's `$batch`) offer it.
    push_many_limit: int = 0

    def __init__(self, connection: "Connection"):
        self.connection = connection
        # Facts `check()` found out (base currency, the vendor's own ids); the check service
        # keeps them in the connection's settings.
        self.learned: dict[str, object] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name in GUARDED_VERBS:
            if name in vars(cls):
                setattr(cls, name, _answer_guarded(vars(cls)[name]))

    @abstractmethod
    def check(self) -> CheckResult: ...

    @abstractmethod
    def catalog(self, kind: CatalogKind) -> list[CatalogItem]: ...

    @abstractmethod
    def ensure_account(self, spec: AccountSpec) -> CatalogItem:
        """Finds the account this spec describes, or creates it. Twice in a row creates one."""

    @abstractmethod
    def push(self, entry: AccountingEntry, idempotency_key: str) -> PushResult: ...

    @abstractmethod
    def find_by_reference(self, references: Sequence[str]) -> dict[str, RemoteDocument]:
        """Batched: one dict entry per reference the vendor holds (missing ones are absent)."""

    @abstractmethod
    def reverse(self, external_id: str, entry: AccountingEntry, idempotency_key: str) -> PushResult:
        """Undoes a booking the vendor's way; `entry` is the reversal entry (kind REVERSAL)."""

    # Optional capabilities ----------------------------------------------------------------
    def pushes_together(self, entry: AccountingEntry) -> bool:
        """Whether this entry can share a `push_many` call (the engine sends the others with `push`
        right away, as it would without the capability)."""
        return self.push_many_limit > 1 and entry.kind is not EntryKind.REVERSAL

    def push_many(self, items: Sequence[tuple[AccountingEntry, str]]) -> list["PushResult | ConnectorError"]:
        """Many new documents (entry, its own idempotency key), at most `push_many_limit`, in as few
        vendor calls as the vendor allows. Returns one outcome per item, in order: its PushResult,
        or the taxonomy error that document met (a refusal, OutcomeUnknown for one the vendor may
        hold, or what befell the whole call that carried it: RateLimited, OutcomeUnknown for a lost
        answer). Raising is allowed too: the engine then takes the error as every document's. Exactly-once per document
        holds as for `push`: a document whose key was sent before is looked up (all of them in one
        look-up) before it is sent again."""
        raise NotImplementedError(f"{type(self).__name__} does not push many (push_many_limit = 0)")

    def preview(self, entry: AccountingEntry) -> dict[str, Any] | None:
        """The payload `push` would send for this entry, without sending it (dry run); None when
        the vendor's payload cannot be shown apart from sending."""
        return None

    def import_failures(self, *, since: str | None = None) -> list[ImportFailure]:
        """Documents the vendor accepted and then failed to book in a later import job, oldest
        first, from `since` (the vendor's timestamp) on. Set `polls_import_failures` with it."""
        return []

    def read_back(self, *, date_from: date | None = None, date_to: date | None = None,
                  references: Sequence[str] = ()) -> Iterator[ReadBackPage]:
        """The vendor's own copy of this connection's documents, dated within [date_from, date_to]
        or carrying one of `references`, page by page at the vendor's largest page size, with the
        lines, accounts, amounts and status as the vendor holds them; documents booked by hand in
        the vendor are included (reference ""). Set `reads_back` with it."""
        return iter(())

    def ledger_balance(self, account: str, *, date_from: date, date_to: date, currency: str) -> Decimal | None:
        """Net movement (debit − credit) the vendor's ledger holds on `account` in the range, or
        None where the vendor offers no such query (reconciliation then sums read-back lines)."""
        return None

    def preflight_metadata(self) -> "VendorMetadata | None":
        """The vendor's live metadata pre-flight checks an entry against (accounts active and
        postable, dimension values, tax codes, currencies, the locked period, mandatory fields);
        None = not offered, and entries go out unchecked. The engine caches the answer, so this
        runs once per freshness window, not per document."""
        return None

    def dimension_key(self, kind: str) -> str:
        """The vendor's own name for a dimension kind, so a mandatory-field rule written either
        way (Workday: `cost_center` or `Cost_Center_Reference_ID`) matches."""
        return kind

    @staticmethod
    def vendor_reference(reference: str) -> str:
        """How the vendor's copy carries our reference when it cannot hold it whole (Business
        Central: a 20-character code): a read-back document's `reference` is ours or this."""
        return reference

    @staticmethod
    def document_url(connection: "Connection", external_id: str, *, reference: str = "") -> str | None:
        """The vendor's web page of a booked document (`reference`: ours, for vendors that find it
        by it), where the vendor's API returns one or its docs document the address; None
        elsewhere: the admin shows the id as text, saying the system publishes no link
        (connectors/FIDELITY.md lists which do)."""
        return None

    @staticmethod
    def readable_id(remote_id: str) -> str:
        """What the mapping screens show for a remote id; vendors with opaque ids decode them."""
        return remote_id


def plain_payload(value: Any) -> Any:
    """A vendor payload as JSON for a preview: money as exact strings, dates as ISO text."""
    if isinstance(value, dict):
        return {k: plain_payload(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain_payload(v) for v in value]
    if isinstance(value, Decimal):
        return format(value, "f")
    return value.isoformat() if isinstance(value, date) else value


def _answer_guarded(verb: Verb) -> Verb:
    """One place that reads every vendor's answers defensively: whatever a connector's verb
    indexes that is not there becomes an UnexpectedAnswer naming it."""

    @functools.wraps(verb)
    def guarded(self: Connector, *args: Any, **kwargs: Any) -> Any:
        try:
            return verb(self, *args, **kwargs)
        except SHAPE_ERRORS as exc:
            # Logged with the traceback: the same symptom could be a bug on our side.
            log.warning("%s.%s: unexpected answer", type(self).__name__, verb.__name__, exc_info=True)
            raise unexpected_answer(self.label or self.system, exc) from exc

    return guarded  # type: ignore[return-value]  # functools.wraps keeps the signature


# Connector classes outside connectors/registry.py (a test's fake books); vendors live there.
_registry: dict[str, type[Connector]] = {}


def register(cls: type[Connector]) -> type[Connector]:
    if not cls.system:
        raise ValueError(f"{cls.__name__} needs a `system` key")
    _registry[cls.system] = cls
    return cls


def connector_class(system: str) -> type[Connector]:
    if system in _registry:
        return _registry[system]
    try:
        return vendor(system).connector_class()
    except LookupError:
        raise LookupError(f"no connector registered for {system!r}; known: {registered_systems()}") from None


def registered_systems() -> list[str]:
    return sorted({*_registry, *(v.key for v in vendors())})


def connector_for(connection: "Connection") -> Connector:
    return connector_class(connection.system)(connection)
