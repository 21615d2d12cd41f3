from datetime import timedelta

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from django.utils import timezone

from expensico_sync.access_reviews.models import AccessReview
from expensico_sync.access_reviews.services import confirm, open_review, reviews_due
from expensico_sync.core.roles import Role
from expensico_sync.core.services import api_key_create
from expensico_sync.notify.models import Notification
from tests.conftest import admin_confirm
from tests.core.factories import make_member, make_org


@pytest.fixture
def org(db):
    return make_org("review")


def test_the_snapshot_names_what_looks_wrong(org):
    owner = make_member(org, Role.OWNER)
    make_member(org, Role.VIEWER)
    api_key_create(organization=org, name="ERP bridge", role="finance_admin")
    review = open_review(org)
    assert {m["user"] for m in review.members} == {owner.username, org.memberships.exclude(user=owner).get().user.username}
    assert [k["name"] for k in review.api_keys] == ["ERP bridge"]
    text = "\n".join(review.findings)
    assert f"{owner.username} (Owner) has no second factor" in text
    assert "API key 'ERP bridge' has not been used" in text
    assert Notification.objects.filter(kind="access_review.due", user=owner).count() == 1


def test_a_key_in_use_is_not_flagged_and_an_old_key_is(org, client, settings):
    make_member(org, Role.OWNER)
    key, raw = api_key_create(organization=org, name="Old key", role="viewer")
    assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Api-Key {raw}").status_code == 200
    settings.ACCESS_REVIEW_CREDENTIAL_MAX_AGE_DAYS = 30
    with time_machine.travel(timezone.now() + timedelta(days=45)):
        assert client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Api-Key {raw}").status_code == 200
        text = "\n".join(open_review(org).findings)
    assert "API key 'Old key' is 45 days old" in text
    assert "'Old key' has not been used" not in text


def test_only_an_owner_confirms_and_history_keeps_who(org):
    owner, admin = make_member(org, Role.OWNER), make_member(org, Role.FINANCE_ADMIN)
    review = open_review(org)
    with pytest.raises(PermissionDenied):
        confirm(review, user=admin)
    confirm(review, user=owner, comment="All still needed")
    review.refresh_from_db()
    assert (review.status, review.confirmed_by) == (AccessReview.Status.CONFIRMED, owner)
    assert review.history.first().confirmed_by_id == owner.pk


def test_schedule_opens_quarterly_and_reminds_when_overdue(org, settings):
    make_member(org, Role.OWNER)
    assert len(reviews_due()) == 1 and reviews_due() == []
    with time_machine.travel(timezone.now() + timedelta(days=20)):
        reviews_due()
        reviews_due()
    assert Notification.objects.filter(incident__contains=":late:").count() == 1      # once per week
    with time_machine.travel(timezone.now() + timedelta(days=95)):
        assert len(reviews_due()) == 1


def test_admin_confirm_is_a_post(client, org):
    owner = make_member(org, Role.OWNER)
    review = open_review(org)
    client.force_login(owner)
    page = client.get(reverse("admin:access_reviews_accessreview_change", args=[review.pk]))
    assert page.status_code == 200 and b"has no second factor" in page.content
    url = reverse("admin:access_reviews_accessreview_confirm_review", args=[review.pk])
    client.get(url)
    review.refresh_from_db()
    assert review.status == AccessReview.Status.OPEN
    admin_confirm(client, url)
    review.refresh_from_db()
    assert review.status == AccessReview.Status.CONFIRMED


def test_vendor_credentials_are_reviewed_by_age_and_expiry(org, settings):
    from connectors.models import Connection

    make_member(org, Role.OWNER)
    settings.ACCESS_REVIEW_CREDENTIAL_MAX_AGE_DAYS = 30
    connection = Connection.objects.create(organization=org, system="wafeq", name="Books", api_key="k-1",
                                           base_url="http://127.0.0.1:9/v1")
    assert connection.credentials_changed_at is not None
    connection.credentials_expire_on = (timezone.now() + timedelta(days=10)).date()
    connection.save()
    with time_machine.travel(timezone.now() + timedelta(days=40)):
        text = "\n".join(open_review(org).findings)
    assert "Books: its API key is 40 days old" in text and "Books: its API key expires on" in text
    stamp = connection.credentials_changed_at
    connection.refresh_from_db()
    connection.access_token = "refreshed-by-oauth"
    connection.save()
    assert connection.credentials_changed_at == stamp                 # a refreshed token is not a new credential
    connection.supply_credentials(api_key="k-2")
    connection.save()
    assert connection.credentials_changed_at > stamp


def test_the_list_reads_its_reviews_and_their_confirmers_in_one_page_query(client, org):
    from django.db import connection as db
    from django.test.utils import CaptureQueriesContext

    owner = make_member(org, Role.OWNER)
    client.force_login(owner)
    url = reverse("admin:access_reviews_accessreview_changelist")

    def queries():
        with CaptureQueriesContext(db) as ctx:
            assert client.get(url).status_code == 200
        return len(ctx.captured_queries)

    confirm(open_review(org), user=owner)
    client.get(url)
    one = queries()
    for _ in range(4):
        confirm(open_review(org), user=owner)
    assert queries() == one
