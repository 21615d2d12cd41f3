"""django-q2 tasks: thin doorbells. The database is the source of truth; a lost message only
delays work until the sweeper rings again."""

from .reconcile import run as reconcile_run
from .reconcile import verify
from .services import coding, import_failures, sweeper, sync, vendor_status, worker


def export_record(record_id: int) -> str:
    return worker.record_process(record_id=record_id)


def sweep() -> dict:
    return sweeper.records_sweep()


def sync_run_execute(sync_run_id: int) -> str:
    return sync.sync_run_execute(sync_run_id=sync_run_id)


def import_failures_poll() -> dict:
    return import_failures.import_failures_poll_due()


def records_verify() -> dict:
    return verify.records_verify_due()


def reconciliation_execute(reconciliation_id: int) -> str:
    return reconcile_run.reconciliation_execute(reconciliation_id=reconciliation_id)


def vendor_status_recheck() -> dict:
    return vendor_status.records_vendor_status_recheck()


def coding_rule_apply(rule_id: int, user_id: int | None = None) -> dict:
    return coding.rule_recode_queued(rule_id=rule_id, user_id=user_id)
