"""A paginator for tables too big to count: the admin changelist's page links.

Django's changelist reads ``paginator.count``: a ``COUNT(*)`` of the whole filtered
table, a full scan on PostgreSQL at a million rows, on every page view.
"""

from django.core.paginator import Paginator
from django.db import connections
from django.utils.functional import cached_property

# Up to this many rows the count is exact; beyond it, an estimate or a floor.
EXACT_COUNT_LIMIT = 10_000


class CappedCountPaginator(Paginator):
    """Counts exactly up to EXACT_COUNT_LIMIT rows, reading at most one row more.

    Beyond it the count is PostgreSQL's planner estimate for an unfiltered table
    (``pg_class.reltuples``, kept fresh by autovacuum) when that is larger, or else
    EXACT_COUNT_LIMIT + 1, the rows it did read: the page links then stop there, and
    an operator narrows the list with the search or a filter rather than paging
    through a million rows.
    """

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        capped = queryset.order_by().values("pk")[: EXACT_COUNT_LIMIT + 1]
        connection = connections[queryset.db]
        if connection.vendor == "postgresql" and not queryset.query.where:
            # The estimate rides along in the same query: the changelist's query count
            # stays the same whether the table holds ten rows or a million.
            sql, params = capped.query.get_compiler(connection=connection).as_sql()
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT COUNT(*), (SELECT reltuples::bigint FROM pg_class "  # noqa: S608
                    f"WHERE oid = %s::regclass) FROM ({sql}) capped",
                    [queryset.model._meta.db_table, *params],
                )
                count, estimate = cursor.fetchone()
        else:
            count, estimate = capped.count(), None
        if count <= EXACT_COUNT_LIMIT:
            return count
        return max(EXACT_COUNT_LIMIT + 1, estimate or 0)
