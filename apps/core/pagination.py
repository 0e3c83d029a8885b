from django.utils.translation import gettext
from rest_framework.pagination import CursorPagination

from apps.core.errors import ValidationFailed


class IdCursorPagination(CursorPagination):
    """Stable cursor pages over the primary key: cheap at any depth, no skipped rows on insert."""

    page_size = 50
    max_page_size = 200
    page_size_query_param = "limit"
    ordering = "id"

    def get_page_size(self, request) -> int:
        """`?limit=`: a whole number from 1 (more than max_page_size gives max_page_size); anything
        else is a 400, where DRF would quietly fall back to the default size."""
        raw = request.query_params.get(self.page_size_query_param)
        if raw is None:
            return self.page_size
        digits = raw.lstrip("0") if raw.isascii() and raw.isdigit() else ""
        if not digits:
            raise ValidationFailed.field(self.page_size_query_param, gettext(
                "A whole number from 1 (at most %(max)s are returned).") % {"max": self.max_page_size})
        return self.max_page_size if len(digits) > 6 else min(int(digits), self.max_page_size)

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_size_query_param:
                parameter["schema"]["minimum"] = 1
                parameter["description"] = (f"Results per page: {self.page_size} by default, at most "
                                            f"{self.max_page_size} (a larger number gives {self.max_page_size}).")
        return parameters


class NewestFirstPagination(IdCursorPagination):
    ordering = "-id"


def paginated(view, request, queryset, serializer_class, context=None):
    """A page of `queryset` by the view's `pagination_class` (declared on the view, so the schema
    describes its list answers as the pages they are)."""
    paginator = view.pagination_class()
    page = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer_class(page, many=True, context=context or {"request": request}).data
    return paginator.get_paginated_response(data)
