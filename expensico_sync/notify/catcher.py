"""The development mail catcher: an aiosmtpd server on loopback that keeps every message as an
.eml file, which the admin shows (Monitoring → Caught mail) when MAIL_CATCHER_DIR is set."""

import email
import email.policy
import heapq
import os
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from email.parser import BytesHeaderParser
from pathlib import Path

from aiosmtpd.controller import Controller


class Keep:
    def __init__(self, directory: Path):
        self.directory = directory
        directory.mkdir(parents=True, exist_ok=True)

    async def handle_DATA(self, server, session, envelope):
        name = f"{time.time_ns()}-{uuid.uuid4().hex[:8]}.eml"
        partial = self.directory / f".{name}"
        partial.write_bytes(envelope.original_content or envelope.content)
        partial.replace(self.directory / name)
        return "250 Message accepted for delivery"


def start(directory: Path, *, host: str = "127.0.0.1", port: int = 0) -> Controller:
    """Port 0 picks a free one (aiosmtpd's readiness probe needs a real port number)."""
    if not port:
        with socket.socket() as probe:
            probe.bind((host, 0))
            port = probe.getsockname()[1]
    controller = Controller(Keep(directory), hostname=host, port=port)
    controller.start()
    return controller


@dataclass(frozen=True)
class Caught:
    name: str
    received: datetime
    sender: str
    to: str
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Listed:
    """A caught message as the list shows it: from its headers only (the body is read when chosen)."""

    name: str
    received: datetime
    to: str
    subject: str


def _received(name: str) -> datetime:
    return datetime.fromtimestamp(int(name.split("-")[0]) / 1e9, UTC)


def newest(directory: Path, limit: int = 50, before: str = "") -> list[str]:
    """The names of the newest `limit` messages (older than `before` when given): one directory
    scan, no sort of the whole directory, no file opened."""
    if not directory.is_dir():
        return []
    with os.scandir(directory) as entries:
        names = (e.name for e in entries if e.name.endswith(".eml") and not e.name.startswith(".")
                 and (not before or e.name < before))
        return heapq.nlargest(limit, names)


def listed(directory: Path, limit: int = 50, before: str = "") -> list[Listed]:
    parser = BytesHeaderParser(policy=email.policy.default)
    rows = []
    for name in newest(directory, limit, before):
        with open(directory / name, "rb") as fp:
            headers = parser.parse(fp)
        rows.append(Listed(name, _received(name), str(headers["To"]), str(headers["Subject"])))
    return rows


def caught(directory: Path, limit: int = 200) -> list[Caught]:
    """The newest `limit` messages, parsed whole (tests and tools; the admin page lists headers only)."""
    return [read(directory / name) for name in newest(directory, limit)]


def read(path: Path) -> Caught:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    return Caught(path.name, _received(path.name), str(message["From"]), str(message["To"]), str(message["Subject"]),
                  text.get_content() if text else "", html.get_content() if html else "")
