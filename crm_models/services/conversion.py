"""Turning a lead into a customer with a signed contract.

`lead_convert` is the one place where a conversion happens; the admin action,
the shell and the tests all call it.
"""

import enum
import functools
import logging
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.exceptions import EmptyResultSet, PermissionDenied, ValidationError
from django.core.files import File
from django.db import DatabaseError, IntegrityError, connections, router, transaction
from django.utils import formats, timezone, translation
from django.utils.translation import gettext_lazy as _

from crm_models.documents import validate_contract_document
from crm_models.models import (
    END_BEFORE_START_MESSAGE,
    NEGATIVE_AMOUNT_MESSAGE,
    Contract,
    Customer,
    Interaction,
    InteractionKind,
    Lead,
    LeadStatus,
    Service,
)
from crm_models.roles import UserLike

logger = logging.getLogger(__name__)

CONVERT_PERMISSION = "crm_models.convert_lead"
CONVERT_NOT_ALLOWED_MESSAGE = _("You are not allowed to convert leads.")
CONTRACT_NAME_REQUIRED_MESSAGE = _("Give the contract a name or number.")
CONVERSION_SUMMARY = _("Converted to a customer: contract “%(contract)s” for %(service)s, amount %(amount)s.")

# While set on an instance, simple-history's post-save handler writes no history.
SKIP_HISTORY_ATTR = "skip_history_when_saving"
# The history columns written after the tracked ones, in this order.
HISTORY_FIELDS = ("history_date", "history_change_reason", "history_type", "history_user")


@dataclass(frozen=True)
class ContractData:
    """The contract a lead is converted with."""

    service: Service
    name: str
    amount: Decimal
    start_date: date
    end_date: date
    signed_at: date
    document: File | None = None


class ConversionResult(enum.StrEnum):
    CONVERTED = "converted"
    ALREADY_CONVERTED = "already_converted"
    LOST = "lost"
    NOT_FOUND = "not_found"
    FAILED = "failed"


@dataclass(frozen=True)
class ConversionOutcome:
    lead_id: int
    result: ConversionResult
    lead_name: str = ""
    customer: Customer | None = None
    contract: Contract | None = None


@dataclass(frozen=True)
class ConversionReport:
    outcomes: tuple[ConversionOutcome, ...]

    def with_result(self, result: ConversionResult) -> list[ConversionOutcome]:
        return [outcome for outcome in self.outcomes if outcome.result == result]


def lead_conversion_blocker(lead: Lead) -> ConversionResult | None:
    """Why `lead` cannot be converted as it stands (already converted, lost), or None."""
    if lead.status == LeadStatus.CONVERTED:
        return ConversionResult.ALREADY_CONVERTED
    if lead.status == LeadStatus.LOST:
        return ConversionResult.LOST
    return None


def contract_data_validate(contract: ContractData) -> None:
    """Raise ValidationError (keyed by field) if the contract cannot be signed."""
    errors: dict[str, Any] = {}
    if not contract.name.strip():
        errors["name"] = CONTRACT_NAME_REQUIRED_MESSAGE
    if contract.amount < 0:
        errors["amount"] = NEGATIVE_AMOUNT_MESSAGE
    if contract.end_date < contract.start_date:
        errors["end_date"] = END_BEFORE_START_MESSAGE
    if contract.document is not None:
        try:
            validate_contract_document(contract.document)
        except ValidationError as error:
            errors["document"] = error.messages
    if errors:
        raise ValidationError(errors)


def lead_convert(*, lead_id: int, acting_user: UserLike, contract: ContractData) -> ConversionOutcome:
    """Convert one lead into a customer with `contract`, in its own transaction.

    The lead is read through `Lead.objects.visible_to(acting_user)` and locked
    (`SELECT ... FOR UPDATE`) for the whole transaction, so two simultaneous
    conversions of one lead run one after the other and the second sees it
    converted. Creates the Customer (account manager = `acting_user`), the
    Contract (storing its document), an Interaction on the lead's timeline, and
    marks the lead converted; every history row names `acting_user`.

    Returns an outcome: CONVERTED; ALREADY_CONVERTED (the lead is converted or
    already has a customer; nothing is written); LOST (lost leads are refused);
    NOT_FOUND (no such lead in the user's scope).

    Raises PermissionDenied if the user may not convert leads, ValidationError
    for an invalid contract (before anything is written). Any other error rolls
    the lead's transaction back and deletes the document file it stored, then
    propagates. Call it outside a transaction: the commit is its own.
    """
    if not acting_user.has_perm(CONVERT_PERMISSION):
        raise PermissionDenied(CONVERT_NOT_ALLOWED_MESSAGE)
    contract_data_validate(contract)
    return _lead_convert(
        lead_id=lead_id, acting_user=acting_user, contract=contract, lock=_LeadLock(acting_user)
    )


def conversion_summary(*, contract: str, service: str, amount: Decimal) -> str:
    """The note a conversion leaves on the lead's timeline, in the site's
    language (LANGUAGE_CODE), not the converting user's: the timeline is
    shared by the whole team, so a note must not change language with
    whoever happened to convert the lead."""
    with translation.override(settings.LANGUAGE_CODE):
        amount_text = formats.number_format(amount, decimal_pos=2, use_l10n=True, force_grouping=True)
        amount_text = f"{amount_text}\u00a0{getattr(settings, 'CURRENCY_SYMBOL', '₽')}"
        return str(CONVERSION_SUMMARY) % {"contract": contract, "service": service, "amount": amount_text}


def _lead_convert(
    *, lead_id: int, acting_user: UserLike, contract: ContractData, lock: "_LeadLock"
) -> ConversionOutcome:
    stored_documents: list[str] = []
    try:
        return _lead_convert_locked(
            lead_id=lead_id,
            contract=contract,
            acting_user=acting_user,
            lock=lock,
            stored_documents=stored_documents,
        )
    except IntegrityError:
        _documents_delete(stored_documents)
        # The one-to-one on Customer.lead: a customer was made for this lead by
        # a path that did not mark the lead converted (e.g. the customer form).
        lead = Lead.objects.visible_to(acting_user).filter(pk=lead_id, customer__isnull=False).first()
        if lead is None:
            raise
        return ConversionOutcome(lead_id, ConversionResult.ALREADY_CONVERTED, lead.full_name)
    except BaseException:
        _documents_delete(stored_documents)
        raise


def leads_convert(*, acting_user: UserLike, contracts: Mapping[int, ContractData]) -> ConversionReport:
    """Convert each lead id in `contracts` with its contract, one transaction per
    lead, so one lead's failure neither undoes nor blocks the others.

    A lead whose conversion raised an unexpected error is reported FAILED (and
    logged); nothing of it is left behind. Raises PermissionDenied or
    ValidationError as `lead_convert` does, before converting anything.
    """
    if not acting_user.has_perm(CONVERT_PERMISSION):
        raise PermissionDenied(CONVERT_NOT_ALLOWED_MESSAGE)
    for data in contracts.values():
        contract_data_validate(data)
    outcomes = []
    lock = _LeadLock(acting_user)
    for lead_id, data in contracts.items():
        try:
            outcome = _lead_convert(lead_id=lead_id, acting_user=acting_user, contract=data, lock=lock)
        except Exception:
            logger.exception("Converting lead %s failed; its transaction was rolled back.", lead_id)
            outcome = ConversionOutcome(lead_id, ConversionResult.FAILED)
        outcomes.append(outcome)
    return ConversionReport(tuple(outcomes))


# A primary key no lead has: it stands for the real one while _LeadLock
# compiles its query, and is found again among the compiled parameters.
_PK_PLACEHOLDER = -7_319_428_561


class _LeadLock:
    """The `SELECT ... FOR UPDATE` of one lead within `acting_user`'s scope
    (`Lead.objects.visible_to`), compiled by the ORM once and then run for each
    lead of a batch with that lead's pk: building the same query anew for every
    lead took about 0.8 ms of Python, more than PostgreSQL's work for the lock."""

    def __init__(self, user: UserLike) -> None:
        self.user = user
        self.compiled: tuple[str, list[Any], int] | None = None
        self.empty = False

    def get(self, lead_id: int) -> Lead | None:
        """The locked lead, or None when there is no such lead in the scope.
        Call inside a transaction (as select_for_update requires)."""
        alias = router.db_for_write(Lead)
        if self.compiled is None and not self.empty:
            queryset = (
                Lead.objects.visible_to(self.user).select_for_update(of=("self",)).filter(pk=_PK_PLACEHOLDER)
            )
            try:
                sql, params = queryset.query.get_compiler(using=alias).as_sql()
            except EmptyResultSet:  # a user with no leads in scope
                self.empty = True
            else:
                position = list(params).index(_PK_PLACEHOLDER)
                self.compiled = (sql, list(params), position)
        if self.compiled is None:
            return None
        sql, params, position = self.compiled
        params = [*params[:position], lead_id, *params[position + 1 :]]
        # raw() applies the database's converters (SQLite's datetimes) as the ORM does.
        return next(iter(Lead.objects.db_manager(alias).raw(sql, params)), None)


@transaction.atomic
def _lead_convert_locked(
    *,
    lead_id: int,
    acting_user: UserLike,
    contract: ContractData,
    lock: _LeadLock,
    stored_documents: list[str],
) -> ConversionOutcome:
    with _prepared_statements(connections[router.db_for_write(Lead)]):
        return _lead_convert_statements(
            lead_id=lead_id,
            acting_user=acting_user,
            contract=contract,
            lock=lock,
            stored_documents=stored_documents,
        )


def _lead_convert_statements(
    *,
    lead_id: int,
    acting_user: UserLike,
    contract: ContractData,
    lock: _LeadLock,
    stored_documents: list[str],
) -> ConversionOutcome:
    lead = lock.get(lead_id)
    if lead is None:
        return ConversionOutcome(lead_id, ConversionResult.NOT_FOUND)
    blocker = lead_conversion_blocker(lead)
    if blocker is not None:
        return ConversionOutcome(lead_id, blocker, lead.full_name)

    now = timezone.now()
    customer = Customer(lead=lead, account_manager=acting_user, created_at=now)
    _save_as(acting_user, when=now, rows=[(customer, None)])

    new_contract = Contract(
        name=contract.name.strip(),
        customer=customer,
        service=contract.service,
        start_date=contract.start_date,
        end_date=contract.end_date,
        amount=contract.amount,
        signed_at=contract.signed_at,
    )
    if contract.document is not None:
        # Stored before the row is written; removed again by lead_convert if
        # the transaction does not commit.
        new_contract.document.save(PurePath(contract.document.name or "").name, contract.document, save=False)
        stored_documents.append(new_contract.document.name)
    _save_as(acting_user, when=now, rows=[(new_contract, None)])

    interaction = Interaction(
        lead=lead,
        kind=InteractionKind.NOTE,
        happened_at=now,
        author=acting_user,
        summary=conversion_summary(
            contract=new_contract.name, service=contract.service.name, amount=contract.amount
        ),
    )
    lead.status = LeadStatus.CONVERTED
    lead.converted_at = now
    _save_as(
        acting_user, when=now, rows=[(interaction, None), (lead, ["status", "converted_at", "updated_at"])]
    )
    return ConversionOutcome(lead_id, ConversionResult.CONVERTED, lead.full_name, customer, new_contract)


@contextmanager
def _prepared_statements(connection: Any) -> Iterator[None]:
    """On PostgreSQL, the statements run inside send their parameters apart
    from the SQL and are prepared: PostgreSQL parses and plans each of a
    conversion's statements once per connection instead of once per lead
    (about 1.4 ms of a lead's 5 ms in the database). Django itself sends the
    values inside the SQL text and prepares nothing, which keeps
    transaction-pooling proxies working; a proxy in front of this database
    must support protocol-level prepared statements (PgBouncer 1.21+ does).
    Other databases are left as they are."""
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    database = connection.connection
    previous = database.cursor_factory, database.prepare_threshold
    database.cursor_factory = _preparing_cursor_class()
    # Only what PreparingCursor asks for is prepared (None would disable it).
    database.prepare_threshold = 2**31 - 1
    try:
        yield
    finally:
        database.cursor_factory, database.prepare_threshold = previous


@functools.cache
def _preparing_cursor_class() -> type:
    from django.db.backends.postgresql.base import ServerBindingCursor  # type: ignore[attr-defined]

    class PreparingCursor(ServerBindingCursor):  # type: ignore[misc, valid-type]
        """Django's server-side binding cursor, preparing every statement."""

        def execute(
            self, query: Any, params: Any = None, *, prepare: bool | None = None, binary: Any = None
        ) -> Any:
            return super().execute(query, params, prepare=True, binary=binary)

    return PreparingCursor


# Each row of a conversion is written together with its simple-history row
# ("+" or "~", the acting user, the conversion's time). On PostgreSQL the rows
# given to one `_save_as` call and their history rows go in one statement:
#   WITH row_0 AS (INSERT or UPDATE ... RETURNING <tracked columns>),
#        history_0 AS (INSERT INTO <history table> SELECT ... FROM row_0 RETURNING id),
#        row_1 AS ...
#   SELECT (SELECT id FROM history_0), ...
# a third of the round trips and none of Model.save's and bulk_create's
# machinery, which together were most of a conversion's time. Two of the
# lead, customer and contract tables never share a statement: the dashboard
# rollup triggers (dashboards/rollups.py) count a statement's rows against the
# other two tables as they stand after it.
# Model signals are therefore not sent; the only receiver of these models'
# save signals is simple-history's, whose rows this writes (a test pins that).
# Other databases take the ORM path, two statements per row.

# (instance, None) inserts a new row; (instance, field names) updates those fields.
RowWrite = tuple[Any, list[str] | None]


def _save_as(user: UserLike, *, when: datetime, rows: list[RowWrite]) -> None:
    """Write `rows` (setting the pk of each new one) and a history row for
    each naming `user`, in one statement on PostgreSQL."""
    connection = connections[router.db_for_write(type(rows[0][0]))]
    if connection.vendor != "postgresql":
        for instance, update_fields in rows:
            _orm_save_as(instance, user, when=when, update_fields=update_fields)
        return
    clauses: list[str] = []
    pks: list[str] = []
    params: list[Any] = []
    for index, (instance, update_fields) in enumerate(rows):
        row_sql, row_params = _row_sql(connection, instance, update_fields)
        history = _history_table(instance.__class__)
        clauses.append(f"row_{index} AS ({row_sql} RETURNING {history.tracked})")
        clauses.append(
            f"history_{index} AS (INSERT INTO {history.table} ({history.columns}) "  # noqa: S608 (names from _meta only)
            f"SELECT {history.tracked}, %s, %s, %s, %s FROM row_{index} RETURNING {history.pk})"
        )
        pks.append(f"(SELECT {history.pk} FROM history_{index})")  # noqa: S608
        params += [*row_params, when, "", "+" if update_fields is None else "~", user.pk]
    with connection.cursor() as cursor:
        cursor.execute(f"WITH {', '.join(clauses)} SELECT {', '.join(pks)}", params)
        written = cursor.fetchone()
    for (instance, update_fields), pk in zip(rows, written, strict=True):
        if pk is None:
            raise DatabaseError(f"{instance._meta.label} {instance.pk} was not updated: no such row.")
        if update_fields is None:
            instance.pk = pk
            instance._state.adding = False
            instance._state.db = connection.alias


def _row_sql(connection: Any, instance: Any, update_fields: list[str] | None) -> tuple[str, list[Any]]:
    """The INSERT of the new `instance`, or the UPDATE of its `update_fields`,
    without RETURNING; values prepared as Model.save prepares them."""
    meta = instance._meta
    quote = connection.ops.quote_name
    adding = update_fields is None
    if update_fields is None:
        fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
    else:
        fields = [meta.get_field(name) for name in update_fields]
    values = [field.get_db_prep_save(field.pre_save(instance, adding), connection) for field in fields]
    if adding:
        columns = ", ".join(quote(field.column) for field in fields)
        placeholders = ", ".join(["%s"] * len(fields))
        return f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})", values  # noqa: S608
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    return f"UPDATE {quote(meta.db_table)} SET {assignments} WHERE {quote(meta.pk.column)} = %s", [  # noqa: S608
        *values,
        instance.pk,
    ]


@dataclass(frozen=True)
class _HistoryTable:
    """Quoted names: the history table, the model's tracked columns (the same
    names in both tables), the history columns to fill (the tracked ones, then
    date, change reason, type and user) and the column holding the row's pk."""

    table: str
    tracked: str
    columns: str
    pk: str


@functools.cache
def _history_table(model: Any) -> _HistoryTable:
    history = _history_manager(model).model
    quote = connections[router.db_for_write(model)].ops.quote_name
    tracked = [field.column for field in history.tracked_fields]
    extra = [history._meta.get_field(name).column for name in HISTORY_FIELDS]
    return _HistoryTable(
        table=quote(history._meta.db_table),
        tracked=", ".join(quote(column) for column in tracked),
        columns=", ".join(quote(column) for column in [*tracked, *extra]),
        pk=quote(model._meta.pk.column),
    )


@functools.cache
def _history_manager(model: Any) -> Any:
    return model.history  # type: ignore[attr-defined]


def _orm_save_as(instance: Any, user: UserLike, *, when: datetime, update_fields: list[str] | None) -> None:
    """Save `instance` and write its history row naming `user`, in the same
    transaction (two statements). simple-history's own post-save path builds
    a new manager class on every `Model.history` access (about a millisecond
    each), so the row is written through a cached manager with its public
    `bulk_history_create` instead; the history is the same ("+" or "~", user,
    date)."""
    setattr(instance, SKIP_HISTORY_ATTR, True)
    try:
        instance.save(update_fields=update_fields)
    finally:
        delattr(instance, SKIP_HISTORY_ATTR)
    _history_manager(instance.__class__).bulk_history_create(
        [instance], update=update_fields is not None, default_user=user, default_date=when
    )


def _documents_delete(names: list[str]) -> None:
    storage = Contract._meta.get_field("document").storage  # type: ignore[union-attr]
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            logger.exception("Could not delete the orphaned contract document %s.", name)
