from allauth.account.adapter import DefaultAccountAdapter


class ClosedSignupAdapter(DefaultAccountAdapter):
    """People are invited by an owner (admin) or created by `create_admin`; nobody signs up."""

    def is_open_for_signup(self, request):
        return False
