from django.urls import path

from .views import WebhookView

urlpatterns = [
    path("expensico/webhooks/<slug:organization_slug>/", WebhookView.as_view(), name="expensico-webhook"),
]
