"""`make run`: a Wafeq sandbox on :8801 and the demo organisation connected to it through the
real OAuth flow (authorize → consent → code → token exchange, all over HTTP)."""

from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

import requests

from ...models import Connection
from ...oauth import oauth_authorization_finish, oauth_authorization_start
from ...sandboxing.devstack import sandbox_process, sandbox_wait
from ...services import connection_check, connection_create, connection_setup_run
from .server import CLIENT_ID, CLIENT_SECRET

PORT = 8801
NAME = "Wafeq (sandbox)"


def processes(ctx):
    return sandbox_process(ctx, "wafeq", PORT)


class _Form(HTMLParser):
    def __init__(self):
        super().__init__()
        self.action, self.fields = "", {}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self.action = attrs.get("action", "")
        if tag == "input" and attrs.get("type") == "hidden":
            self.fields[attrs["name"]] = attrs.get("value", "")


def _approve(authorize_url: str) -> dict[str, str]:
    """Plays the person at the consent screen: loads it, presses Allow, reads the redirect."""
    page = requests.get(authorize_url, timeout=10)
    page.raise_for_status()
    form = _Form()
    form.feed(page.text)
    answer = requests.post(urljoin(authorize_url, form.action), data={**form.fields, "decision": "allow"},
                           allow_redirects=False, timeout=10)
    location = answer.headers["Location"]
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def seed(ctx):
    base = ctx.get("wafeq_base_url", f"http://127.0.0.1:{PORT}")
    sandbox_wait(f"{base}/__sandbox__/")
    org = ctx["organization"]
    conn = Connection.objects.filter(organization=org, name=NAME).first() or connection_create(
        organization=org, system="wafeq", name=NAME, base_url=f"{base}/v1", auth_method=Connection.AuthMethod.OAUTH2,
        client_id=CLIENT_ID, client_secret=CLIENT_SECRET)
    if not (conn.access_token and connection_check(connection=conn).ok):
        redirect_uri = f"{ctx['base_url']}/admin/connectors/connection/oauth/callback/"
        params = _approve(oauth_authorization_start(connection=conn, redirect_uri=redirect_uri))
        conn = oauth_authorization_finish(state=params["state"], code=params.get("code", ""),
                                          error=params.get("error", ""))
    outcome = connection_setup_run(connection=conn)
    conn.refresh_from_db()
    ctx["connection_id"] = conn.pk
    print(f"  wafeq: {conn.name} {conn.status} via {conn.get_auth_method_display()}; "
          f"claims={conn.employee_claims_account_name!r} balance={conn.employees_balance_account_name!r} "
          f"bank={conn.funding_bank_account_name!r} ({outcome.get('expense_accounts', 0)} expense accounts)")
