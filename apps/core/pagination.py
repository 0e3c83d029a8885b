from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Stable cursor pages over the primary key: cheap at any depth, no skipped rows on insert."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "limit"
    ordering = "id"


class NewestFirstPagination(IdCursorPagination):
    ordering = "-id"


def paginated(view, request, queryset, serializer_class, pagination_class=IdCursorPagination, context=None):
    paginator = pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer_class(page, many=True, context=context or {"request": request}).data
    return paginator.get_paginated_response(data)
