"""Turning a lead into a customer with a signed contract.

`lead_convert` is the one place where a conversion happens; the admin action,
the shell and the tests all call it.
"""

import enum
import functools
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files import File
from django.db import DatabaseError, IntegrityError, connections, router, transaction
from django.utils import timezone
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
    stored_documents: list[str] = []
    try:
        return _lead_convert_locked(
            lead_id=lead_id, acting_user=acting_user, contract=contract, stored_documents=stored_documents
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
    for lead_id, data in contracts.items():
        try:
            outcome = lead_convert(lead_id=lead_id, acting_user=acting_user, contract=data)
        except Exception:
            logger.exception("Converting lead %s failed; its transaction was rolled back.", lead_id)
            outcome = ConversionOutcome(lead_id, ConversionResult.FAILED)
        outcomes.append(outcome)
    return ConversionReport(tuple(outcomes))


@transaction.atomic
def _lead_convert_locked(
    *, lead_id: int, acting_user: UserLike, contract: ContractData, stored_documents: list[str]
) -> ConversionOutcome:
    try:
        lead = Lead.objects.visible_to(acting_user).select_for_update(of=("self",)).get(pk=lead_id)
    except Lead.DoesNotExist:
        return ConversionOutcome(lead_id, ConversionResult.NOT_FOUND)
    blocker = lead_conversion_blocker(lead)
    if blocker is not None:
        return ConversionOutcome(lead_id, blocker, lead.full_name)

    now = timezone.now()
    customer = Customer(lead=lead, account_manager=acting_user, created_at=now)
    _insert_as(customer, acting_user, when=now)

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
    _insert_as(new_contract, acting_user, when=now)

    interaction = Interaction(
        lead=lead,
        kind=InteractionKind.NOTE,
        happened_at=now,
        author=acting_user,
        summary=str(CONVERSION_SUMMARY)
        % {"contract": new_contract.name, "service": contract.service.name, "amount": contract.amount},
    )
    _insert_as(interaction, acting_user, when=now)

    lead.status = LeadStatus.CONVERTED
    lead.converted_at = now
    _update_as(lead, ["status", "converted_at", "updated_at"], acting_user, when=now)
    return ConversionOutcome(lead_id, ConversionResult.CONVERTED, lead.full_name, customer, new_contract)


# Each row of a conversion is written together with its simple-history row
# ("+" or "~", the acting user, the conversion's time). On PostgreSQL both go
# in one statement (the row's INSERT or UPDATE in a WITH clause whose RETURNING
# feeds the history INSERT): half the round trips and none of Model.save's and
# bulk_create's machinery, which together were most of a conversion's time.
# Model signals are therefore not sent; the only receiver of these models'
# save signals is simple-history's, whose row this writes (a test pins that).
# Other databases take the ORM path, two statements per row.


def _insert_as(instance: Any, user: UserLike, *, when: datetime) -> None:
    """INSERT the new `instance` (setting its pk) and its "+" history row naming `user`."""
    model = type(instance)
    connection = connections[router.db_for_write(model, instance=instance)]
    if connection.vendor != "postgresql":
        _save_as(instance, user, when=when)
        return
    meta = model._meta
    fields = [field for field in meta.concrete_fields if field is not meta.auto_field]
    values = [field.get_db_prep_save(field.pre_save(instance, True), connection) for field in fields]
    quote = connection.ops.quote_name
    row_sql = "INSERT INTO {} ({}) VALUES ({})".format(  # noqa: S608 (names from _meta only)
        quote(meta.db_table),
        ", ".join(quote(field.column) for field in fields),
        ", ".join(["%s"] * len(fields)),
    )
    instance.pk = _write_with_history(connection, model, row_sql, values, user=user, when=when, kind="+")
    instance._state.adding = False
    instance._state.db = connection.alias


def _update_as(instance: Any, field_names: list[str], user: UserLike, *, when: datetime) -> None:
    """UPDATE `field_names` of the saved `instance` and write its "~" history row naming `user`."""
    model = type(instance)
    connection = connections[router.db_for_write(model, instance=instance)]
    if connection.vendor != "postgresql":
        _save_as(instance, user, when=when, update=True, update_fields=field_names)
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    values = [field.get_db_prep_save(field.pre_save(instance, False), connection) for field in fields]  # type: ignore[union-attr]
    quote = connection.ops.quote_name
    row_sql = "UPDATE {} SET {} WHERE {} = %s".format(  # noqa: S608 (names from _meta only)
        quote(meta.db_table),
        ", ".join(f"{quote(field.column)} = %s" for field in fields),  # type: ignore[union-attr]
        quote(meta.pk.column),  # type: ignore[union-attr]
    )
    _write_with_history(connection, model, row_sql, [*values, instance.pk], user=user, when=when, kind="~")


def _write_with_history(
    connection: Any, model: Any, row_sql: str, params: list[Any], *, user: UserLike, when: datetime, kind: str
) -> Any:
    """Run `row_sql` (one row's INSERT or UPDATE) and insert that row's history
    row in the same statement; return the row's pk."""
    source_columns, history_table, history_columns = _history_columns(model)
    sql = (
        f"WITH changed AS ({row_sql} RETURNING {source_columns}) "  # noqa: S608 (names from _meta only)
        f"INSERT INTO {history_table} ({history_columns}) "
        f"SELECT {source_columns}, %s, %s, %s, %s FROM changed RETURNING {connection.ops.quote_name(model._meta.pk.column)}"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, when, "", kind, user.pk])
        written = cursor.fetchone()
    if written is None:
        raise DatabaseError(f"{model._meta.label} {params[-1]} was not updated: no such row.")
    return written[0]


@functools.cache
def _history_columns(model: Any) -> tuple[str, str, str]:
    """(the model's tracked columns, its history table, the history columns to
    fill: the tracked ones, then date, change reason, type and user), quoted."""
    history = _history_manager(model).model
    quote = connections[router.db_for_write(model)].ops.quote_name
    tracked = [field.column for field in history.tracked_fields]
    extra = [history._meta.get_field(name).column for name in HISTORY_FIELDS]
    return (
        ", ".join(quote(column) for column in tracked),
        quote(history._meta.db_table),
        ", ".join(quote(column) for column in [*tracked, *extra]),
    )


@functools.cache
def _history_manager(model: Any) -> Any:
    return model.history  # type: ignore[attr-defined]


def _save_as(instance: Any, user: UserLike, *, when: datetime, update: bool = False, **kwargs: Any) -> None:
    """Save `instance` and write its history row naming `user`, in the same
    transaction (two statements). simple-history's own post-save path builds
    a new manager class on every `Model.history` access (about a millisecond
    each), so the row is written through a cached manager with its public
    `bulk_history_create` instead; the history is the same ("+" or "~", user,
    date)."""
    setattr(instance, SKIP_HISTORY_ATTR, True)
    try:
        instance.save(**kwargs)
    finally:
        delattr(instance, SKIP_HISTORY_ATTR)
    _history_manager(instance.__class__).bulk_history_create(
        [instance], update=update, default_user=user, default_date=when
    )


def _documents_delete(names: list[str]) -> None:
    storage = Contract._meta.get_field("document").storage  # type: ignore[union-attr]
    for name in names:
        try:
            storage.delete(name)
        except OSError:
            logger.exception("Could not delete the orphaned contract document %s.", name)
