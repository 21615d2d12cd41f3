"""The one API router. Apps register their viewsets here (in their `api` module), and the
isolation tests walk `router.registry`, so every registered list and detail is covered."""

from rest_framework.routers import DefaultRouter


class Router(DefaultRouter):
    include_root_view = False

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # DRF turns any truthy trailing_slash into "/"; the contract paths have none
        # (/api/v1/accounting-exports), so accept both forms.
        self.trailing_slash = "/?"


router = Router()
