"""Built evidence packs: ask for one (queues the django-q2 task), build it (the task), find the one
to serve. A pack is served while it is newer than the month's last sign-off or reopening; an open
month's pack is a snapshot as of `built_at` that a person can rebuild."""

import logging
import tempfile
from datetime import date, timedelta

from django.contrib.auth import get_user_model
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max, Q, Subquery
from django.dispatch import Signal
from django.http import FileResponse
from django.utils import timezone
from django_q.tasks import async_task

from ..models import MonthClose
from .evidence import evidence_filename, evidence_pack_write, file_sha256
from .models import EvidencePack

log = logging.getLogger(__name__)
TASK_TIMEOUT = 60 * 60              # a year-sized month takes minutes; the cluster default is 2
ABANDONED_AFTER = timedelta(seconds=TASK_TIMEOUT + 300)   # a build whose worker died frees the slot
# A queued pack may wait behind other builds (one worker, a dozen year-sized months): it is given
# up only when no worker took it for a day (its task lost with the broker), never for its place
# in the queue.
QUEUED_ABANDONED_AFTER = timedelta(days=1)
# Sent when a build ends, ready or failed (kwargs: pack_id, status): whoever waits for the pack
# (a scheduled report) delivers it or reports the failure.
pack_finished = Signal()


def pack_latest(*, connection, period: date) -> EvidencePack | None:
    return (EvidencePack.objects.filter(connection=connection, period=period)
            .select_related("connection__organization").order_by("-id").first())


def packs_latest(*, connections, period: date) -> dict[int, EvidencePack]:
    """Each connection's latest pack of the month, in one statement (portable: no DISTINCT ON)."""
    last = (EvidencePack.objects.filter(connection__in=connections, period=period).order_by()
            .values("connection_id").annotate(last=Max("id")).values("last"))
    return {p.connection_id: p for p in EvidencePack.objects.filter(pk__in=Subquery(last))}


def pack_servable(pack: EvidencePack | None) -> bool:
    """Ready, and built after the month was last signed off or reopened (its checklist is inside)."""
    if pack is None or pack.status != EvidencePack.Status.READY or not pack.file.name:
        return False
    if not pack.file.storage.exists(pack.file.name):      # removed behind our back: build again
        return False
    changed = (MonthClose.objects.filter(organization_id=pack.connection.organization_id, period=pack.period)
               .values_list("updated_at", flat=True).first())
    return changed is None or pack.built_at is None or changed <= pack.built_at


def _abandoned() -> Q:
    """Building for longer than the task may run (measured from when the build started, not from
    when it was asked for), or queued with no worker taking it for `QUEUED_ABANDONED_AFTER`."""
    now = timezone.now()
    return (Q(status=EvidencePack.Status.BUILDING, started_at__lt=now - ABANDONED_AFTER)
            | Q(status=EvidencePack.Status.QUEUED, requested_at__lt=now - QUEUED_ABANDONED_AFTER))


def pack_abandoned(pack: EvidencePack) -> bool:
    """Still queued or building long after any worker would have finished it."""
    return EvidencePack.objects.filter(_abandoned(), pk=pack.pk).exists()


def _abandoned_release(connection, period: date) -> None:
    EvidencePack.objects.filter(_abandoned(), connection=connection, period=period).update(
        status=EvidencePack.Status.FAILED, error="abandoned: the build did not finish in time")


def pack_request(*, connection, period: date, by=None) -> EvidencePack:
    """The build under way for this month, or a new one queued. Call it outside a transaction:
    the worker must see the row."""
    _abandoned_release(connection, period)
    active = EvidencePack.objects.filter(connection=connection, period=period, status__in=EvidencePack.ACTIVE)
    current = active.first()
    if current is not None:
        return current
    user = by if isinstance(by, get_user_model()) and by.pk else None     # an API key is no user
    try:
        with transaction.atomic():
            pack = EvidencePack.objects.create(connection=connection, period=period, requested_by=user)
    except IntegrityError:          # someone else queued it a moment ago
        return active.get()
    async_task("exports.close.tasks.evidence_pack_task", pack.pk, group="evidence", timeout=TASK_TIMEOUT)
    pack.refresh_from_db()          # built already when tasks run inline (tests)
    return pack


def _claim(pack_id: int) -> bool:
    """Queued → building, once: a re-delivered task finds it taken and stops."""
    return bool(EvidencePack.objects.filter(pk=pack_id, status=EvidencePack.Status.QUEUED).update(
        status=EvidencePack.Status.BUILDING, started_at=timezone.now()))


def pack_build(pack_id: int) -> EvidencePack | None:
    if not _claim(pack_id):
        return None
    pack = EvidencePack.objects.select_related("connection__organization").get(pk=pack_id)
    rows = EvidencePack.objects.filter(pk=pack_id)
    total = {"rows": 0}

    def on_total(count: int) -> None:
        total["rows"] = count
        rows.update(rows_total=count)

    def progress(done: int) -> None:
        rows.update(rows_done=done, progress=min(99, 100 * done // total["rows"]) if total["rows"] else 0)

    try:
        with tempfile.TemporaryFile(prefix="evidence-", suffix=".zip") as scratch:
            evidence_pack_write(connection=pack.connection, period=pack.period, fileobj=scratch,
                                progress=progress, on_total=on_total)
            scratch.seek(0)
            sha, size = file_sha256(iter(lambda: scratch.read(1 << 20), b""))
            scratch.seek(0)
            name = evidence_filename(pack.connection, pack.period)
            pack.file.save(f"{pack.pk}-{name}", File(scratch, name=name), save=False)
    except Exception as exc:
        log.exception("evidence pack %s failed", pack_id)
        rows.update(status=EvidencePack.Status.FAILED, error=f"{type(exc).__name__}: {exc}"[:2000])
        _announce(pack_id, EvidencePack.Status.FAILED)
        return None
    previous = list(EvidencePack.objects.filter(connection=pack.connection, period=pack.period,
                                                status=EvidencePack.Status.READY).exclude(pk=pack.pk))
    rows.update(status=EvidencePack.Status.READY, progress=100, rows_done=total["rows"], file=pack.file.name,
                sha256=sha, size=size, built_at=timezone.now(), error="")
    for old in previous:            # one served pack per month: the older files go
        if old.file:
            old.file.delete(save=False)
        old.delete()
    pack.refresh_from_db()
    _announce(pack_id, EvidencePack.Status.READY)
    return pack


def _announce(pack_id: int, status: str) -> None:
    """Tells who waits for the pack; a failing receiver is logged, not the build's failure (the
    reports' sweep settles what it left)."""
    for receiver, result in pack_finished.send_robust(EvidencePack, pack_id=pack_id, status=status):
        if isinstance(result, Exception):
            log.error("evidence pack %s: %s failed: %r", pack_id, getattr(receiver, "__name__", receiver), result)


def pack_open(pack: EvidencePack):
    """The stored file, opened for a streaming response."""
    if not pack.file.name or not pack.file.storage.exists(pack.file.name):
        raise FileNotFoundError(f"evidence pack {pack.pk} has no stored file")
    return pack.file.open("rb")


def evidence_response(pack: EvidencePack) -> FileResponse:
    """The stored zip, streamed (served only by the API and the admin, behind the organisation's scope)."""
    response = FileResponse(pack_open(pack), as_attachment=True, content_type="application/zip",
                            filename=evidence_filename(pack.connection, pack.period))
    response["X-Evidence-SHA256"] = pack.sha256
    response["X-Evidence-Built-At"] = pack.built_at.isoformat() if pack.built_at else ""
    return response
