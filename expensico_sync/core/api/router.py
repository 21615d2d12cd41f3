"""The one API router. Apps register their viewsets here (in their `api` module), and the
isolation tests walk `router.registry`, so every registered list and detail is covered."""

from rest_framework.routers import DefaultRouter


class Router(DefaultRouter):
    include_root_view = False


router = Router(trailing_slash="/?")
