from dataclasses import dataclass
from datetime import datetime

from dateutil.relativedelta import relativedelta
from django.db import transaction
from django.utils import timezone

from expensico_sync.core.models import Organization

from .models import RetentionSettings
from .registry import Policy, policies


@dataclass(frozen=True)
class Step:
    organization: Organization
    policy: Policy
    months: int
    cutoff: datetime
    rows: int
    held: bool
    applied: int = 0


def settings_for(organization: Organization) -> RetentionSettings:
    return RetentionSettings.objects.filter(organization=organization).first() or RetentionSettings(
        organization=organization)


def plan(organization: Organization, *, now: datetime | None = None, chosen: RetentionSettings | None = None,
         count_limit: int | None = None) -> list[Step]:
    """What a run would do. `count_limit` bounds each count (a preview reads at most that many rows
    per policy and shows "limit+" above it); a run counts exactly."""
    now = now or timezone.now()
    chosen = chosen or settings_for(organization)
    steps = []
    for policy in policies():
        months = chosen.months_for(policy)
        cutoff = now - relativedelta(months=months)
        due = policy.rows(organization, cutoff)
        rows = due.order_by()[:count_limit].count() if count_limit else due.count()
        steps.append(Step(organization, policy, months, cutoff, rows, chosen.legal_hold))
    return steps


def apply(organization: Organization, *, dry_run: bool = False, now: datetime | None = None) -> list[Step]:
    steps = plan(organization, now=now)
    if dry_run or (steps and steps[0].held):
        return steps
    done = []
    for step in steps:
        with transaction.atomic():
            changed = step.policy.apply(step.policy.rows(organization, step.cutoff)) if step.rows else 0
        done.append(Step(**{**step.__dict__, "applied": changed}))
    return done


def apply_all(*, dry_run: bool = False) -> list[Step]:
    return [step for org in Organization.objects.order_by("slug") for step in apply(org, dry_run=dry_run)]
