"""django-unfold configuration: titles, colours and the sidebar (built per request)."""

from django.templatetags.static import static
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

UNFOLD = {
    "SITE_TITLE": "expensico-sync",
    "SITE_HEADER": "expensico-sync",
    "SITE_SUBHEADER": _("Expenses into the books, exactly once"),
    "SITE_SYMBOL": "account_balance",
    "SITE_URL": "/admin/",
    "SHOW_HISTORY": True,
    "SHOW_LANGUAGES": True,
    "SHOW_VIEW_ON_SITE": False,
    "ENVIRONMENT": "expensico_sync.core.navigation.environment_badge",
    "DASHBOARD_CALLBACK": "expensico_sync.core.dashboard.dashboard_callback",
    "STYLES": [lambda request: static("expensico/admin.css")],
    "SITE_FAVICONS": [{"rel": "icon", "sizes": "any", "type": "image/svg+xml",
                       "href": lambda request: static("expensico/favicon.svg")}],
    "COLORS": {
        "primary": {
            "50": "oklch(97.7% .014 180)", "100": "oklch(95.3% .051 180)",
            "200": "oklch(91% .096 180)", "300": "oklch(85.5% .138 181)",
            "400": "oklch(77.7% .152 182)", "500": "oklch(70.4% .14 182)",
            "600": "oklch(60% .118 184)", "700": "oklch(51.1% .096 186)",
            "800": "oklch(43.7% .078 188)", "900": "oklch(38.6% .063 188)",
            "950": "oklch(27.7% .046 192)",
        },
    },
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": "expensico_sync.core.navigation.show_all_applications",
        "navigation": "expensico_sync.core.navigation.sidebar",
    },
    "ACCOUNT": {
        "navigation": [
            {"title": _("Two-factor authentication"), "link": reverse_lazy("mfa_index")},
            {"title": _("Change password"), "link": reverse_lazy("admin:password_change")},
        ],
    },
}
