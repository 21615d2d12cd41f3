import pytest

from tests.core.factories import make_org


@pytest.fixture(autouse=True)
def _media_in_tmp(settings, tmp_path):
    # Receipt downloads land in storage; keep them out of the checkout's var/.
    settings.MEDIA_ROOT = str(tmp_path / "media")


@pytest.fixture
def org(db):
    return make_org("acme")


@pytest.fixture
def listener():
    """Starts loopback listeners (tests.source.helpers.Listener); all stopped after the test."""
    from tests.source.helpers import Listener

    started = []

    def start(**kwargs):
        started.append(Listener(**kwargs))
        return started[-1]

    yield start
    for one in started:
        one.close()
