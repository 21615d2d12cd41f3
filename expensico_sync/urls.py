from importlib import import_module
from importlib.util import find_spec

from allauth.account.decorators import secure_admin_login
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from expensico_sync.core import health
from expensico_sync.core.api.router import router
from expensico_sync.core.api.views import MeView  # also registers /organizations
from expensico_sync.notify import views as notify_views
from expensico_sync.source import receipt_views

# Each app may ship `api.py` (registers viewsets on the shared router) and `urls.py`
# (extra paths under /api/v1/). Importing them here keeps the router complete.
API_APPS = ["expensico_sync.source", "connectors", "mappings", "exports"]
for app in API_APPS:
    if find_spec(f"{app}.api"):
        import_module(f"{app}.api")
app_urls = [path("api/v1/", include(f"{app}.urls")) for app in API_APPS if find_spec(f"{app}.urls")]

admin.site.login = secure_admin_login(admin.site.login)
handler404 = "expensico_sync.core.api.errors.not_found"

urlpatterns = [
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    # set_language: the admin's language switcher (ours also remembers it for the member's e-mails)
    path("i18n/setlang/", notify_views.set_language, name="set_language"),
    path("api/v1/me", MeView.as_view(), name="api-me"),
    *app_urls,
    path("api/v1/", include(router.urls)),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema", template_name="api/redoc.html"), name="redoc"),
    path("notifications/unsubscribe/<str:token>/", notify_views.unsubscribe, name="notify-unsubscribe"),
    path("notifications/preferences/", notify_views.preferences, name="notify-preferences"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("receipts/<int:pk>/", receipt_views.receipt_file, name="receipt-file"),
]
