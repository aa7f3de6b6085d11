"""Pagination that stays fast on a million rows."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property

COUNT_CAP = 10_000


class CappedPaginator(Paginator):
    """Counts at most ``COUNT_CAP`` + 1 rows; beyond that the count reads "10,000+".

    An exact count of a broad filter over a million rows costs more than the page
    itself; people page through the first hundreds and refine the search instead.
    """

    count_cap = COUNT_CAP

    @cached_property
    def count(self):
        try:
            # Ordering is irrelevant to a count and would force a sort of every match.
            capped = self.object_list.order_by()[: self.count_cap + 1]
            n = capped.count()
        except (AttributeError, TypeError):
            n = len(self.object_list)
        return n

    @property
    def count_is_exact(self) -> bool:
        return self.count <= self.count_cap

    @property
    def display_count(self) -> str:
        return f"{self.count_cap:,}+" if not self.count_is_exact else f"{self.count:,}"
