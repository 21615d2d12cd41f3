"""The outbox: recorded with its cause, delivered through real SMTP on loopback at most once,
preferences and one-click unsubscribe, digests, alerts once per incident."""

import smtplib
import socket
from datetime import timedelta
from pathlib import Path

import pytest
import time_machine
from django.core import mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from expensico_sync.core.roles import Role
from expensico_sync.notify import catcher, kinds, sender
from expensico_sync.notify.digest import send_digest
from expensico_sync.notify.links import unsubscribe_token
from expensico_sync.notify.models import Notification, Preference
from expensico_sync.notify.services import notify, set_mode
from tests.core.factories import make_member, make_org, make_user

TEST_KIND = kinds.register_kind("test.alert", "Test alerts", roles={"owner", "finance_admin"})


@pytest.fixture
def org(db):
    return make_org("notify")


@pytest.fixture
def people(org):
    return {"owner": make_member(org, Role.OWNER), "admin": make_member(org, Role.FINANCE_ADMIN),
            "viewer": make_member(org, Role.VIEWER)}


@pytest.fixture
def smtp(tmp_path, settings):
    """A real SMTP server on loopback (the development catcher); the app sends through SMTP to it."""
    controller = catcher.start(tmp_path / "mail")
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_USE_TLS = "127.0.0.1", controller.port, False
    settings.MAIL_CATCHER_DIR = str(tmp_path / "mail")
    yield tmp_path / "mail"
    controller.stop()


def _alert(org, incident="i-1"):
    return notify(TEST_KIND.key, organization=org, incident=incident, subject="Books paused",
                  text="The vendor failed 5 times.", link="/admin/")


def test_recorded_for_the_kinds_roles_once_per_incident(org, people):
    made = _alert(org)
    assert {n.user for n in made} == {people["owner"], people["admin"]}
    assert _alert(org) == []                                      # the same incident again: nothing new
    assert Notification.objects.count() == 2
    assert len(_alert(org, incident="i-2")) == 2


def test_recorded_in_the_causes_transaction(org, people):
    with pytest.raises(RuntimeError):
        with transaction.atomic():
            _alert(org)
            raise RuntimeError("the cause rolled back")
    assert Notification.objects.count() == 0


def test_preferences_off_and_digest(org, people):
    set_mode(people["owner"], org, TEST_KIND.key, kinds.OFF)
    set_mode(people["admin"], org, TEST_KIND.key, kinds.DIGEST)
    made = _alert(org)
    assert [(n.user, n.mode) for n in made] == [(people["admin"], kinds.DIGEST)]
    assert sender.send_pending() == 0                             # digest-mode alerts wait for the digest


@pytest.mark.django_db(transaction=True)
def test_sent_through_smtp_once_with_one_click_unsubscribe(org, people, smtp):
    _alert(org)                           # committed: its on_commit rings the worker, which sends at once
    assert sender.send_pending() == 0                             # never twice
    caught = catcher.caught(smtp)
    assert sorted(c.to for c in caught) == sorted([people["owner"].email, people["admin"].email])
    assert {n.status for n in Notification.objects.all()} == {Notification.Status.SENT}
    raw = next(smtp.glob("*.eml")).read_text()
    assert "List-Unsubscribe-Post: List-Unsubscribe=One-Click" in raw
    assert caught[0].html and "Books paused" in caught[0].html and "Unsubscribe" in caught[0].text


@pytest.mark.django_db(transaction=True)
def test_retried_while_the_server_is_down_then_sent_once(org, people, settings, tmp_path):
    with socket.socket() as probe:                                # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", closed_port
    _alert(org)
    assert sender.send_pending() == 0
    rows = list(Notification.objects.all())
    assert {(r.status, r.attempts) for r in rows} == {(Notification.Status.PENDING, 1)}
    assert all(r.send_after > timezone.now() for r in rows) and "Connection" in rows[0].last_error

    controller = catcher.start(tmp_path / "mail")
    settings.EMAIL_PORT = controller.port
    try:
        assert sender.send_pending() == 0                         # backing off: not due yet
        with time_machine.travel(timezone.now() + timedelta(minutes=5)):
            assert sender.send_pending() == 2
            assert sender.send_pending() == 0
    finally:
        controller.stop()
    assert len(catcher.caught(tmp_path / "mail")) == 2


def test_a_permanent_refusal_fails_and_an_interrupted_send_is_never_repeated(org, people, monkeypatch):
    _alert(org)

    def refuse(self):
        raise smtplib.SMTPRecipientsRefused({"x@example.com": (550, b"no such user")})
    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", refuse)
    assert sender.send_pending() == 0
    assert set(Notification.objects.values_list("status", flat=True)) == {Notification.Status.FAILED}

    _alert(org, incident="i-2")

    def drop(self):
        raise smtplib.SMTPServerDisconnected("connection lost during DATA")
    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", drop)
    sender.send_pending()
    assert set(Notification.objects.filter(incident="i-2").values_list("status", flat=True)) == \
        {Notification.Status.UNKNOWN}

    _alert(org, incident="i-3")
    Notification.objects.filter(incident="i-3").update(status=Notification.Status.SENDING,
                                                       claimed_at=timezone.now() - timedelta(hours=1))
    monkeypatch.setattr("django.core.mail.EmailMultiAlternatives.send", lambda self: pytest.fail("re-sent"))
    sender.send_pending()                                         # a worker died mid-send
    assert set(Notification.objects.filter(incident="i-3").values_list("status", flat=True)) == \
        {Notification.Status.UNKNOWN}


def test_unsubscribe_get_changes_nothing_post_turns_the_kind_off(client, org, people):
    owner = people["owner"]
    url = reverse("notify-unsubscribe", args=[unsubscribe_token(owner, org, TEST_KIND.key)])
    assert client.get(url).status_code == 200
    assert not Preference.objects.exists()
    response = client.post(url, {"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200 and b"no longer receive" in response.content
    assert Preference.objects.get(user=owner, organization=org, kind=TEST_KIND.key).mode == kinds.OFF
    assert people["owner"] not in {n.user for n in _alert(org)}
    assert client.post(url[:-3] + "xx/").status_code == 400


def test_digest_has_the_sections_and_the_held_alerts(org, people):
    set_mode(people["admin"], org, TEST_KIND.key, kinds.DIGEST)
    held = [n for n in _alert(org) if n.mode == kinds.DIGEST]
    made = send_digest(org)
    assert {n.user for n in made} == {people["owner"], people["admin"]}
    body = made[0].body_text
    assert "Exports" in body and "Oldest open review items" in body and "Mapping gaps" in body
    assert "Month-end close" in body
    admin_digest = next(n for n in made if n.user == people["admin"])
    assert "Books paused" in admin_digest.body_text
    held[0].refresh_from_db()
    assert held[0].status == Notification.Status.DIGESTED
    assert send_digest(org) == []                                 # once per day


def test_backup_failure_alerts_the_operators(db):
    from expensico_sync.backups.models import BackupRun
    from expensico_sync.backups.signals import backup_failed

    operator = make_user("operator", is_superuser=True, is_staff=True)
    run = BackupRun.objects.create(kind="drill", status="failed", name="x.backup", detail="altered")
    backup_failed.send(sender=BackupRun, run=run)
    assert [(n.user, n.kind) for n in Notification.objects.all()] == [(operator, "backup.failed")]


@pytest.mark.django_db(transaction=True)
def test_caught_mail_page_shows_what_was_sent(client, org, people, smtp):
    operator = make_user("ops", is_superuser=True, is_staff=True)
    _alert(org)
    sender.send_pending()
    client.force_login(operator)
    response = client.get(reverse("admin:notify_notification_changelist") + "caught-mail/")
    assert response.status_code == 200
    assert b"Books paused" in response.content
    name = sorted(Path(smtp).glob("*.eml"))[0].name
    assert client.get(reverse("admin:notify_caught_message", args=[name])).status_code == 200
    assert client.get(reverse("admin:notify_caught_message", args=["..%2Fsecret"])).status_code == 404


def test_console_backend_still_works(org, people, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    _alert(org)
    assert sender.send_pending() == 2
    assert len(mail.outbox) == 2 and mail.outbox[0].alternatives


def test_members_choose_their_own_preferences(client, org, people):
    owner = people["owner"]
    url = reverse("notify-preferences")
    assert client.get(url).status_code == 302                    # signed in only
    client.force_login(owner)
    page = client.get(url)
    assert page.status_code == 200 and b"Daily digest" in page.content and b"Test alerts" in page.content
    response = client.post(url, {f"{org.pk}:{TEST_KIND.key}": kinds.DIGEST, f"{org.pk}:digest.daily": kinds.OFF})
    assert response.status_code == 302
    assert {(p.kind, p.mode) for p in Preference.objects.filter(user=owner)} == {
        (TEST_KIND.key, kinds.DIGEST), ("digest.daily", kinds.OFF)}
    assert client.post(url, {f"{org.pk}:{TEST_KIND.key}": "sometimes"}).status_code == 400
    assert [n.mode for n in _alert(org, incident="pref") if n.user == owner] == [kinds.DIGEST]


@pytest.mark.parametrize("with_org", [True, False])
def test_one_preference_per_user_kind_and_organisation_on_every_database(org, people, with_org):
    """The organisation-wide preference (no organisation) is unique too, on SQLite as on PostgreSQL:
    a nulls_distinct=False constraint is silently not created on SQLite."""
    from django.db import IntegrityError

    owner, where = people["owner"], (org if with_org else None)
    Preference.objects.create(user=owner, organization=where, kind=TEST_KIND.key, mode=kinds.OFF)
    with pytest.raises(IntegrityError), transaction.atomic():
        Preference.objects.create(user=owner, organization=where, kind=TEST_KIND.key, mode=kinds.OFF)


def test_the_outbox_search_finds_a_subject_an_incident_and_a_recipient(client, org, people):
    """Prefix on the subject, exact on the incident, a recipient by the start of their username:
    each an indexed look-up, never `%term%` over the 100,000-row outbox."""
    _alert(org, incident="inc-42")
    notify(TEST_KIND.key, organization=org, incident="inc-43", subject="Tokens expire soon", text=".", link="/admin/")
    client.force_login(make_user("ops-search", is_superuser=True, is_staff=True))
    url = reverse("admin:notify_notification_changelist")

    def found(term):
        page = client.get(url, {"q": term})
        assert page.status_code == 200
        return page.context["cl"].result_count

    assert found("books") == 2 and found("tokens") == 2 and found("paused") == 0  # the subject's beginning
    assert found("INC-42") == 2 and found("inc-4") == 0                           # the incident, exactly
    assert found(people["owner"].username) == 2                                    # a recipient
