"""The caught-mail page lists a page of the newest messages from their headers only and reads the
whole message only for the one shown; older ones are a link away."""

import pytest
from django.urls import reverse

from expensico_sync.notify import admin as notify_admin
from expensico_sync.notify import catcher


def write(directory, n: int) -> str:
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = "sync@example.com", f"m{n}@example.com", f"Subject {n}"
    message.set_content(f"Body {n}")
    name = f"{1_700_000_000_000_000_000 + n}-{n:08x}.eml"
    (directory / name).write_bytes(bytes(message))
    return name


@pytest.fixture
def mail(settings, tmp_path):
    directory = tmp_path / "mail"
    directory.mkdir()
    settings.MAIL_CATCHER_DIR = str(directory)
    names = [write(directory, n) for n in range(7)]
    (directory / ".partial.eml").write_bytes(b"half")          # being written: never listed
    return directory, names


@pytest.mark.django_db
def test_a_page_of_headers_and_one_whole_message(admin_client, mail, monkeypatch):
    directory, names = mail
    monkeypatch.setattr(notify_admin, "CAUGHT_PAGE", 3)
    reads = []
    real = catcher.read
    monkeypatch.setattr(catcher, "read", lambda path: reads.append(path.name) or real(path))
    page = admin_client.get(reverse("admin:notify_notification_caught_mail"))
    html = page.content.decode()
    assert [m.name for m in page.context["messages_caught"]] == names[:-4:-1]     # newest three
    assert reads == [names[-1]] and "Body 6" in html                                 # only the shown one parsed
    assert "Subject 4" in html and "Subject 3" not in html and "Older" in html
    older = admin_client.get(reverse("admin:notify_notification_caught_mail") + page.context["older"])
    assert [m.name for m in older.context["messages_caught"]] == names[3:0:-1]
    assert admin_client.get(reverse("admin:notify_caught_message", args=[names[0]])).context["chosen"].text.strip() \
        == "Body 0"


def test_listed_reads_headers_in_name_order(mail):
    directory, names = mail
    rows = catcher.listed(directory, limit=2)
    assert [(r.name, r.subject, r.to) for r in rows] == [(names[6], "Subject 6", "m6@example.com"),
                                                         (names[5], "Subject 5", "m5@example.com")]
    assert [r.name for r in catcher.listed(directory, limit=10, before=names[2])] == [names[1], names[0]]
    assert len(catcher.caught(directory)) == 7
