"""`make run` waits for the web server as long as a busy machine needs, but not for a dead child."""

import socket

import pytest

from expensico_sync.core.management.commands.devstack import Command


class _Children:
    def __init__(self, dead):
        self.dead = dead

    def exited(self):
        return self.dead


def _closed_port_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{s.getsockname()[1]}/healthz"


def test_a_dead_web_server_fails_at_once_with_its_name():
    with pytest.raises(SystemExit, match="web exited before"):      # not "did not answer within 120s"
        Command()._wait_for(_closed_port_url(), _Children(["web"]), timeout=120)


def test_a_silent_server_fails_after_the_wait_naming_the_setting():
    with pytest.raises(SystemExit, match="DEVSTACK_WAIT_SECONDS"):
        Command()._wait_for(_closed_port_url(), _Children([]), timeout=0.5)
