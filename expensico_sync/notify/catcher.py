"""The development mail catcher: an aiosmtpd server on loopback that keeps every message as an
.eml file, which the admin shows (Monitoring → Caught mail) when MAIL_CATCHER_DIR is set."""

import email
import email.policy
import socket
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
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


def caught(directory: Path, limit: int = 200) -> list[Caught]:
    if not directory.is_dir():
        return []
    files = sorted((p for p in directory.glob("*.eml")), reverse=True)[:limit]
    return [read(p) for p in files]


def read(path: Path) -> Caught:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    received = datetime.fromtimestamp(int(path.name.split("-")[0]) / 1e9, UTC)
    return Caught(path.name, received, str(message["From"]), str(message["To"]), str(message["Subject"]),
                  text.get_content() if text else "", html.get_content() if html else "")
