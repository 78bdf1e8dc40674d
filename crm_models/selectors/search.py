"""Search conditions for the admin's search boxes, shaped for the indexes of
migration 0004_search_indexes.

Django's stock search is `icontains` on every field, a scan of the whole table
that no B-tree can serve. Here a phone is matched exactly in its normalized form,
an e-mail by prefix, and names by case-insensitive prefix, each on an indexed
expression, so a search over a million leads reads only the matching rows.
"""

from django.db.models import Q, QuerySet

from crm_models.estimates import planner_row_estimate
from crm_models.models import Contract, Customer, Lead
from crm_models.normalization import normalize_email, phone_search_term

# Words of a search term that count; more only slow the query down.
MAX_SEARCH_WORDS = 4
# Searching contracts or interactions by their lead: up to this many matching
# leads (customers) are collected first and the rows found by their ids.
RELATED_IDS_LIMIT = 5000


def _email_prefix(prefix: str, start: str) -> Q:
    """E-mails starting with `start`. The `> ''` adds nothing to the match (a
    prefix never matches an empty e-mail) but lets PostgreSQL use the unique
    e-mail index, which covers non-empty e-mails only."""
    return Q(**{f"{prefix}email__startswith": start, f"{prefix}email__gt": ""})


def lead_search_q(*, term: str, prefix: str = "") -> Q | None:
    """Leads matching `term`, as a Q over Lead (or over `prefix` + Lead fields
    from another model, e.g. prefix="lead__"); None for an empty term.

    A term that reads as a phone number matches the phone exactly; one with "@"
    matches e-mails starting with it; otherwise every word must start the first
    name, last name, e-mail or company.
    """
    term = term.strip()
    if not term:
        return None
    phone = phone_search_term(term)
    if phone:
        return Q(**{f"{prefix}phone": phone})
    if "@" in term:
        return _email_prefix(prefix, normalize_email(term))
    condition = Q()
    for word in term.split()[:MAX_SEARCH_WORDS]:
        condition &= (
            Q(**{f"{prefix}first_name__istartswith": word})
            | Q(**{f"{prefix}last_name__istartswith": word})
            | _email_prefix(prefix, word.lower())
            | Q(**{f"{prefix}company__istartswith": word})
        )
    return condition


def _ids_if_few(queryset: QuerySet) -> list[int] | None:
    """The primary keys of `queryset` if there are at most RELATED_IDS_LIMIT;
    None when PostgreSQL expects more (then nothing is read) or there are more."""
    estimate = planner_row_estimate(queryset)
    if estimate is not None and estimate > RELATED_IDS_LIMIT:
        return None
    ids = list(queryset.order_by().values_list("pk", flat=True)[: RELATED_IDS_LIMIT + 1])
    return ids if len(ids) <= RELATED_IDS_LIMIT else None


def interaction_search_q(*, term: str) -> Q | None:
    """Interactions of the leads matching `term` (see lead_search_q).

    The leads are looked up first, on their own indexes; when few match, the
    interactions are read by lead id. Written as one join instead, PostgreSQL
    has to guess how many leads a multi-word name matches, guesses high, and
    walks the interactions in date order probing each one's lead: 0.8 s at a
    million leads for a name that matches a few hundred. When many leads match,
    that walk is the right plan (a page fills quickly), so the join is kept.
    """
    condition = lead_search_q(term=term)
    if condition is None:
        return None
    lead_ids = _ids_if_few(Lead.objects.filter(condition))
    if lead_ids is None:
        return lead_search_q(term=term, prefix="lead__")
    return Q(lead_id__in=lead_ids)


def contract_search_q(*, term: str) -> Q | None:
    """Contracts whose name/number starts with the term, or whose customer's lead
    matches it (see lead_search_q).

    As for interactions, the matching customers are looked up first and, when
    few, the contracts are found by name OR customer id, two indexes of the
    contract table PostgreSQL combines. When many match, a union of two id sets
    (by name, by lead): an OR across the contract and the lead tables could use
    neither table's index and would read every contract to count them.
    """
    lead_condition = lead_search_q(term=term, prefix="lead__")
    if lead_condition is None:
        return None
    by_name = Q(name__istartswith=term.strip())
    customer_ids = _ids_if_few(Customer.objects.filter(lead_condition))
    if customer_ids is not None:
        return by_name | Q(customer_id__in=customer_ids)
    named = Contract.objects.filter(by_name).order_by().values("pk")
    by_lead = (
        Contract.objects.filter(lead_search_q(term=term, prefix="customer__lead__")).order_by().values("pk")
    )
    return Q(pk__in=named.union(by_lead))
