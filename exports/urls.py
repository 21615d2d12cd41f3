from django.urls import path

from .reports.views import download

urlpatterns = [path("report-downloads/<str:token>/", download, name="report-download")]
