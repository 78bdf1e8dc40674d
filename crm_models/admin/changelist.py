"""Changelists that cost the same at a million rows as at ten thousand.

Django's admin pays for an exact COUNT(*) of the filtered rows on every page,
and for any sort other than the model's default it adds "-pk" as a tie-breaker,
an ordering no index matches. Over a large table both turn a page into a scan
of the whole table; the classes here keep every page an index range scan.
"""

import functools
from collections.abc import Iterator
from typing import Any

from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.views.main import ChangeList
from django.core.exceptions import FieldDoesNotExist
from django.core.paginator import Page, Paginator
from django.db.models import QuerySet
from django.db.models.constants import LOOKUP_SEP
from django.utils.functional import cached_property
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import get_language
from unfold.admin import checkbox as unfold_checkbox
from unfold.templatetags import unfold_list
from unfold.views import ChangeList as UnfoldChangeList

from crm_models.estimates import planner_estimate, table_row_estimate

# Up to this many matching rows the count is exact; above it, an estimate.
# The count also keeps a page from walking a whole index in vain: a filter the
# planner expects thousands of rows for may match none (a sales channel whose
# campaigns have no leads yet, a value typed into the URL), and counting them
# along their own index shows that at once, where the page would walk every
# lead in date order looking for a match (1.9 s at a million leads with the
# limit at 5,000, which session 7 tried).
EXACT_COUNT_LIMIT = 10_000
# ...unless counting them goes through a join whose smaller side PostgreSQL
# expects to hold more rows than this: a capped count then makes an index probe
# per row of that side (a manager's contracts, through their 6,792 customers at
# a million leads: 17-30 ms), so the list shows the estimate. A filter through
# a join with a small side (the campaigns of a channel) is still counted.
COUNT_JOIN_PROBES_LIMIT = 2_000


def is_unfiltered(queryset: QuerySet) -> bool:
    query = queryset.query
    return not query.where and not query.distinct and not query.combinator and not query.extra


class EstimatedCountPaginator(Paginator):
    """A paginator whose count never scans more than EXACT_COUNT_LIMIT rows.

    Unfiltered lists take PostgreSQL's table estimate, filtered lists the
    planner's estimate (an EXPLAIN, no rows read); only when the estimate is
    within EXACT_COUNT_LIMIT are the rows counted, and then at most
    EXACT_COUNT_LIMIT + 1 of them. So small lists (a scoped operator's, most
    searches) show exact counts and large ones an estimate; an estimate a little
    off only changes the number of the last page.

    With `count_by_keys` (a search's list), a small list is counted by
    collecting its primary keys in the list's order (at most EXACT_COUNT_LIMIT
    + 1 of them), and the page reads its rows by those keys: the search runs
    once, not twice (a count, then the page). For a search of several words at
    a million leads, finding the matching leads is most of the page's database
    time. A list without a search keeps the plain capped count: its page walks
    an index to the first 50 rows, cheaper than collecting thousands of keys in
    order.
    """

    # Whether `count` is an estimate (the list's footer then says "about").
    estimated = False
    # False: take the estimate whatever its size (a search whose matches would
    # cost more to count than the page, see CrmModelAdmin.get_paginator).
    count_exactly = True
    # Count a small list by collecting its keys (see above; CrmModelAdmin.get_paginator).
    count_by_keys = False
    # The ordered primary keys of a small list, once counted that way.
    pks: list | None = None

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if not isinstance(queryset, QuerySet):
            return len(queryset)
        if is_unfiltered(queryset):
            estimate, probes = table_row_estimate(queryset), 0
        else:
            plan = planner_estimate(queryset)
            estimate, probes = (None, 0) if plan is None else (plan.rows, plan.join_probes)
        if estimate is not None and (
            estimate > EXACT_COUNT_LIMIT or probes > COUNT_JOIN_PROBES_LIMIT or not self.count_exactly
        ):
            self.estimated = True
            return estimate
        if self.count_by_keys:
            pks = list(queryset.values_list("pk", flat=True)[: EXACT_COUNT_LIMIT + 1])
            capped = len(pks)
            if capped <= EXACT_COUNT_LIMIT:
                # Also when nothing matched: the page is then known to be empty,
                # without a page query that would run the search again (a
                # search of several common words whose combination matches no
                # customer: 40-55 ms at a million leads).
                self.pks = pks
        else:
            capped = queryset.order_by()[: EXACT_COUNT_LIMIT + 1].count()
        if capped <= EXACT_COUNT_LIMIT:
            return capped
        self.estimated = True
        return max(capped, estimate or 0)

    def page(self, number: Any) -> Page:
        # Django's page, but for where a page's rows come from (_page_rows).
        # Validating the number reads the count, which may collect the keys.
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return Page(self._page_rows(bottom, top), number, self)

    def _page_rows(self, bottom: int, top: int) -> Any:
        """A page's rows: by the keys counting collected, else a slice of the list."""
        if self.pks is None:
            return self.object_list[bottom:top]
        return rows_by_pk(self.object_list, self.pks[bottom:top])  # type: ignore[arg-type]


class IndexOnlyPagePaginator(EstimatedCountPaginator):
    """Finds a page's rows by their primary keys, read from the index first.

    `WHERE id IN (SELECT id ... ORDER BY ... LIMIT 50) ORDER BY ...`: one query
    whose inner part walks the ordering index and, when the index includes the
    filtered columns (interaction_happened_idx: lead and kind), tests each entry
    without reading the table; only the 50 rows of the page are then read. Sliced
    directly, PostgreSQL reads the table row of every entry it walks past: 20,000
    for a scoped user's interactions of one kind at a million interactions.
    """

    def _page_rows(self, bottom: int, top: int) -> Any:
        queryset = self.object_list
        if self.pks is not None or not isinstance(queryset, QuerySet):
            return super()._page_rows(bottom, top)  # a small list: by the keys its count collected
        return rows_by_pk(queryset, queryset.values("pk")[bottom:top])


def rows_by_pk(queryset: QuerySet, pks: QuerySet | list) -> QuerySet:
    """The rows of `queryset` whose primary keys `pks` selects (a subquery of
    `queryset` itself), with its ordering and related rows, without repeating
    its conditions: `pks` applied them, and a search's would run twice."""
    query = queryset.query
    if query.annotations or query.extra or query.distinct or query.combinator:
        return queryset.filter(pk__in=pks)
    rows = queryset.model._default_manager.filter(pk__in=pks)
    rows.query.select_related = query.select_related
    rows.query.order_by = query.order_by
    rows.query.default_ordering = query.default_ordering
    rows._prefetch_related_lookups = queryset._prefetch_related_lookups  # type: ignore[attr-defined]
    return rows


class KeysetOrderingChangeList(UnfoldChangeList):
    """Breaks ties with the model's default ordering instead of "-pk".

    The CRM's models order by (date, id) and have composite indexes
    (column, date, id); sorting by a column therefore becomes
    ORDER BY column, date DESC, id DESC, which those indexes return in order.
    Sorting by one column the other way round reverses the whole ordering
    (ORDER BY column DESC, date, id: the same list read from its end), which
    the same index returns read backwards: with the ties newest first, no
    index matched and PostgreSQL sorted the whole table (the leads by status,
    descending: 220 ms at a million leads instead of 25). A column showing
    another row sorts by its key (get_ordering_field), and a column of a
    one-to-one related row breaks ties through that row (through_one_to_one).
    """

    # Read by unfold's templates; defined so that the lookup does not fail (a
    # failing template lookup costs a dir() of the object).
    is_dataset = False
    can_show_all: bool

    def get_results(self, request: Any) -> None:
        super().get_results(request)
        pks = getattr(self.paginator, "pks", None)
        if pks is not None and ((self.show_all and self.can_show_all) or not self.multi_page):
            # The whole list on one page: its rows by the keys counted, instead
            # of running its query (a search's) again.
            self.result_list = rows_by_pk(self.queryset, pks)
        if getattr(self.paginator, "estimated", False):
            # An estimate may fall short of the rows (a broad search's can be
            # small): never list more than a page on one, nor offer "show all".
            self.can_show_all = False
            if self.show_all or not self.multi_page:
                self.result_list = self.queryset._clone()[: self.list_per_page]

    def get_ordering_field(self, field_name: str) -> Any:
        """A column showing the row a foreign key points to (a lead's campaign,
        an interaction's lead or author) sorts by the key itself: the list is
        grouped by that row, in the order such rows were created (their ids),
        and the (key, date, id) index returns it. Django sorts by the related
        model's ordering, a join that PostgreSQL answered by sorting the whole
        table (the leads by campaign: 310 ms at a million leads; 25 ms by
        the key)."""
        try:
            field = self.lookup_opts.get_field(field_name)
        except FieldDoesNotExist:
            return super().get_ordering_field(field_name)
        if field.concrete and (field.many_to_one or field.one_to_one):
            return field.attname
        return super().get_ordering_field(field_name)

    def _get_deterministic_ordering(self, ordering: list[Any]) -> list[Any]:
        default = [field for field in (self.lookup_opts.ordering or []) if isinstance(field, str)]
        ordering = list(ordering)
        if len(ordering) == 1 and isinstance(ordering[0], str):
            default = through_one_to_one(self.lookup_opts, ordering[0].lstrip("-")) or default
        if default and ordering and all(isinstance(part, str) for part in ordering):
            names = [part.lstrip("-") for part in ordering]
            flip = False
            if len(ordering) == 1:
                # Against the column's own direction (the default's for the
                # default's column, ascending for any other), every tie-breaker
                # turns too: the list read from its end.
                own_descending = names[0] == default[0].lstrip("-") and default[0].startswith("-")
                flip = ordering[0].startswith("-") != own_descending
            ordering += [
                reverse(field) if flip else field for field in default if field.lstrip("-") not in names
            ]
        return super()._get_deterministic_ordering(ordering)


def reverse(field: str) -> str:
    return field[1:] if field.startswith("-") else f"-{field}"


def through_one_to_one(opts: Any, name: str) -> list[str] | None:
    """For a column of the row a one-to-one field points to (a customer's
    "lead__last_name"), that row's default ordering through the field
    ("-lead__created_at", "-lead_id"), as the tie-breakers: the sort then
    follows the related table's (column, date, id) index, and each listed row
    is found by its unique relation (the customers by name at a million leads:
    25 ms instead of 90-120 ms sorting them by their own date). None for any
    other column."""
    relation, _, rest = name.partition(LOOKUP_SEP)
    if not rest:
        return None
    try:
        field = opts.get_field(relation)
    except FieldDoesNotExist:
        return None
    if not (field.one_to_one and field.concrete):
        return None
    related = field.related_model._meta
    ordering = [part for part in related.ordering if isinstance(part, str)]
    if not ordering:
        return None
    pk = related.pk.name

    def through(part: str) -> str:
        sign, column = ("-", part[1:]) if part.startswith("-") else ("", part)
        # The related key is the field's own column: unique here, so Django
        # needs no "-pk" after it, and no join is needed to read it.
        return f"{sign}{field.attname}" if column in (pk, "pk") else f"{sign}{relation}{LOOKUP_SEP}{column}"

    return [through(part) for part in ordering]


def _headers_once_per_changelist() -> None:
    """unfold 0.91 rebuilds every column header, with three query strings and a
    rendered checkbox each, for every cell of every row: a third of a list
    page's time. The headers depend only on the changelist, so build them once
    per changelist and hand out copies."""
    original = unfold_list.result_headers
    if getattr(original, "crm_cached", False):
        return

    def result_headers(cl: ChangeList) -> Iterator[dict[str, Any]]:
        headers = cl.__dict__.get("_crm_result_headers")
        if headers is None:
            headers = cl.__dict__["_crm_result_headers"] = list(original(cl))
        return iter([dict(header) for header in headers])

    result_headers.crm_cached = True  # type: ignore[attr-defined]
    unfold_list.result_headers = result_headers


_headers_once_per_changelist()


_PK_PLACEHOLDER = "crm-pk-placeholder"


@functools.lru_cache(maxsize=16)
def _row_checkbox_template(language: str | None) -> str:
    return str(unfold_checkbox.render(ACTION_CHECKBOX_NAME, _PK_PLACEHOLDER))


def row_checkbox(pk: object) -> str:
    """unfold's row checkbox, rendered once per language instead of once per row
    through the form template engine (a sixth of a list page's time)."""
    html = _row_checkbox_template(get_language())
    return mark_safe(html.replace(_PK_PLACEHOLDER, escape(str(pk))))  # noqa: S308 - the pk is escaped
