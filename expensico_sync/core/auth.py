from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.internal.ratelimit import get_ip


class ClosedSignupAdapter(DefaultAccountAdapter):
    """People are invited by an owner (admin) or created by `create_admin`; nobody signs up."""

    def is_open_for_signup(self, request):
        return False

    def _get_login_attempts_cache_key(self, request, **credentials):
        # allauth keys the per-login limit on the login alone, so anyone who knows a username could
        # lock that person out from anywhere. Keyed on address and login, failures from one address
        # (plus the per-address limit) never refuse the right password from another.
        return f"{get_ip(request)}|{super()._get_login_attempts_cache_key(request, **credentials)}"
