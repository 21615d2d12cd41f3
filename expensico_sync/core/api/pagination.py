from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Stable under inserts: the cursor is the id, newest first."""

    ordering = "-id"
    page_size_query_param = "limit"
    max_page_size = 500
