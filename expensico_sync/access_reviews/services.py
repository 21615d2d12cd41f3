from datetime import timedelta

from allauth.mfa.models import Authenticator
from dateutil.relativedelta import relativedelta
from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from expensico_sync.core.models import Membership, Organization
from expensico_sync.core.roles import Role
from expensico_sync.notify.kinds import register_kind
from expensico_sync.notify.services import notify

from .models import AccessReview

# Credentials held outside this app (vendor connections), registered by the package that owns them:
# source(organization, now) -> [{"name", "kind", "changed_at" (datetime|None), "expires_on" (date|None), "link"}]
_credential_sources: list = []


def register_credential_source(source) -> None:
    if source not in _credential_sources:
        _credential_sources.append(source)


DUE = register_kind("access_review.due", gettext_lazy("Access review waiting for an owner"), roles={"owner"})


def snapshot(organization: Organization, now=None) -> tuple[list, list, list]:
    now = now or timezone.now()
    inactive_after = timedelta(days=settings.ACCESS_REVIEW_INACTIVE_DAYS)
    max_age = timedelta(days=settings.ACCESS_REVIEW_CREDENTIAL_MAX_AGE_DAYS)
    memberships = (Membership.objects.filter(organization=organization, user__is_active=True)
                   .select_related("user").order_by("role", "user__username"))
    mfa = set(Authenticator.objects.filter(type=Authenticator.Type.TOTP,
                                           user__in=[m.user_id for m in memberships]).values_list("user_id", flat=True))
    members, findings = [], []
    for m in memberships:
        last = m.user.last_login
        members.append({"user": m.user.username, "email": m.user.email, "role": m.role,
                        "last_login": last.isoformat() if last else None, "mfa": m.user_id in mfa,
                        "member_since": m.created_at.isoformat()})
        if m.role in (Role.OWNER, Role.FINANCE_ADMIN) and m.user_id not in mfa:
            findings.append(f"{m.user.username} ({m.get_role_display()}) has no second factor enrolled")
        if last is None or now - last > inactive_after:
            findings.append(f"{m.user.username} has not signed in for more than "
                            f"{settings.ACCESS_REVIEW_INACTIVE_DAYS} days: still needed?")
    keys = []
    for key in organization.api_keys.select_related("service_user").order_by("created"):
        used = key.service_user.last_login if key.service_user else None
        age = now - key.created
        keys.append({"name": key.name, "prefix": key.prefix, "role": key.role, "revoked": key.revoked,
                     "created": key.created.isoformat(), "age_days": age.days,
                     "last_used": used.isoformat() if used else None})
        if key.revoked:
            continue
        if age > max_age:
            findings.append(f"API key '{key.name}' is {age.days} days old (policy: rotate after "
                            f"{settings.ACCESS_REVIEW_CREDENTIAL_MAX_AGE_DAYS})")
        if used is None or now - used > inactive_after:
            findings.append(f"API key '{key.name}' has not been used for more than "
                            f"{settings.ACCESS_REVIEW_INACTIVE_DAYS} days: revoke it?")
    for source in _credential_sources:
        for cred in source(organization, now):
            age = (now - cred["changed_at"]).days if cred.get("changed_at") else None
            keys.append({"name": cred["name"], "prefix": cred["kind"], "role": "vendor credential", "revoked": False,
                         "created": cred["changed_at"].isoformat() if cred.get("changed_at") else None,
                         "age_days": age, "last_used": None,
                         "expires_on": cred["expires_on"].isoformat() if cred.get("expires_on") else None})
            if age is not None and age > max_age.days:
                findings.append(f"{cred['name']}: its {cred['kind']} is {age} days old (policy: rotate after "
                                f"{settings.ACCESS_REVIEW_CREDENTIAL_MAX_AGE_DAYS}); rotate it at the vendor, then "
                                "enter the new one on the connection")
            if cred.get("expires_on") and cred["expires_on"] <= (now + timedelta(days=30)).date():
                findings.append(f"{cred['name']}: its {cred['kind']} expires on {cred['expires_on']:%d %b %Y}")
    return members, keys, findings


def open_review(organization: Organization, now=None) -> AccessReview:
    now = now or timezone.now()
    members, keys, findings = snapshot(organization, now)
    with transaction.atomic():
        review = AccessReview.objects.create(organization=organization, due_at=now + timedelta(days=14),
                                             members=members, api_keys=keys, findings=findings)
        notify(DUE.key, organization=organization, incident=f"access_review:{review.pk}",
               subject=lambda: ngettext("Access review for %(organization)s: %(count)s finding",
                                        "Access review for %(organization)s: %(count)s findings", len(findings)) % {
                   "organization": organization.name, "count": len(findings)},
               text=lambda: _("Please confirm who can do what in %(organization)s by %(date)s.") % {
                   "organization": organization.name, "date": date_format(review.due_at, "j M Y")}
                   + "\n\n" + "\n".join(f"- {f}" for f in findings),
               link=reverse("admin:access_reviews_accessreview_change", args=[review.pk]))
    return review


def confirm(review: AccessReview, *, user, comment: str = "") -> AccessReview:
    if not Membership.objects.filter(user=user, organization=review.organization, role=Role.OWNER).exists() \
            and not user.is_superuser:
        raise PermissionDenied("Only an owner of the organisation confirms its access review.")
    if review.status == AccessReview.Status.CONFIRMED:
        return review
    review.status, review.confirmed_by, review.confirmed_at = AccessReview.Status.CONFIRMED, user, timezone.now()
    review.comment = comment
    review.save()
    return review


def _remind(organization: Organization, review: AccessReview, *, week: int) -> None:
    notify(DUE.key, organization=organization, incident=f"access_review:{review.pk}:late:{week}",
           subject=lambda: _("Reminder: the access review for %(organization)s is overdue") % {
               "organization": organization.name},
           text=lambda: _("It was due on %(date)s.") % {"date": date_format(review.due_at, "j M Y")},
           link=reverse("admin:access_reviews_accessreview_change", args=[review.pk]))


def reviews_due(now=None) -> list[AccessReview]:
    """Opens a review for every organisation whose last one is older than ACCESS_REVIEW_MONTHS, and
    reminds owners weekly of reviews past their due date."""
    now = now or timezone.now()
    opened = []
    for organization in Organization.objects.all():
        last = organization.access_reviews.order_by("-opened_at").first()
        if last is None or last.opened_at <= now - relativedelta(months=settings.ACCESS_REVIEW_MONTHS):
            opened.append(open_review(organization, now))
        elif last.status == AccessReview.Status.OPEN and last.due_at < now:
            _remind(organization, last, week=(now - last.due_at).days // 7)
    return opened
