"""The CRM's changelist: a count that stays cheap on large tables without
hiding a row, and sorts that follow what a column shows.

Django counts every filtered row for every page (a scan of the table at a
million rows) and breaks a sort's ties by "-pk", an ordering no index returns.
Here the count stops at COUNT_LIMIT rows, and a sort's ties are broken by the
model's own (date, id) ordering, which the (column, date, id) indexes return.
A sort by the name of a row that may be missing (a lead's owner) reads the
rows with a name and those without as two parts (page_keys).
"""

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import EmptyPage, Page, Paginator
from django.db import connections, transaction
from django.db.models import F, OrderBy, QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.db.models.functions import Lower
from django.db.models.options import Options
from unfold.views import ChangeList as UnfoldChangeList

from crm_models.estimates import table_row_estimate

# Up to this many rows a list's count is exact; past it the count says "more
# than" (or, for a whole table, PostgreSQL's estimate of its rows) and costs
# no more than reading this many rows.
COUNT_LIMIT = 1000

# What names a row of these models in a list, for a column that shows such a
# row (sorting by the campaign column sorts by campaign name): a campaign's and
# a service's name in any case, as their unique indexes hold it.
SORT_NAMES: dict[str, Callable[[str], Any]] = {
    "crm_models.campaign": lambda path: Lower(f"{path}__name"),
    "crm_models.service": lambda path: Lower(f"{path}__name"),
    "crm_models.lead": lambda path: f"{path}__last_name",
    "crm_models.customer": lambda path: f"{path}__lead__last_name",
    "auth.user": lambda path: f"{path}__username",
}


def is_unfiltered(queryset: QuerySet) -> bool:
    query = queryset.query
    return not query.where and not query.distinct and not query.combinator and not query.extra


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_LIMIT + 1 rows, and never hides one.

    Past the limit the count is not exact (`estimated`): the footer says "more
    than" the limit, or "about" PostgreSQL's estimate of a whole table's rows
    (`about`; it may be stale, above or below the truth). So pages are then
    offered by what the rows show: a page reads one key more than it lists,
    the next page is offered while that key exists, and the page where the
    keys end is the last one (its count is then exact).
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.estimated = False
        self.about = False
        self._offered_pages: int | None = None

    def _capped_count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        # Only the keys: the list's own figures (a lead's latest interaction)
        # would be computed for every counted row.
        return queryset.order_by().values("pk")[: COUNT_LIMIT + 1].count()

    @property
    def count(self) -> int:  # type: ignore[override]
        if "_count" not in self.__dict__:
            capped = self._capped_count()
            if capped > COUNT_LIMIT:
                self.estimated = True
                queryset = self.object_list
                capped = COUNT_LIMIT  # "more than COUNT_LIMIT rows"
                if isinstance(queryset, QuerySet) and is_unfiltered(queryset):
                    estimate = table_row_estimate(queryset) or 0
                    self.about = estimate > COUNT_LIMIT
                    capped = max(capped, estimate)
            self.__dict__["_count"] = capped
        return self.__dict__["_count"]

    @property
    def num_pages(self) -> int:  # type: ignore[override]
        if self._offered_pages is not None:
            return self._offered_pages
        if self.count and self.estimated:
            return sys.maxsize  # any page may hold rows until one is read
        return Paginator.num_pages.func(self)  # type: ignore[attr-defined]

    def page(self, number: Any) -> Page:
        number = self.validate_number(number)
        queryset: Any = self.object_list
        if not self.estimated or not isinstance(queryset, QuerySet):
            return super().page(number)
        bottom = (number - 1) * self.per_page
        # The page's keys first, then its rows by key: sorting the keys alone
        # keeps the sort narrow where a sort by another table's column reads
        # many rows (the leads of the first campaign by name).
        keys = page_keys(queryset, bottom, self.per_page + 1)
        if not keys and number > 1:
            raise EmptyPage(self.error_messages["no_results"])
        more = len(keys) > self.per_page
        self._offered_pages = number + 1 if more else number
        if not more:
            # The rows end on this page: now the count is known.
            self.estimated = self.about = False
            self.__dict__["_count"] = bottom + len(keys)
        by_key = rows_by_key(queryset, keys[: self.per_page])
        rows = [by_key[key] for key in keys[: self.per_page] if key in by_key]
        return Page(rows, number, self)


def page_keys(queryset: QuerySet, bottom: int, size: int) -> list[Any]:
    """The keys of `size` rows from row `bottom` on, in the list's order.

    A list sorted by the name of a row that may be missing (a lead's owner,
    an interaction's author) is read as two parts, in the order the database
    gives the missing names (after the others ascending on PostgreSQL): the
    rows with a name, joined to their named rows, which PostgreSQL then reads
    name by name from the (column, date, id) index; and the rows without, by
    the rest of the order. In one query the outer join holding the missing
    names made it join and sort the whole table."""
    parts = named_parts(queryset)
    if parts is None:
        return list(queryset.values_list("pk", flat=True)[bottom : bottom + size])
    first, second = parts
    keys = list(first.values_list("pk", flat=True)[bottom : bottom + size])
    if len(keys) < size:
        start = 0 if keys else bottom - first.count()
        keys += second.values_list("pk", flat=True)[start : start + size - len(keys)]
    return keys


def named_parts(queryset: QuerySet) -> tuple[QuerySet, QuerySet] | None:
    """(first part, second part) of a list sorted first by a field of a row its
    rows may lack (see page_keys); None for any other list."""
    ordering = list(queryset.query.order_by)
    if not ordering or queryset.query.combinator or queryset.query.distinct:
        return None
    first = ordering[0]
    if not isinstance(first, str | OrderBy) or (
        isinstance(first, OrderBy) and (first.nulls_first or first.nulls_last)
    ):
        return None
    path, descending = path_of_key(first), is_descending(first)
    relation, _, rest = path.partition(LOOKUP_SEP)
    try:
        field = queryset.model._meta.get_field(relation)
    except FieldDoesNotExist:
        return None
    if not (rest and LOOKUP_SEP not in rest and field.concrete and field.many_to_one and field.null):
        return None
    try:
        name = field.related_model._meta.get_field(rest)  # type: ignore[union-attr]
    except FieldDoesNotExist:
        return None
    # The rest of the order without the keys read through the relation: the
    # rows without a related row hold none of them.
    rest_of_order = [
        key for key in ordering[1:] if not path_of_key(key).startswith(f"{relation}{LOOKUP_SEP}")
    ]
    if getattr(name, "null", True) or not rest_of_order:
        return None  # a row with a related row but no name would be in neither part
    named = queryset.filter(**{f"{path}__isnull": False})  # an inner join: every row has a name
    unnamed = queryset.filter(**{f"{relation}__isnull": True}).order_by(*rest_of_order)
    missing_last = connections[queryset.db].features.nulls_order_largest != descending
    return (named, unnamed) if missing_last else (unnamed, named)


def path_of_key(key: Any) -> str:
    return path_of(key) if isinstance(key, OrderBy) else str(key).removeprefix("-")


def select_related_paths(related: dict, parent: str = "") -> list[str]:
    """The paths of a query's select_related tree ({"customer": {"lead": {}}}
    is ["customer__lead"])."""
    paths: list[str] = []
    for name, below in related.items():
        path = f"{parent}{LOOKUP_SEP}{name}" if parent else name
        paths += select_related_paths(below, path) if below else [path]
    return paths


def rows_by_key(queryset: QuerySet, keys: list[Any]) -> dict[Any, Any]:
    """A page's rows by their keys, with the related rows the list shows but
    without the list's conditions: the keys were read under them (scope,
    filters, search), and a search's condition, read again beside the keys,
    made PostgreSQL search its index a second time."""
    query = queryset.query
    if query.extra or query.distinct or any(a.contains_aggregate for a in query.annotations.values()):
        return queryset.in_bulk(keys)
    rows = queryset.model._default_manager.filter(pk__in=keys)
    if query.annotations:
        # A row's own figures (the lead list's latest interaction): computed
        # for the page's rows only.
        rows = rows.annotate(**{name: query.annotations[name] for name in query.annotation_select})
    if query.select_related is True:
        rows = rows.select_related()
    elif query.select_related:
        rows = rows.select_related(*select_related_paths(query.select_related))
    return {row.pk: row for row in rows}


class CrmChangeList(UnfoldChangeList):
    """unfold's changelist with CappedCountPaginator's pages and the CRM's sorts.

    A column showing another row sorts by that row's name (SORT_NAME_FIELDS),
    then by that row's own ordering, so that rows of one campaign or one
    customer stay together. A single sorted column's ties are broken by the
    model's own ordering (date, id), the whole of it reversed when the column
    is read against its own direction, so that one (column, date, id) index
    returns the list either way.
    """

    def get_results(self, request: Any) -> None:
        with without_parallel_workers(self.queryset.db):
            super().get_results(request)
        paginator = self.paginator
        if isinstance(paginator, CappedCountPaginator) and paginator._offered_pages is not None:
            # The page read settled how many pages to offer (and maybe the count).
            self.result_count = paginator.count
            self.multi_page = paginator.num_pages > 1
            self.can_show_all = not paginator.estimated and self.result_count <= self.list_max_show_all
        if isinstance(paginator, CappedCountPaginator) and paginator.estimated:
            # unfold's title line states "N results" whenever N differs from
            # the full count (not counted here): with a count that stopped at
            # the limit it would state the limit as the number of rows. The
            # footer says "more than" or "about" instead.
            self.full_result_count = self.result_count

    def get_ordering_field(self, field_name: str) -> Any:
        try:
            field = self.lookup_opts.get_field(field_name)
        except FieldDoesNotExist:
            return super().get_ordering_field(field_name)
        if field.concrete and (field.many_to_one or field.one_to_one):
            name = SORT_NAMES.get(field.related_model._meta.label_lower)  # type: ignore[union-attr]
            if name:
                return name(field.name)
        return super().get_ordering_field(field_name)

    def get_ordering(self, request: Any, queryset: QuerySet) -> list[Any]:
        ordering = super().get_ordering(request, queryset)
        default = [part for part in self.lookup_opts.ordering if isinstance(part, str)]
        # One sorted column, to which Django added "-pk" to make the order total.
        if len(ordering) != 2 or ordering[1] != "-pk" or not default:
            return ordering
        column = ordering[0]
        if isinstance(column, OrderBy):  # a name in any case (SORT_NAMES)
            name, descending = path_of(column), column.descending
            own: Any = column.expression.asc()
        elif isinstance(column, str):
            name, descending = column.removeprefix("-"), column.startswith("-")
            # The column's own direction: the default's for its own column,
            # ascending for any other.
            own = default[0] if default[0].removeprefix("-") == name else name
        else:
            return ordering
        keys = [own, *related_ordering(self.lookup_opts, name)]
        keys += without_repeats(default, [name, *keys[1:]])
        # Read against the column's own direction, every key turns.
        if descending != is_descending(own):
            keys = [reverse(key) for key in keys]
        return keys


@contextmanager
def without_parallel_workers(alias: str) -> Iterator[None]:
    """The page's count and rows read without PostgreSQL's parallel workers:
    starting them takes several milliseconds, more than a page's queries take
    (a search that finds nothing: 11 ms with them, under 1 ms without), and on
    a busy server they take CPUs from other requests. Reports over whole
    tables keep them. SET LOCAL ends with the transaction, whatever happens."""
    connection = connections[alias]
    if connection.vendor != "postgresql":
        yield
        return
    with transaction.atomic(using=alias):
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL max_parallel_workers_per_gather = 0")
        yield


def path_of(order: OrderBy) -> str:
    """The field path an ordering expression reads ("campaign__name" of
    Lower("campaign__name"))."""
    source: Any = order.expression
    for expression in source.flatten():
        if isinstance(expression, F):
            return expression.name
    return ""


def is_descending(key: Any) -> bool:
    return key.descending if isinstance(key, OrderBy) else key.startswith("-")


def without_repeats(keys: list[str], taken: list[str]) -> list[str]:
    """`keys` less those naming a field that `taken` sorts by already."""
    names = {key.removeprefix("-") for key in taken}
    return [key for key in keys if key.removeprefix("-") not in names]


def reverse(key: Any) -> Any:
    if isinstance(key, OrderBy):
        return key.expression.asc() if key.descending else key.expression.desc()
    return key[1:] if key.startswith("-") else f"-{key}"


def related_ordering(opts: Options, name: str) -> list[str]:
    """For a sort by a column of a related row ("lead__last_name"), that row's
    own ordering through the relation ("-lead__created_at", "-lead_id"), so
    its index returns the sort and each related row's rows stay together; []
    for a column of the model itself."""
    relation, _, rest = name.partition(LOOKUP_SEP)
    if not rest:
        return []
    try:
        field = opts.get_field(relation)
    except FieldDoesNotExist:
        return []
    if not (field.concrete and (field.many_to_one or field.one_to_one)):
        return []
    related: Any = field.related_model._meta  # type: ignore[union-attr]
    inner = [rest, *related_ordering(related, rest)]
    inner += without_repeats([part for part in related.ordering or [] if isinstance(part, str)], inner)
    attname = field.attname  # type: ignore[union-attr]

    def through(part: str) -> str:
        sign, column = ("-", part[1:]) if part.startswith("-") else ("", part)
        if column in (related.pk.name, "pk"):
            return f"{sign}{attname}"  # the key itself: no join needed to read it
        return f"{sign}{relation}{LOOKUP_SEP}{column}"

    return [through(part) for part in inner[1:]]
