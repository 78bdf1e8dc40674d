"""Writing a confirmed import: all rows or none, each with its history entry,
and one `ImportRecord` describing it.

New leads and spend rows, the bulk of any real import, are written with
PostgreSQL's COPY (table and history table), because Django's `bulk_create`
and simple-history's `bulk_create_with_history` reach only a few thousand rows
a second here (see bench/imports.py and bench/spend.py). On other databases,
and for updates, services and campaigns, simple-history's `bulk_create_with_history` /
`bulk_update_with_history` write the rows and their history.
"""

import datetime
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import partial
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from crm_models.importing.columns import CleanFile
from crm_models.models import AdSpend, Campaign, ImportRecord, Lead, LeadStatus, Service
from crm_models.roles import UserLike
from crm_models.selectors.import_plans import ImportPlan, import_may_update, import_plan_build
from crm_models.services.assignment import ImportOwnership, import_owners, import_ownership_check

CHANGED_MEANWHILE_MESSAGE = _(
    "The data changed while the file was being imported, so nothing was imported. Upload the file again."
)
UPDATE_NOT_ALLOWED_MESSAGE = _(
    "You may not change existing %(records)s, so the file cannot update them. Nothing was imported."
)
HAS_ERRORS_MESSAGE = _("The file has rows that cannot be imported, so nothing was imported.")
NOTHING_VALID_MESSAGE = _("No row of the file can be imported, so nothing was imported.")
CHANGE_REASON = _("Import #%(pk)s: %(file)s")

BATCH = 2_000


@dataclass(frozen=True)
class ImportedFile:
    name: str
    sha256: str
    size: int
    file_format: str


class ImportRejectedError(Exception):
    """Nothing was written; `plan` (when given) holds the row errors to show."""

    def __init__(self, message: Any, plan: ImportPlan | None = None) -> None:
        super().__init__(str(message))
        self.message = message
        self.plan = plan


def import_confirm(
    *,
    clean: CleanFile,
    user: UserLike,
    duplicate_mode: str,
    imported_file: ImportedFile,
    skip_invalid: bool = False,
    ownership: ImportOwnership | None = None,
) -> tuple[ImportRecord, ImportPlan]:
    """Re-check the cleaned rows against the database as it is now and write
    them in one transaction.

    All or nothing by default: raises ImportRejectedError, with nothing
    written, when any row has an error. With `skip_invalid` the rows with
    errors (`clean.errors` and any the re-check finds) are left out and the
    others written; it raises only when no row is left. It also raises when
    the user may not update existing records in "update" mode, and when a
    concurrent change breaks a uniqueness rule (always the whole file).

    `ownership` says who owns new leads (services/assignment.py); without it
    the importing user does. A choice the user may not make is refused.
    """
    kind = clean.spec.kind
    if ownership is not None:
        try:
            import_ownership_check(ownership=ownership, user=user)
        except ValueError as error:
            raise ImportRejectedError(str(error)) from error
    if duplicate_mode == ImportRecord.DuplicateMode.UPDATE and not import_may_update(user=user, kind=kind):
        raise ImportRejectedError(UPDATE_NOT_ALLOWED_MESSAGE % {"records": clean.spec.verbose_name_plural})
    started = time.perf_counter()
    try:
        with transaction.atomic():
            plan = import_plan_build(clean=clean, user=user, duplicate_mode=duplicate_mode)
            if plan.errors and not skip_invalid:
                raise ImportRejectedError(HAS_ERRORS_MESSAGE, plan)
            if plan.errors and not (plan.creates or plan.updates or plan.skipped):
                raise ImportRejectedError(NOTHING_VALID_MESSAGE, plan)
            record = ImportRecord.objects.create(
                user=user,
                kind=plan.kind,
                file_name=imported_file.name[:255],
                file_sha256=imported_file.sha256,
                file_size=imported_file.size,
                file_format=imported_file.file_format,
                duplicate_mode=duplicate_mode,
                rows_total=plan.rows_total,
                created_count=len(plan.creates),
                updated_count=len(plan.updates),
                skipped_count=len(plan.skipped),
            )
            reason = CHANGE_REASON % {"pk": record.pk, "file": record.file_name}
            writer: Any = {
                ImportRecord.Kind.LEAD: partial(_write_leads, ownership=ownership),
                ImportRecord.Kind.SERVICE: _write_services,
                ImportRecord.Kind.CAMPAIGN: _write_campaigns,
                ImportRecord.Kind.SPEND: _write_spend,
            }[ImportRecord.Kind(plan.kind)]
            writer(plan, user, str(reason))
            record.duration_ms = int((time.perf_counter() - started) * 1000)
            record.save(update_fields=["duration_ms"])
    except IntegrityError as error:
        raise ImportRejectedError(CHANGED_MEANWHILE_MESSAGE) from error
    return record, plan


def _given(value: Any, current: Any) -> Any:
    """A cell left empty keeps what the record already has."""
    return current if value is None else value


def _update_with_history(
    model: type[Model], plan: ImportPlan, fields: list[str], apply: Any, user: UserLike, reason: str
) -> None:
    if not plan.updates:
        return
    now = timezone.now()
    rows = dict(plan.updates)
    objects = []
    pks = sorted(rows)
    for start in range(0, len(pks), BATCH):
        for obj in model._default_manager.filter(pk__in=pks[start : start + BATCH]):
            apply(obj, rows[obj.pk])
            obj.updated_at = now  # type: ignore[attr-defined]
            objects.append(obj)
    bulk_update_with_history(
        objects,
        model,
        [*fields, "updated_at"],
        batch_size=BATCH,
        default_user=user,
        default_change_reason=reason,
        default_date=now,
    )


def _write_leads(
    plan: ImportPlan, user: UserLike, reason: str, *, ownership: ImportOwnership | None = None
) -> None:
    campaigns = plan.references

    def apply(lead: Lead, row: list) -> None:
        # The file's created date is ignored on update: the lead arrived when it arrived.
        _number, first_name, last_name, email, phone, company, campaign, notes, _id, _created = row
        lead.first_name = first_name
        lead.last_name = _given(last_name, lead.last_name)
        lead.email = _given(email, lead.email)
        lead.phone = _given(phone, lead.phone)
        lead.company = _given(company, lead.company)
        lead.campaign_id = campaigns[campaign.casefold()]
        lead.notes = _given(notes, lead.notes)

    fields = ["first_name", "last_name", "email", "phone", "company", "campaign", "notes"]
    _update_with_history(Lead, plan, fields, apply, user, reason)
    if not plan.creates:
        return
    now = timezone.now()
    # The file never names the owner: the importing user, or the choice made on the form.
    owners: list[int | None] = (
        [user.pk] * len(plan.creates)
        if ownership is None
        else import_owners(
            ownership=ownership,
            user=user,
            campaign_ids=[campaigns[row[6].casefold()] for row in plan.creates],
        )
    )
    if connection.vendor == "postgresql":
        _copy_leads(plan.creates, campaigns, user, reason, now, owners)
        return
    objects = [
        Lead(
            created_at=datetime.datetime.fromisoformat(created) if created else now,
            updated_at=now,
            first_name=first_name,
            last_name=last_name or "",
            email=email or "",
            phone=phone or "",
            company=company or "",
            campaign_id=campaigns[campaign.casefold()],
            status=LeadStatus.NEW.value,
            owner_id=owner_id,
            notes=notes or "",
            converted_at=None,
        )
        for (
            _number,
            first_name,
            last_name,
            email,
            phone,
            company,
            campaign,
            notes,
            _id,
            created,
        ), owner_id in zip(plan.creates, owners, strict=True)
    ]
    bulk_create_with_history(
        objects, Lead, batch_size=BATCH, default_user=user, default_change_reason=reason, default_date=now
    )


LEAD_COPY_FIELDS = [
    "created_at",
    "updated_at",
    "first_name",
    "last_name",
    "email",
    "phone",
    "company",
    "campaign",
    "status",
    "owner",
    "notes",
    "converted_at",
]
SPEND_COPY_FIELDS = ["created_at", "updated_at", "campaign", "date", "amount", "source"]
HISTORY_COPY_COLUMNS = ["history_date", "history_change_reason", "history_type", "history_user_id"]
# COPY's text format: backslash, tab, newline and carriage return are escaped, "\N" is NULL.
COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
COPY_CHUNK = 2_000


def _copy_with_history(
    model: type[Model],
    fields: list[str],
    rows: list,
    line: Callable[[Any], str],
    user: UserLike,
    reason: str,
    now: Any,
) -> None:
    """COPY new rows and their '+' history rows. `line(row)` formats a row's
    `fields` (without the id) in COPY's text format, once, and the line is
    sent to both tables: several times cheaper than psycopg's per-row
    adaptation, and the history rows need no lookup of the rows just
    written. Primary keys come from the table's own sequence."""
    quote = connection.ops.quote_name
    table = quote(model._meta.db_table)
    history_table = quote(model.history.model._meta.db_table)  # type: ignore[attr-defined]
    columns = ", ".join(
        quote(str(model._meta.get_field(name).column))  # type: ignore[union-attr]
        for name in fields
    )
    with connection.cursor() as cursor:
        # The sequence's name is looked up once: inside the nextval() call it
        # was looked up again for every row (0.7 s of a 100,000-row import).
        cursor.execute("SELECT pg_get_serial_sequence(%s, 'id')", [model._meta.db_table])
        (sequence,) = cursor.fetchone()
        cursor.execute("SELECT nextval(%s::regclass) FROM generate_series(1, %s)", [sequence, len(rows)])
        ids = [pk for (pk,) in cursor.fetchall()]
        lines: list[str] = []
        with cursor.cursor.copy(f"COPY {table} (id, {columns}) FROM STDIN") as copy:
            # Formatted and sent a chunk at a time, not all rows first: Python
            # formats the next chunk while PostgreSQL works through the last one.
            for start in range(0, len(rows), COPY_CHUNK):
                chunk = [
                    f"{pk}\t{line(row)}"
                    for pk, row in zip(
                        ids[start : start + COPY_CHUNK], rows[start : start + COPY_CHUNK], strict=True
                    )
                ]
                copy.write("".join(f"{text}\n" for text in chunk))
                lines.extend(chunk)
        history = f"\t{now.isoformat()}\t{reason.translate(COPY_ESCAPES)}\t+\t{user.pk}\n"
        history_columns = ", ".join(quote(name) for name in HISTORY_COPY_COLUMNS)
        with cursor.cursor.copy(
            f"COPY {history_table} (id, {columns}, {history_columns}) FROM STDIN"
        ) as copy:
            for start in range(0, len(lines), COPY_CHUNK):
                copy.write("".join(f"{text}{history}" for text in lines[start : start + COPY_CHUNK]))


def _copy_leads(
    creates: list[list],
    campaigns: dict[str, int],
    user: UserLike,
    reason: str,
    now: Any,
    owners: list[int | None],
) -> None:
    """The new leads (clean rows as `ImportPlan.creates` holds them) by COPY."""
    escapes = COPY_ESCAPES
    stamp = now.isoformat()
    status = LeadStatus.NEW.value

    def line(row: tuple[str, list]) -> str:
        owner, (_number, first_name, last_name, email, phone, company, campaign, notes, _id, created) = row
        return (
            f"{created or stamp}\t{stamp}\t{first_name.translate(escapes)}"
            f"\t{(last_name or '').translate(escapes)}\t{(email or '').translate(escapes)}"
            f"\t{(phone or '').translate(escapes)}\t{(company or '').translate(escapes)}"
            f"\t{campaigns[campaign.casefold()]}\t{status}\t{owner}"
            f"\t{(notes or '').translate(escapes)}\t\\N"
        )

    owner_cells = ["\\N" if owner is None else str(owner) for owner in owners]
    rows = list(zip(owner_cells, creates, strict=True))
    _copy_with_history(Lead, LEAD_COPY_FIELDS, rows, line, user, reason, now)


def _write_services(plan: ImportPlan, user: UserLike, reason: str) -> None:
    def apply(service: Service, row: list) -> None:
        _number, name, description, price, is_active = row
        service.name = name
        service.description = _given(description, service.description)
        service.price = Decimal(price)
        service.is_active = _given(is_active, service.is_active)

    _update_with_history(Service, plan, ["name", "description", "price", "is_active"], apply, user, reason)
    objects = [
        Service(
            name=name,
            description=description or "",
            price=Decimal(price),
            is_active=True if is_active is None else is_active,
        )
        for _number, name, description, price, is_active in plan.creates
    ]
    bulk_create_with_history(
        objects, Service, batch_size=BATCH, default_user=user, default_change_reason=reason
    )


def _write_campaigns(plan: ImportPlan, user: UserLike, reason: str) -> None:
    services = plan.references

    def apply(campaign: Campaign, row: list) -> None:
        _number, name, service, channel, budget, start_date, end_date = row
        campaign.name = name
        campaign.service_id = services[service.casefold()]
        campaign.channel = channel
        campaign.budget = Decimal(budget)
        campaign.start_date = start_date
        campaign.end_date = end_date

    fields = ["name", "service", "channel", "budget", "start_date", "end_date"]
    _update_with_history(Campaign, plan, fields, apply, user, reason)
    objects = [
        Campaign(
            name=name,
            service_id=services[service.casefold()],
            channel=channel,
            budget=Decimal(budget),
            start_date=start_date,
            end_date=end_date,
        )
        for _number, name, service, channel, budget, start_date, end_date in plan.creates
    ]
    bulk_create_with_history(
        objects, Campaign, batch_size=BATCH, default_user=user, default_change_reason=reason
    )


def _write_spend(plan: ImportPlan, user: UserLike, reason: str) -> None:
    campaigns = plan.references

    def apply(spend: AdSpend, row: list) -> None:
        spend.amount = Decimal(row[3])

    _update_with_history(AdSpend, plan, ["amount"], apply, user, reason)
    if not plan.creates:
        return
    now = timezone.now()
    if connection.vendor == "postgresql":
        stamp = now.isoformat()

        def line(row: list) -> str:
            _number, day, campaign, amount, source = row
            return (
                f"{stamp}\t{stamp}\t{campaigns[campaign.casefold()]}\t{day}\t{Decimal(amount)}"
                f"\t{(source or '').translate(COPY_ESCAPES)}"
            )

        _copy_with_history(AdSpend, SPEND_COPY_FIELDS, plan.creates, line, user, reason, now)
        return
    objects = [
        AdSpend(
            campaign_id=campaigns[campaign.casefold()],
            date=day,
            amount=Decimal(amount),
            source=source or "",
            created_at=now,
            updated_at=now,
        )
        for _number, day, campaign, amount, source in plan.creates
    ]
    bulk_create_with_history(
        objects, AdSpend, batch_size=BATCH, default_user=user, default_change_reason=reason, default_date=now
    )


def import_error_message(plan: ImportPlan) -> str:
    return gettext("%(count)s row(s) have errors.") % {"count": plan.counts["errors"]}
