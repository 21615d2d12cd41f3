"""Operators and the people who control where money is booked enrol in TOTP before the admin opens.

allauth asks for the second factor at login once a person has one; nothing in allauth makes a
person get one. This middleware does: a signed-in staff user, superuser, owner or finance admin
without TOTP is sent to allauth's enrolment page from every admin URL (recovery codes follow,
shown once). `ADMIN_REQUIRE_MFA=false` relaxes it for development (`make run`) and tests.
"""

from allauth.mfa.models import Authenticator
from allauth.mfa.utils import is_mfa_enabled
from django.conf import settings
from django.shortcuts import redirect
from django.urls import reverse

from .models import Membership
from .roles import Role

MFA_ROLES = (Role.OWNER, Role.FINANCE_ADMIN)


def user_needs_mfa(user) -> bool:
    return user.is_staff or user.is_superuser or Membership.objects.filter(user=user, role__in=MFA_ROLES).exists()


class AdminMFAEnrolmentMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        user = getattr(request, "user", None)
        if (settings.ADMIN_REQUIRE_MFA and user is not None and user.is_authenticated
                and request.path.startswith(reverse("admin:index")) and user_needs_mfa(user)
                and not is_mfa_enabled(user, [Authenticator.Type.TOTP])):
            return redirect("mfa_activate_totp")
        return self.get_response(request)
