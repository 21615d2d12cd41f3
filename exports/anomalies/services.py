"""Scanning an organisation's spend for anomalies, and a person's decision on a flag.

A flag becomes an `anomaly` review item (flag only: the expense still exports; the item is
acknowledged or dismissed). A record already parked for another reason keeps that item; its flag
is attached by a later scan once the record is free."""

from dataclasses import dataclass
from datetime import date, timedelta

from django.db import transaction
from django.db.models import Prefetch
from django.utils import timezone

from expensico_sync.source.models import Expense, Receipt
from mappings.allowances import KINDS, Rate
from mappings.merchants import normalise_merchant
from mappings.models import AllowanceRate

from ..messages import kept, said, stored_of
from ..models import ExportRecord, Kind, ReviewItem
from ..services.review import ReviewError, _label, _user_or_none, review_item_open, review_item_resolve
from ..transitions import Status
from .detectors import DETECTORS, Facts, Finding, detect
from .models import AnomalyDismissal, AnomalyFlag, AnomalySetting
from .sync import SYNC_DETECTORS

HISTORY_DAYS = 365
WINDOW_DAYS = 35
RELAPSE = 1.5               # a dismissed pattern flags again only beyond 1.5× the dismissed score


@dataclass(frozen=True)
class ScanResult:
    found: int
    flagged: int
    suppressed: int          # dismissed patterns
    attached: int            # review items opened (this scan's flags and earlier waiting ones)


def anomaly_settings(organization) -> dict[str, tuple[bool, float | None, dict]]:
    rows = {s.detector: s for s in AnomalySetting.objects.filter(organization=organization)}
    result = {}
    for key, detector in DETECTORS.items():
        row = rows.get(key)
        result[key] = ((row.enabled, row.threshold, row.options or {}) if row
                       else (detector.enabled, detector.threshold, {}))
    return result


def anomaly_setting_save(*, organization, detector: str, enabled: bool, threshold: float | None = None,
                         options: dict | None = None) -> AnomalySetting:
    known = [*DETECTORS, *SYNC_DETECTORS]
    if detector not in known:
        raise ValueError(f"detector: unknown {detector!r}; known: {', '.join(known)}")
    if threshold is not None and threshold <= 0:
        raise ValueError("threshold: must be greater than 0")
    if options is not None and not isinstance(options, dict):
        raise ValueError("options: must be an object")
    row, _ = AnomalySetting.objects.update_or_create(
        organization=organization, detector=detector,
        defaults={"enabled": enabled, "threshold": threshold, "options": options or {}})
    return row


def allowance_rates(organization) -> list[Rate]:
    return [Rate(r.kind, r.currency, r.rate, r.effective_from, r.destination)
            for r in AllowanceRate.objects.filter(organization=organization)]


def _facts(organization, start: date, until: date) -> list[Facts]:
    rows = (Expense.objects.filter(organization=organization, status="approved", date__gte=start, date__lte=until)
            .select_related("category", "employee").only(
                "id", "expensico_id", "employee__expensico_id", "employee__name", "category__code",
                "category__name", "merchant", "amount", "currency", "date", "type", "details")
            .prefetch_related(Prefetch("receipts", queryset=Receipt.objects.only("expense_id", "sha256")))
            .order_by("date", "id"))
    return [Facts(key=e.pk, source_id=e.expensico_id, employee_id=e.employee.expensico_id,
                  employee_name=e.employee.name, category=e.category.code, category_name=e.category.name,
                  merchant=normalise_merchant(e.merchant), merchant_label=e.merchant, amount=e.amount,
                  currency=e.currency, date=e.date, type=e.type,
                  receipts=tuple(sorted({r.sha256 for r in e.receipts.all() if r.sha256})),
                  details=e.details if e.type in KINDS and isinstance(e.details, dict) else {})
            for e in rows.iterator(chunk_size=2000)]


def _suppressed(organization, findings: list[Finding]) -> set[tuple[int, str]]:
    """(expense, detector) of the findings whose pattern a person dismissed, at a comparable score."""
    patterns = {f.pattern for f in findings}
    dismissed: dict[tuple[str, str], float] = {}
    for detector, pattern, score in AnomalyDismissal.objects.filter(
            organization=organization, pattern__in=patterns).values_list("detector", "pattern", "score"):
        dismissed[(detector, pattern)] = max(score, dismissed.get((detector, pattern), 0.0))
    return {(f.key, f.detector) for f in findings
            if (f.detector, f.pattern) in dismissed and f.score <= dismissed[(f.detector, f.pattern)] * RELAPSE}


def anomaly_scan(*, organization, since: date | None = None, until: date | None = None) -> ScanResult:
    """Flags this organisation's expenses dated `since`…`until` (default: the last 35 days),
    each compared with up to a year of earlier spend. Scanning again flags nothing twice."""
    until = until or timezone.localdate()
    since = since or until - timedelta(days=WINDOW_DAYS)
    if since > until:
        raise ValueError("since: must not be after until")
    facts = _facts(organization, since - timedelta(days=HISTORY_DAYS), until)
    settings = anomaly_settings(organization)
    enabled, threshold, options = settings["allowance_rate"]
    settings["allowance_rate"] = (enabled, threshold, {**options, "rates": allowance_rates(organization)})
    findings = detect(facts, since, settings)
    quiet = _suppressed(organization, findings)
    done = set(AnomalyFlag.objects.filter(expense_id__in={f.key for f in findings})
               .values_list("expense_id", "detector"))
    flagged = 0
    for finding in findings:
        if (finding.key, finding.detector) in quiet or (finding.key, finding.detector) in done:
            continue
        AnomalyFlag.objects.create(organization=organization, expense_id=finding.key, detector=finding.detector,
                                   pattern=finding.pattern[:300], score=finding.score,
                                   explanation=finding.explanation,
                                   explanation_message=stored_of(finding.explanation), context=finding.context)
        done.add((finding.key, finding.detector))
        flagged += 1
    attached = anomaly_flags_attach(organization=organization)
    return ScanResult(len(findings), flagged, len(quiet), attached)


def anomaly_flags_attach(*, organization) -> int:
    """Opens a review item for each open flag that has none, on the expense's newest record that is
    not cancelled and has no other open item."""
    attached = 0
    waiting = (AnomalyFlag.objects.filter(organization=organization, status=AnomalyFlag.Status.OPEN,
                                          review_item__isnull=True).order_by("id"))
    for flag in waiting:
        with transaction.atomic():
            record = (ExportRecord.objects.select_for_update()
                      .filter(expense_id=flag.expense_id, kind=Kind.EXPENSE)
                      .exclude(status=Status.CANCELLED).order_by("-id").first())
            if record is None or ReviewItem.objects.filter(record=record, resolved_at__isnull=True).exists():
                continue
            item = review_item_open(
                record=record, reason=ReviewItem.Reason.ANOMALY,
                detail=kept(flag.explanation, flag.explanation_message),
                severity=ReviewItem.Severity.LOW,
                context={"flag_only": True, "anomaly_flag": flag.pk, "detector": flag.detector,
                         "score": flag.score, **flag.context})
            AnomalyFlag.objects.filter(pk=flag.pk).update(record=record, review_item=item)
            attached += 1
    return attached


def _decide(flag: AnomalyFlag, status: str, by, reason: str) -> AnomalyFlag:
    flag = AnomalyFlag.objects.select_for_update().get(pk=flag.pk)
    if flag.status != AnomalyFlag.Status.OPEN:
        raise ReviewError(said("flag_not_open", status=said(f"flag_{flag.status}")), code="not_open")
    flag.status, flag.reason, flag.decided_at = status, reason, timezone.now()
    flag.decided_by, flag.decided_by_label = _user_or_none(by), _label(by)
    flag.save(update_fields=["status", "reason", "decided_at", "decided_by", "decided_by_label"])
    item = flag.review_item
    if item is not None and item.is_open and item.reason == ReviewItem.Reason.ANOMALY:
        verb = "dismissed" if status == AnomalyFlag.Status.DISMISSED else "confirmed"
        review_item_resolve(item=item, resolution=ReviewItem.Resolution.ACKNOWLEDGED, by=by,
                            note=f"anomaly {verb}: {reason}".strip(": "))
    return flag


@transaction.atomic
def anomaly_dismiss(*, flag: AnomalyFlag, by, reason: str) -> AnomalyDismissal:
    """A false positive: closes the flag and its review item, and the detector remembers the pattern."""
    if not reason.strip():
        raise ReviewError(said("flag_reason_required"), code="reason_required")
    flag = _decide(flag, AnomalyFlag.Status.DISMISSED, by, reason.strip())
    return AnomalyDismissal.objects.create(organization_id=flag.organization_id, detector=flag.detector,
                                           pattern=flag.pattern, score=flag.score, reason=reason.strip(), flag=flag,
                                           by=_user_or_none(by), by_label=_label(by))


@transaction.atomic
def anomaly_confirm(*, flag: AnomalyFlag, by, reason: str = "") -> AnomalyFlag:
    """Seen and real (followed up outside): closes the flag without teaching the detector anything."""
    return _decide(flag, AnomalyFlag.Status.CONFIRMED, by, reason.strip())
