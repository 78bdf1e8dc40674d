"""What the admin's search boxes (and the command palette, which asks them)
find: what people type, in either alphabet and either case, with ё and е as
one letter.

- A phone number: the full number typed any way ("8 916 012-34-56"), or its
  last four or more digits with any separators ("0418", "000-04-18").
- An e-mail address, whole or its beginning ("anna.smirnova@exa").
- Anything else, as words: each word starts a word of the first name, last
  name, company or e-mail, in any order ("van Dijk", "Иван Смирн",
  "example.com", "смирнова анна").

On PostgreSQL the words are matched on a GIN index of the beginnings of the
text's words (migration 0017), the same expression `HasWords` writes: the
database function crm_word_prefixes turns the text into a tsvector holding
every beginning of every word as it is (no parser, no stemming), so that a
typed word is one key of the index, and a search of two common words reads
the rows found under both keys (its trigrams, or a prefix match over the
words, read every row holding either word). The phone's end is matched on its B-tree of the number
read backwards; the whole phone and the e-mail's beginning on the unique
indexes of those columns. Customers and contracts are searched for words on
their own copy of them (crm_models/search_text.py), indexed the same way
(migration 0022), not through the leads.
"""

from typing import Any

from django.db.models import BooleanField, Expression, F, Func, Lookup, Q, TextField
from django.db.models.functions import Reverse

from crm_models.models import Contract, Lead
from crm_models.normalization import normalize_email, phone_search_term

# More words than this only slow the query down.
MAX_SEARCH_WORDS = 6
# PostgreSQL's limit on a text search word, in bytes (the searched fields are
# far shorter).
MAX_LEXEME_BYTES = 2046
# A phone is found by the end of its number from this many digits on.
PHONE_END_DIGITS = 4
# What a phone number may be typed with besides its digits.
PHONE_SEPARATORS = frozenset(" +-()./")
# Folding: the letter ё is е, and these marks separate words (an e-mail's
# parts, "Anne-Marie"). The SQL of migration 0013's indexes repeats them.
FOLD_FROM = "ё@._-"
FOLD_TO = "е    "
_FOLD = str.maketrans(FOLD_FROM, FOLD_TO)
LEAD_WORD_FIELDS = ("first_name", "last_name", "company", "email")


def fold(text: str) -> str:
    """`text` as SearchText holds it: lower case, ё as е, marks as spaces."""
    return text.lower().translate(_FOLD)


def folded_sql(joined: str) -> str:
    """The SQL of SearchText on PostgreSQL over the SQL of the joined fields
    (also migration 0017's index expressions)."""
    return f"translate(lower({joined}), '{FOLD_FROM}', '{FOLD_TO}')"


def words_sql(joined: str) -> str:
    """The beginnings of the words of the joined fields as a tsvector: the
    expression HasWords matches and migration 0017 indexes."""
    return f"crm_word_prefixes({folded_sql(joined)})"


class SearchText(Func):
    """The searched fields as one text of words, folded (see fold): on
    PostgreSQL in SQL (folded_sql), on SQLite by `fold` itself, registered as
    crm_fold (crm_models/apps.py)."""

    output_field = TextField()

    def joined(self, compiler: Any) -> tuple[str, list]:
        compiled = [compiler.compile(expression) for expression in self.get_source_expressions()]
        params = [param for _, part in compiled for param in part]
        return " || ' ' || ".join(sql for sql, _ in compiled), params

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list]:  # type: ignore[override]
        joined, params = self.joined(compiler)
        if connection.vendor == "postgresql":
            return folded_sql(joined), params
        return f"crm_fold({joined})", params


class HasWords(Expression):
    """Every one of `words` (folded, see search_words) starts a word of `text`
    (a SearchText). On PostgreSQL the beginnings of the text's words, asked
    for each word (the expression of migration 0017's indexes); elsewhere
    `' ' || text LIKE '% word%'` for each word."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, text: SearchText, words: list[str]) -> None:
        super().__init__()
        self.text = text
        self.words = list(words)

    def get_source_expressions(self) -> list[Any]:
        return [self.text]

    def set_source_expressions(self, exprs: Any) -> None:
        (self.text,) = exprs

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list]:  # type: ignore[override]
        if connection.vendor == "postgresql":
            if any(len(word.encode()) > MAX_LEXEME_BYTES for word in self.words):
                # Longer than any word a row can hold, and than a text search
                # query takes (PostgreSQL refuses it).
                return "FALSE", []
            joined, params = self.text.joined(compiler)
            return f"{words_sql(joined)} @@ %s::tsquery", [*params, all_words_query(self.words)]
        sql, params = compiler.compile(self.text)
        likes = [f"(' ' || {sql}) LIKE %s ESCAPE '\\'" for _ in self.words]
        patterns = [f"% {_like_escaped(word)}%" for word in self.words]
        return "(" + " AND ".join(likes) + ")", [
            param for pattern in patterns for param in (*params, pattern)
        ]


def all_words_query(words: list[str]) -> str:
    """A tsquery, as text, asking for every word as a lexeme: each word quoted
    (a quote doubled, a backslash escaped), so that it is read as it is."""
    quoted = ("'" + word.replace("\\", "\\\\").replace("'", "''") + "'" for word in words)
    return " & ".join(quoted)


class Like(Lookup):
    """`lhs LIKE pattern`, as written (Django's own lookups cast the left side
    to text, which the index's expression does not hold)."""

    lookup_name = "crm_like"

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, list]:
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        escape = " ESCAPE '\\'" if connection.vendor == "sqlite" else ""
        return f"{lhs} LIKE {rhs}{escape}", [*lhs_params, *rhs_params]


def _like_escaped(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_words(term: str) -> list[str]:
    """The words of a term as SearchText holds them, each once, at most
    MAX_SEARCH_WORDS."""
    return list(dict.fromkeys(fold(term).split()))[:MAX_SEARCH_WORDS]


def words_q(text: SearchText, words: list[str]) -> Q:
    """Every word starts a word of `text` (a SearchText)."""
    return Q(HasWords(text, words))


def _phone_q(term: str, prefix: str) -> Q | None:
    """A term typed as a phone number (digits and separators only): the whole
    number in E.164, or the number's last digits. None for any other term."""
    digits = "".join(char for char in term if char.isdigit())
    if len(digits) < PHONE_END_DIGITS or not all(char.isdigit() or char in PHONE_SEPARATORS for char in term):
        return None
    # The number read backwards starts with the digits read backwards: a
    # B-tree on reverse(phone) serves it (migration 0013).
    condition = Q(Like(Reverse(f"{prefix}phone"), f"{digits[::-1]}%"))
    whole = phone_search_term(term)
    if whole and not whole.endswith(digits):
        condition |= Q(**{f"{prefix}phone": whole})
    return condition


def _is_email(term: str) -> bool:
    name, at, _ = term.partition("@")
    return bool(at and name and " " not in term)


def lead_search_q(*, term: str, prefix: str = "") -> Q | None:
    """Leads matching `term` (see the module's docstring), as a Q over Lead or,
    with `prefix` ("lead__"), over a model that points to a lead; None for an
    empty term."""
    term = term.strip()
    if not term:
        return None
    phone = _phone_q(term, prefix)
    if phone is not None:
        return phone
    if _is_email(term):
        # The unique e-mail index (partial: non-empty e-mails) serves the prefix.
        return Q(**{f"{prefix}email__startswith": normalize_email(term), f"{prefix}email__gt": ""})
    words = search_words(term)
    if not words:
        return Q(pk__in=[])  # only marks: nothing can match
    return words_q(SearchText(*(F(f"{prefix}{field}") for field in LEAD_WORD_FIELDS)), words)


def interaction_search_q(*, term: str) -> Q | None:
    """Interactions whose lead matches `term`."""
    leads = lead_search_q(term=term)
    return None if leads is None else Q(lead__in=Lead.objects.filter(leads).values("pk"))


def customer_search_q(*, term: str) -> Q | None:
    """Customers whose lead matches `term` (as lead_search_q); words are read
    from the customer's own copy of its lead's (search_text.py), where its
    word index finds them without reading every lead of a common name."""
    term = term.strip()
    if not term:
        return None
    if _phone_q(term, "") is not None or _is_email(term):
        return lead_search_q(term=term, prefix="lead__")
    words = search_words(term)
    if not words:
        return Q(pk__in=[])  # only marks: nothing can match
    return words_q(SearchText(F("search_text")), words)


def contract_search_q(*, term: str) -> Q | None:
    """Contracts whose name and customer together hold every word of the term
    (the contract's own copy of them, search_text.py); a term typed as a
    phone or an e-mail finds the contracts of the lead with it, or whose name
    has its words: one set of ids of each, united (an OR across the two
    tables could use neither table's index)."""
    term = term.strip()
    if not term:
        return None
    words = search_words(term)
    if _phone_q(term, "") is None and not _is_email(term):
        return words_q(SearchText(F("search_text")), words) if words else Q(pk__in=[])
    by_lead = Contract.objects.filter(lead_search_q(term=term, prefix="customer__lead__"))
    if not words:
        return Q(pk__in=by_lead.order_by().values("pk"))
    named = Contract.objects.filter(words_q(SearchText(F("name")), words))
    return Q(pk__in=named.order_by().values("pk").union(by_lead.order_by().values("pk")))
