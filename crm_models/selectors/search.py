"""Search conditions for the admin's search boxes, shaped for the indexes of
migration 0004_search_indexes.

Django's stock search is `icontains` on every field, a scan of the whole table
that no B-tree can serve. Here a phone is matched exactly in its normalized form,
an e-mail by prefix, and names by case-insensitive prefix, each on an indexed
expression, so a search over a million leads reads only the matching rows.
"""

from django.db.models import Q

from crm_models.models import Contract
from crm_models.normalization import normalize_email, phone_search_term

# Words of a search term that count; more only slow the query down.
MAX_SEARCH_WORDS = 4


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
        return Q(**{f"{prefix}email__startswith": normalize_email(term)})
    condition = Q()
    for word in term.split()[:MAX_SEARCH_WORDS]:
        condition &= (
            Q(**{f"{prefix}first_name__istartswith": word})
            | Q(**{f"{prefix}last_name__istartswith": word})
            | Q(**{f"{prefix}email__startswith": word.lower()})
            | Q(**{f"{prefix}company__istartswith": word})
        )
    return condition


def contract_search_q(*, term: str) -> Q | None:
    """Contracts whose name/number starts with the term, or whose customer's lead
    matches it (see lead_search_q).

    A union of two id sets rather than one OR: an OR across the contract and the
    lead tables can use neither table's index and reads every contract.
    """
    lead_condition = lead_search_q(term=term, prefix="customer__lead__")
    if lead_condition is None:
        return None
    by_name = Contract.objects.filter(name__istartswith=term.strip()).order_by().values("pk")
    by_lead = Contract.objects.filter(lead_condition).order_by().values("pk")
    return Q(pk__in=by_name.union(by_lead))
