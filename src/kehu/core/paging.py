"""Pagination that stays fast on a million rows."""

from django.core.paginator import EmptyPage, Page, PageNotAnInteger, Paginator
from django.utils.functional import cached_property
from django.utils.translation import gettext as _

COUNT_CAP = 1_000


class CappedPaginator(Paginator):
    """Counts at most ``count_cap`` + 1 rows; beyond that the count reads "1,000+".

    An exact count of a broad filter over a million rows costs more than the page
    itself (120 ms to find 10,000 of the 50,000 lost customers on PostgreSQL);
    people page through the first hundreds and refine the search instead, or ask
    for the exact figure (``count_cap=None``). Past the cap, pages still work:
    each fetches one row more than it shows to know whether another follows.
    """

    def __init__(
        self,
        *args,
        count_cap: int | None = COUNT_CAP,
        count_queryset=None,
        known_count: int | None = None,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.count_cap = count_cap
        # The same rows, written for counting rather than for a sorted page.
        self.count_queryset = count_queryset
        if known_count is not None:
            self.count = known_count  # counted already (capped like ours)

    @cached_property
    def count(self):
        counted = self.object_list if self.count_queryset is None else self.count_queryset
        try:
            # Ordering is irrelevant to a count and would force a sort of every match.
            unordered = counted.order_by()
        except AttributeError:
            return len(self.object_list)
        if self.count_cap is None:
            return unordered.count()
        return unordered[: self.count_cap + 1].count()

    @property
    def count_is_exact(self) -> bool:
        return self.count_cap is None or self.count <= self.count_cap

    @property
    def display_count(self) -> str:
        return f"{self.count:,}" if self.count_is_exact else f"{self.count_cap:,}"

    @cached_property
    def num_pages(self):
        if self.count_is_exact:
            return super().num_pages
        return 10**9  # unknown; each page says whether another follows

    def validate_number(self, number):
        if self.count_is_exact:
            return super().validate_number(number)
        try:
            number = int(number)
        except (TypeError, ValueError):
            raise PageNotAnInteger(_("That page number is not an integer")) from None
        if number < 1:
            raise EmptyPage(_("That page number is less than 1"))
        return number

    def page(self, number):
        number = self.validate_number(number)
        if self.count_is_exact:
            return super().page(number)
        bottom = (number - 1) * self.per_page
        rows = list(self.object_list[bottom : bottom + self.per_page + 1])
        if not rows and number > 1:
            raise EmptyPage(_("That page contains no results"))
        return CappedPage(rows[: self.per_page], number, self, more=len(rows) > self.per_page)


class CappedPage(Page):
    def __init__(self, object_list, number, paginator, more: bool):
        super().__init__(object_list, number, paginator)
        self.more = more

    def has_next(self):
        return self.more

    def end_index(self):
        return (self.number - 1) * self.paginator.per_page + len(self.object_list)
