"""Search conditions for the admin's search boxes, shaped for the indexes of
migrations 0004_search_indexes, 0006 (e-mail) and 0011 (last name, first name
and the e-mail's first characters).

Django's stock search is `icontains` on every field, a scan of the whole table
that no B-tree can serve. Here a phone is matched exactly in its normalized form,
an e-mail by prefix, and names by case-insensitive prefix, each on an indexed
expression, so a search over a million leads reads only the matching rows.
"""

import itertools
from functools import reduce
from operator import and_, or_

from django.db.models import F, Q, QuerySet
from django.db.models.functions import Left
from django.db.models.lookups import Exact, StartsWith

from crm_models.estimates import planner_row_estimate
from crm_models.models import Contract, Lead
from crm_models.normalization import normalize_email, phone_search_term
from crm_models.querysets import OrderedPageIn

# Words of a search term that count; more only slow the query down.
MAX_SEARCH_WORDS = 4
# When PostgreSQL expects at most this many leads to match a search (of several
# words for the customer list; any search of contracts and interactions), they are
# found first, on their indexes, and the listed rows by their ids; above it, the
# list is walked in its order, testing each row (a page fills quickly).
RELATED_IDS_LIMIT = 5000
# From this many leads expected to match (up to RELATED_IDS_LIMIT), a page of
# every interaction of theirs is found by walking the interactions in date
# order, and the list is not counted (interaction_search_q).
WALKED_LEADS_MIN = 1000


class BroadSearch(Q):
    """A search condition through the leads that PostgreSQL expects to match
    more than RELATED_IDS_LIMIT leads. A page of it is found quickly (the list
    is walked in its order), but counting its rows would read every matching
    lead (36,000 for "Kuznetsov" at a million leads, 100 ms), so the changelist
    shows the planner's estimate of the count instead (IndexedSearchMixin)."""


def _email_prefix(prefix: str, start: str) -> Q:
    """E-mails starting with `start`. The `> ''` adds nothing to the match (a
    prefix never matches an empty e-mail) but lets PostgreSQL use the unique
    e-mail index, which covers non-empty e-mails only."""
    return Q(**{f"{prefix}email__startswith": start, f"{prefix}email__gt": ""})


def search_words(term: str) -> list[str]:
    """The words of a search term that count: the first MAX_SEARCH_WORDS, less
    each word that another of them starts with ("Iva Ivan" is "Ivan"; a repeated
    word counts once). Such a word adds nothing, since the field the longer word
    starts, it starts too, but each word multiplies the branches of the query
    (_words_q): "e e e e" took 2 s at a million leads, "e" takes 40 ms."""
    words = term.split()[:MAX_SEARCH_WORDS]

    def starts(longer: str, word: str) -> bool:
        # Names are compared in upper case, e-mails in lower case: both must hold.
        return longer.upper().startswith(word.upper()) and longer.lower().startswith(word.lower())

    return [
        word
        for index, word in enumerate(words)
        if not any(
            starts(other, word) and (not starts(word, other) or other_index < index)
            for other_index, other in enumerate(words)
            if other_index != index
        )
    ]


# The fields a word of a name search may start: the names, and the e-mail.
NAME_FIELDS = ("first_name", "last_name", "company")
WORD_FIELDS = (*NAME_FIELDS, "email")


def _field_q(field: str, word: str, prefix: str) -> Q:
    if field == "email":
        return _email_prefix(prefix, word.lower())
    return Q(**{f"{prefix}{field}__istartswith": word})


# How many leading characters of the e-mail lead_name_email_prefix_idx holds
# (migration 0011).
EMAIL_HEAD = 3


def _fields_q(fields: tuple[str, ...], words: list[str], prefix: str) -> Q:
    """Each word starts its field (an AND).

    When one word starts the last name and another the e-mail, the e-mail is
    matched through its first characters (the same match: `LEFT(email, 5) =
    'elena'` is "starts with elena") and its first EMAIL_HEAD characters are
    bounded too, which the composite lead_name_email_prefix_idx (last name,
    first name, e-mail head; migration 0011) serves in one probe. Many e-mails
    start with the first name (all of the demo's), so both halves of that pair
    are common: "Elena Morozova" at a million leads intersected the 62,000
    e-mails starting with "elena" with the 36,000 last names starting with
    "Morozova" (10 ms of a 27 ms search); one probe reads the 2,247 entries of
    the pair (0.1-0.3 ms). The e-mail's own prefix condition is left out on
    purpose: PostgreSQL would intersect the probe with the e-mail index anyway.
    """
    conditions = []
    for field, word in zip(fields, words, strict=True):
        if field == "email" and "last_name" in fields:
            email = word.lower()
            head = Left(f"{prefix}email", EMAIL_HEAD)
            conditions.append(
                Q(StartsWith(head, email[:EMAIL_HEAD]), Exact(Left(f"{prefix}email", len(email)), email))
            )
        else:
            conditions.append(_field_q(field, word, prefix))
    return reduce(and_, conditions)


def _case_safe(word: str) -> bool:
    """Whether `word` is ASCII and Cyrillic only: characters that every locale's
    upper case maps one to one and never makes equal where Python's upper case
    keeps them apart, so that two such words Python finds unrelated
    (search_words) cannot both start the same value in PostgreSQL."""
    return all(ord(char) < 0x80 or 0x400 <= ord(char) <= 0x4FF for char in word)


def _words_q(words: list[str], prefix: str) -> Q:
    """Every word starts the first name, last name, e-mail or company.

    For several words search_words has left none that another starts with, so
    no field can start with two of them: each word starts a field of its own.
    The condition is an OR, over every way of giving each word a different
    field, of ANDs ("Иван Смирн": first name Иван% and last name Смирн%, or last
    name Иван% and first name Смирн%, ...; 12 ANDs for two words, 24 for three
    or four). PostgreSQL serves the AND of a last and a first name from the
    composite index lead_name_email_prefix_idx in one probe (migrations 0010
    and 0011): the 2,258 entries of "Иван Смирн" at a million leads, 0.5 ms.
    Written as an AND, over the words, of ORs of fields, it had to intersect
    the index matches of each word: the 62,000 leads with a first or last name
    starting with "Иван" and the 36,000 of "Смирн", 9 ms.

    Words with characters outside ASCII and Cyrillic (_case_safe) keep that
    formulation, which needs no reasoning about case: an OR, over which of the
    words match by e-mail, of ANDs, (names1 AND names2) OR (names1 AND email2)
    OR ...: written as a plain AND of ORs, both ORs would use the partial e-mail
    index, and the planner takes a second use of a partial index for a repeat
    and reads every lead matching one word to test the other.
    """
    if len(words) > 1 and all(_case_safe(word) for word in words):
        return reduce(
            or_,
            (_fields_q(fields, words, prefix) for fields in itertools.permutations(WORD_FIELDS, len(words))),
        )
    choices = [
        (
            reduce(or_, (_field_q(field, word, prefix) for field in NAME_FIELDS)),
            _field_q("email", word, prefix),
        )
        for word in words
    ]
    if len(words) == 1:
        names, email = choices[0]
        return names | email
    return reduce(or_, (reduce(and_, branch) for branch in itertools.product(*choices)))


def _lead_q(term: str, prefix: str = "") -> Q | None:
    """Leads matching `term` (see lead_search_q), without asking the database."""
    term = term.strip()
    if not term:
        return None
    phone = phone_search_term(term)
    if phone:
        return Q(**{f"{prefix}phone": phone})
    if "@" in term:
        return _email_prefix(prefix, normalize_email(term))
    return _words_q(search_words(term), prefix)


def _few_leads(condition: Q) -> QuerySet | None:
    """The ids of the leads matching `condition`, as a subquery, when PostgreSQL
    expects at most RELATED_IDS_LIMIT of them (one EXPLAIN); None when it
    expects more, and on other databases.

    The subquery is DISTINCT, which PostgreSQL cannot fold into a join of the
    list with the leads: it finds the leads on their indexes, then the listed
    rows by lead id, then sorts them for the page. Folded into a join, it walks
    the list in its order and tests each row's lead: 0.4-0.8 s at a million
    leads for the interactions of a name that matches a few thousand."""
    leads, estimate = _leads_and_estimate(condition)
    if estimate is None or estimate > RELATED_IDS_LIMIT:
        return None
    return leads


def _leads_and_estimate(condition: Q) -> tuple[QuerySet, int | None]:
    """The ids of the leads matching `condition` (a DISTINCT subquery, see
    _few_leads) and how many PostgreSQL expects (None on other databases)."""
    leads = Lead.objects.filter(condition)
    return leads.order_by().values("pk").distinct(), planner_row_estimate(leads)


def _several_name_words(term: str) -> bool:
    term = term.strip()
    return len(search_words(term)) > 1 and not phone_search_term(term) and "@" not in term


def lead_search_q(*, term: str, prefix: str = "") -> Q | None:
    """Leads matching `term`, as a Q over Lead (or over `prefix` + Lead fields
    from another model, e.g. prefix="lead__"); None for an empty term.

    A term that reads as a phone number matches the phone exactly; one with "@"
    matches e-mails starting with it; otherwise every word must start the first
    name, last name, e-mail or company.

    Through a join (the customer list), a name of several words that PostgreSQL
    expects few leads to match is looked up first (see _few_leads). The lead
    list takes the condition itself: a search's page there is counted by
    collecting its keys (admin/changelist.py), a query PostgreSQL answers from
    the name indexes, reading the date of each matching lead as it goes; looked
    up first, the 2,258 leads of "Иван Смирн" at a million leads were then each
    found again by id for their date (24 ms against 8 ms).
    """
    condition = _lead_q(term, prefix)
    if condition is None or not prefix or not _several_name_words(term):
        return condition
    few = _few_leads(_words_q(search_words(term), prefix=""))
    return condition if few is None else Q(**{f"{prefix}pk__in": few})


def interaction_search_q(*, term: str, walk: bool = True) -> Q | None:
    """Interactions of the leads matching `term` (see lead_search_q).

    When PostgreSQL expects few matching leads, they are looked up first, on
    their own indexes, and the interactions by lead id (_few_leads). Written as
    one join instead, it walks the interactions in date order and probes each
    one's lead: 0.4-0.8 s at a million leads for a name that matches a few
    thousand. When many leads match, that walk is the right plan (a page fills
    quickly), so the join is kept, as a BroadSearch: not counted.

    Between the two (WALKED_LEADS_MIN to RELATED_IDS_LIMIT leads expected, and
    `walk`: a list of every interaction), the leads are looked up first, into a
    hash table, and a page is found by walking interaction_happened_idx (which
    holds the lead id) in date order, testing each entry against it
    (querysets.OrderedPageIn); the list is not counted. Counting it meant one
    index probe per matching lead: for "Elena Morozova" at a million leads
    (2,247 leads, 2,689 interactions) 15-21 ms to collect and sort them all,
    where the page's walk reads about 20,000 index entries in 7-12 ms. Fewer
    leads match more rarely and the walk grows longer (a list of 10,000
    interactions with 27 matches: the whole index, 10 ms against 3 ms to count
    them), and a scoped user's list (`walk` False) keeps a fraction of what
    the walk reads, so both are counted.
    """
    condition = _lead_q(term)
    if condition is None:
        return None
    leads, estimate = _leads_and_estimate(condition)
    if estimate is None or estimate > RELATED_IDS_LIMIT:
        return BroadSearch(_lead_q(term, prefix="lead__"))
    if walk and estimate >= WALKED_LEADS_MIN:
        return BroadSearch(OrderedPageIn(F("lead"), leads))
    return Q(lead__in=leads)


def contract_search_q(*, term: str) -> Q | None:
    """Contracts whose name/number starts with the term, or whose customer's lead
    matches it (see lead_search_q).

    When PostgreSQL expects few matching leads, a union of two id sets (by name;
    by lead, from those leads' ids, _few_leads): an OR across the contract and
    the lead tables could use neither table's index. When it expects many (a
    common surname), one OR over the join, which PostgreSQL serves by walking
    the contracts in the list's order and testing each one's name and lead until
    the page is full (1,100 contracts for a page of "Kuznetsov", whose 36,000
    leads hold 6,668 contracts, at a million leads: 22 ms instead of 100 ms to
    collect them all), and a BroadSearch, so they are not counted either. The
    walk is as long as the matches are rare among contracts: a surname shared by
    thousands of leads of whom almost none are customers would walk most of them.
    """
    condition = _lead_q(term)
    if condition is None:
        return None
    named = Q(name__istartswith=term.strip())
    few = _few_leads(condition)
    if few is None:
        joined = _lead_q(term, prefix="customer__lead__")
        assert joined is not None  # the same term gave `condition`
        return BroadSearch(named | joined)
    by_lead = Contract.objects.filter(customer__lead__in=few).order_by().values("pk")
    return Q(pk__in=Contract.objects.filter(named).order_by().values("pk").union(by_lead))
