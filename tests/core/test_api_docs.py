"""The API documentation pages work offline: every asset they load is served by this deployment."""

import re
from urllib.parse import urlsplit

import pytest
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage

pytestmark = pytest.mark.django_db

ASSET = re.compile(r"""<(?:script|link|img)\b[^>]*?\b(?:src|href)=["']([^"']+)["']""", re.I)


@pytest.mark.parametrize("page", ["/api/redoc/", "/api/docs/"])
def test_docs_page_loads_nothing_from_another_host(client, page):
    response = client.get(page)
    assert response.status_code == 200
    html = response.content.decode()
    assets = ASSET.findall(html)
    assert assets, "the page loads its viewer"
    for url in assets:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc, f"{page} loads {url} from another host"
        if parts.path.startswith("/" + staticfiles_storage.base_url.strip("/")):
            name = parts.path.split("/static/", 1)[1]
            assert finders.find(name), f"{page} loads {url}, which this deployment does not serve"
