from functools import partial

from rest_framework.pagination import PageNumberPagination

from kehu.core.paging import CappedPaginator


class KehuPagination(PageNumberPagination):
    page_size = 25
    page_size_query_param = "page_size"
    max_page_size = 500
    django_paginator_class = CappedPaginator

    def paginate_queryset(self, queryset, request, view=None):
        # A view may plan its count apart from its page (see CappedPaginator).
        self.django_paginator_class = partial(
            CappedPaginator,
            count_queryset=getattr(view, "count_queryset", None),
            known_count=getattr(view, "known_count", None),
        )
        return super().paginate_queryset(queryset, request, view)

    def get_paginated_response_schema(self, schema):
        response = super().get_paginated_response_schema(schema)
        response["properties"]["count_is_exact"] = {"type": "boolean"}
        return response

    def get_paginated_response(self, data):
        response = super().get_paginated_response(data)
        response.data["count_is_exact"] = self.page.paginator.count_is_exact
        return response
