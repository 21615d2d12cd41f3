"""The admin's look for the account pages (login, MFA, re-authentication, email): allauth renders
them with its own views, so they get the admin site's context (title, colours, styles, favicon)."""

from django.contrib import admin

ACCOUNT_PATHS = ("/accounts/",)


def admin_look(request) -> dict:
    if not request.path.startswith(ACCOUNT_PATHS):
        return {}
    return admin.site.each_context(request)
