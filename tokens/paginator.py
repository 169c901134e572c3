"""A paginator for tables too big to count: the admin changelist's page links.

Django's changelist reads ``paginator.count``: a ``COUNT(*)`` of the whole filtered
table, a full scan on PostgreSQL at a million rows, on every page view.
"""

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

# Up to this many rows the count is exact; beyond it, an estimate.
EXACT_COUNT_LIMIT = 10_000


class CappedCountPaginator(Paginator):
    """Counts exactly up to EXACT_COUNT_LIMIT rows, at a cost bounded by that limit.

    Beyond it the count is PostgreSQL's planner estimate for an unfiltered table
    (``pg_class.reltuples``, kept fresh by autovacuum), or else the limit itself: the
    page links then stop there, and an operator narrows the list with the search or
    a filter rather than paging through a million rows.
    """

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        capped = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
        if capped <= EXACT_COUNT_LIMIT:
            return capped
        return max(EXACT_COUNT_LIMIT + 1, self._estimate(queryset) or 0)

    @staticmethod
    def _estimate(queryset) -> int | None:
        connection = connections[queryset.db]
        if connection.vendor != "postgresql" or queryset.query.where:
            return None
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
        return int(row[0]) if row and row[0] > 0 else None
