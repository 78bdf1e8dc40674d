"""What a cleaned import file would do to the database: which rows create,
update or skip a record, and which rows cannot be imported and why.

Read-only, so the preview (dry run) and the confirmed import run the very same
checks. Each check costs a constant number of queries, whatever the file's size:
referenced campaigns and services are loaded once, and existing e-mails and
phones are fetched with one array query each.
"""

import datetime
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import connection
from django.utils import formats, timezone
from django.utils.dateparse import parse_datetime
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext
from django.utils.translation import gettext_lazy as _

from crm_models.importing.columns import CleanFile, RowIssue, map_header
from crm_models.importing.reader import Table
from crm_models.models import AdSpend, Campaign, ImportRecord, Lead, Service
from crm_models.normalization import format_phone
from crm_models.roles import UserLike

UNKNOWN_CAMPAIGN_MESSAGE = _("No campaign with this name.")
UNKNOWN_SERVICE_MESSAGE = _("No service with this name.")
UNKNOWN_SPEND_CAMPAIGN_MESSAGE = _("No campaign with this name or utm_campaign.")
DUPLICATE_SPEND_MESSAGE = _("Spend of %(campaign)s on %(date)s (%(source)s) is already recorded: %(amount)s.")
SAME_SPEND_AS_ROW_MESSAGE = _("Same campaign, day and source as row %(row)s.")
SAME_AS_ROW_MESSAGE = _("Same %(what)s as row %(row)s.")
SAME_RECORD_AS_ROW_MESSAGE = _("Row %(row)s already changes this record.")
TWO_LEADS_MESSAGE = _("The e-mail belongs to lead #%(email_lead)s and the phone to lead #%(phone_lead)s.")
OUT_OF_SCOPE_MESSAGE = _(
    "This %(what)s belongs to a lead you may not change: a colleague's lead. Ask an administrator."
)
DUPLICATE_LEAD_MESSAGE = _("Same %(what)s as lead #%(pk)s (%(name)s).")
NO_SUCH_LEAD_MESSAGE = _("No lead #%(pk)s that you may change.")
OTHER_LEAD_MESSAGE = _("This %(what)s belongs to lead #%(other)s, not to lead #%(pk)s.")
DUPLICATE_ID_MESSAGE = _("Lead #%(pk)s (%(name)s), by its ID.")
DUPLICATE_NAME_MESSAGE = _("Same name as %(model)s #%(pk)s (%(name)s).")
EMAIL_WORD = _("e-mail")
PHONE_WORD = _("phone")
NAME_WORD = _("name")

CHUNK = 10_000


@dataclass(frozen=True)
class Duplicate:
    row: int
    message: str
    # The existing record, when it is a lead the importing user may open (linked in the preview).
    lead_id: int | None = None


@dataclass
class ImportPlan:
    kind: str
    duplicate_mode: str
    rows_total: int
    creates: list[list] = field(default_factory=list)
    updates: list[tuple[int, list]] = field(default_factory=list)  # (pk, clean row)
    skipped: list[int] = field(default_factory=list)
    errors: list[RowIssue] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    # Referenced records by case-folded name: campaigns (leads) or services (campaigns).
    references: dict[str, int] = field(default_factory=dict)

    @property
    def counts(self) -> dict[str, int]:
        return {
            "new": len(self.creates),
            "updated": len(self.updates),
            "skipped": len(self.skipped),
            "errors": len({issue.row for issue in self.errors}),
        }


def _chunks(values: list, size: int = CHUNK) -> Iterator[list]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _names_to_ids(queryset: Any) -> dict[str, int]:
    return {name.casefold(): pk for pk, name in queryset.values_list("pk", "name")}


def text_array_literal(values: Iterable[str]) -> str:
    """A PostgreSQL text[] literal, sent as one text parameter: for 100,000
    e-mails psycopg's list adapter took 0.24 s per query, this 0.09 s."""
    values = list(values)
    joined = '","'.join(values)
    if '"' not in joined and "\\" not in joined:
        return '{"' + joined + '"}' if values else "{}"
    return "{" + ",".join('"' + v.replace("\\", "\\\\").replace('"', '\\"') + '"' for v in values) + "}"


def _leads_by(column: str, values: Iterable[str]) -> dict[str, tuple[int, str]]:
    """Existing leads by normalised e-mail or phone: value -> (pk, name)."""
    wanted = sorted({value for value in values if value})
    if not wanted:
        return {}
    table = Lead._meta.db_table
    found: dict[str, tuple[int, str]] = {}
    with connection.cursor() as cursor:
        # One array parameter instead of one placeholder per value; the unique
        # indexes on email and phone make each lookup an index probe. They
        # cover non-empty values only, and for an array of more than 100 values
        # PostgreSQL cannot see that itself, hence `<> ''`.
        if connection.vendor == "postgresql":
            cursor.execute(
                f"SELECT {column}, id, first_name, last_name FROM {table} "  # noqa: S608
                f"WHERE {column} = ANY(%s::text[]) AND {column} <> ''",
                [text_array_literal(wanted)],
            )
            rows = cursor.fetchall()
        else:
            rows = []
            for chunk in _chunks(wanted, 500):
                placeholders = ", ".join(["%s"] * len(chunk))
                cursor.execute(
                    f"SELECT {column}, id, first_name, last_name FROM {table} WHERE {column} IN ({placeholders})",  # noqa: S608
                    chunk,
                )
                rows.extend(cursor.fetchall())
    for value, pk, first_name, last_name in rows:
        found[value] = (pk, f"{first_name} {last_name}".strip())
    return found


def _visible_lead_ids(user: UserLike, pks: set[int]) -> set[int]:
    visible: set[int] = set()
    for chunk in _chunks(sorted(pks)):
        visible.update(Lead.objects.visible_to(user).filter(pk__in=chunk).values_list("pk", flat=True))
    return visible


def _visible_leads_by_id(user: UserLike, pks: set[int]) -> dict[int, tuple[int, str]]:
    found: dict[int, tuple[int, str]] = {}
    for chunk in _chunks(sorted(pks)):
        rows = Lead.objects.visible_to(user).filter(pk__in=chunk).values_list("pk", "first_name", "last_name")
        for pk, first_name, last_name in rows:
            found[pk] = (pk, f"{first_name} {last_name}".strip())
    return found


def import_may_update(*, user: UserLike, kind: str) -> bool:
    """Whether the user's import may update existing records of `kind`: the
    change permission the change form asks for. The rows it may update are the
    ones `visible_to(user)` returns, as in the change form."""
    return bool(user.has_perm(f"{Lead._meta.app_label}.change_{kind}"))


def import_plan_build(*, clean: CleanFile, user: UserLike, duplicate_mode: str) -> ImportPlan:
    """Classify every cleaned row; `clean.errors` (cell errors) are carried over."""
    plan = ImportPlan(
        kind=clean.spec.kind,
        duplicate_mode=duplicate_mode,
        rows_total=len(clean.rows) + len({issue.row for issue in clean.errors}),
        errors=list(clean.errors),
    )
    if clean.spec.kind == ImportRecord.Kind.LEAD:
        _plan_leads(plan, clean, user)
    elif clean.spec.kind == ImportRecord.Kind.SPEND:
        _plan_spend(plan, clean, user)
    elif clean.spec.kind == ImportRecord.Kind.SERVICE:
        _plan_named(plan, clean, user, Service, reference=None)
    else:
        _plan_named(plan, clean, user, Campaign, reference=("service", Service, UNKNOWN_SERVICE_MESSAGE))
    plan.errors.sort(key=lambda issue: issue.row)
    return plan


def _record_duplicate(
    plan: ImportPlan, row: list, pk: int, message: str, *, lead_id: int | None = None
) -> None:
    plan.duplicates.append(Duplicate(row[0], message, lead_id))
    if plan.duplicate_mode == ImportRecord.DuplicateMode.UPDATE:
        plan.updates.append((pk, row))
    else:
        plan.skipped.append(row[0])


def _plan_leads(plan: ImportPlan, clean: CleanFile, user: UserLike) -> None:
    headers = clean.headers
    plan.references = _names_to_ids(Campaign.objects.visible_to(user))
    # Row layout: [row, first_name, last_name, email, phone, company, campaign, notes, id]
    by_id = _visible_leads_by_id(user, {row[8] for row in clean.rows if row[8] is not None})
    by_email = _leads_by("email", (row[3] for row in clean.rows))
    by_phone = _leads_by("phone", (row[4] for row in clean.rows))
    matched = {pk for pk, _name in by_email.values()} | {pk for pk, _name in by_phone.values()}
    visible = _visible_lead_ids(user, matched) if matched else set()
    seen_email: dict[str, int] = {}
    seen_phone: dict[str, int] = {}
    seen_lead: dict[int, int] = {}
    email_word, phone_word = str(EMAIL_WORD), str(PHONE_WORD)
    references = plan.references
    for row in clean.rows:
        number, email, phone, campaign = row[0], row[3], row[4], row[6]
        issues: list[RowIssue] = []
        if campaign.casefold() not in references:
            issues.append(RowIssue(number, headers["campaign"], campaign, str(UNKNOWN_CAMPAIGN_MESSAGE)))
        for value, seen, word, column in (
            (email, seen_email, email_word, "email"),
            (phone, seen_phone, phone_word, "phone"),
        ):
            if not value:
                continue
            if value in seen:
                what = {"what": word, "row": seen[value]}
                issues.append(RowIssue(number, headers[column], value, SAME_AS_ROW_MESSAGE % what))
            else:
                seen[value] = number
        email_match = by_email.get(email) if email else None
        phone_match = by_phone.get(phone) if phone else None
        match = email_match or phone_match
        lead_id = row[8]
        if lead_id is not None:
            # The ID decides which lead the row updates; out-of-scope and missing
            # leads get the same message, so the file cannot probe for rows.
            match = by_id.get(lead_id)
            if match is None:
                issues.append(
                    RowIssue(number, headers["id"], str(lead_id), NO_SUCH_LEAD_MESSAGE % {"pk": lead_id})
                )
            for found, column, value, word in (
                (email_match, "email", email, email_word),
                (phone_match, "phone", phone, phone_word),
            ):
                if match is not None and found and found[0] != lead_id:
                    issues.append(
                        RowIssue(
                            number,
                            headers[column],
                            value,
                            OTHER_LEAD_MESSAGE % {"what": word, "other": found[0], "pk": lead_id},
                        )
                    )
            if match is not None and match[0] in seen_lead and not issues:
                issues.append(
                    RowIssue(
                        number,
                        headers["id"],
                        str(lead_id),
                        SAME_RECORD_AS_ROW_MESSAGE % {"row": seen_lead[match[0]]},
                    )
                )
        elif email_match and phone_match and email_match[0] != phone_match[0]:
            issues.append(
                RowIssue(
                    number,
                    headers["email"],
                    email,
                    TWO_LEADS_MESSAGE % {"email_lead": email_match[0], "phone_lead": phone_match[0]},
                )
            )
        elif match and match[0] not in visible:
            column, value, word = (
                ("email", email, email_word) if email_match else ("phone", phone, phone_word)
            )
            issues.append(RowIssue(number, headers[column], value, OUT_OF_SCOPE_MESSAGE % {"what": word}))
        elif match and match[0] in seen_lead:
            column, value = ("email", email) if email_match else ("phone", phone)
            issues.append(
                RowIssue(
                    number, headers[column], value, SAME_RECORD_AS_ROW_MESSAGE % {"row": seen_lead[match[0]]}
                )
            )
        if issues:
            plan.errors.extend(issues)
            continue
        if match:
            seen_lead[match[0]] = number
            if lead_id is not None:
                message = DUPLICATE_ID_MESSAGE % {"pk": match[0], "name": match[1]}
            else:
                word = email_word if email_match else phone_word
                message = DUPLICATE_LEAD_MESSAGE % {"what": word, "pk": match[0], "name": match[1]}
            # Only visible leads get here: an out-of-scope match is a row error.
            _record_duplicate(plan, row, match[0], message, lead_id=match[0])
        else:
            plan.creates.append(row)


def _plan_named(
    plan: ImportPlan,
    clean: CleanFile,
    user: UserLike,
    model: type[Service] | type[Campaign],
    reference: tuple[str, type[Service], Any] | None,
) -> None:
    """Services and campaigns: a record is identified by its name (any case)."""
    headers = clean.headers
    existing = {
        name.casefold(): (pk, name)
        for pk, name in model.objects.visible_to(user).values_list("pk", "name")  # type: ignore[attr-defined]
    }
    if reference is not None:
        plan.references = _names_to_ids(reference[1].objects.visible_to(user))
    seen: dict[str, int] = {}
    name_word = str(NAME_WORD)
    for row in clean.rows:
        number, name = row[0], row[1]
        key = name.casefold()
        issues: list[RowIssue] = []
        if reference is not None:
            referenced = row[2]
            if referenced.casefold() not in plan.references:
                issues.append(RowIssue(number, headers[reference[0]], referenced, str(reference[2])))
        if key in seen:
            issues.append(
                RowIssue(
                    number, headers["name"], name, SAME_AS_ROW_MESSAGE % {"what": name_word, "row": seen[key]}
                )
            )
        else:
            seen[key] = number
        if issues:
            plan.errors.extend(issues)
        elif key in existing:
            pk, current = existing[key]
            message = DUPLICATE_NAME_MESSAGE % {"model": model._meta.verbose_name, "pk": pk, "name": current}
            _record_duplicate(plan, row, pk, message)
        else:
            plan.creates.append(row)


def _plan_spend(plan: ImportPlan, clean: CleanFile, user: UserLike) -> None:
    """Spend rows: a campaign named by its name or its utm_campaign (any case);
    a row is identified by campaign, day and source."""
    headers = clean.headers
    references: dict[str, int] = {}
    names: dict[int, str] = {}
    for pk, name, tag in Campaign.objects.visible_to(user).values_list("pk", "name", "utm_campaign"):
        names[pk] = name
        references[name.casefold()] = pk
        if tag:
            references.setdefault(tag.casefold(), pk)
    plan.references = references
    # Row layout: [row, date, campaign, amount, source]
    wanted = {references.get(row[2].casefold()) for row in clean.rows} - {None}
    existing: dict[tuple[int, str, str], tuple[int, Any]] = {}
    if wanted and clean.rows:
        days = [row[1] for row in clean.rows]
        spend = AdSpend.objects.filter(campaign_id__in=wanted, date__gte=min(days), date__lte=max(days))
        for pk, campaign_id, day, source, amount in spend.values_list(
            "pk", "campaign_id", "date", "source", "amount"
        ):
            existing[(campaign_id, day.isoformat(), source)] = (pk, amount)
    seen: dict[tuple[int, str, str], int] = {}
    for row in clean.rows:
        number, day, campaign, amount, source = row
        campaign_id = references.get(campaign.casefold())
        if campaign_id is None:
            plan.errors.append(
                RowIssue(number, headers["campaign"], campaign, str(UNKNOWN_SPEND_CAMPAIGN_MESSAGE))
            )
            continue
        key = (campaign_id, day, source or "")
        if key in seen:
            plan.errors.append(
                RowIssue(number, headers["date"], day, SAME_SPEND_AS_ROW_MESSAGE % {"row": seen[key]})
            )
            continue
        seen[key] = number
        if key in existing:
            pk, current = existing[key]
            message = DUPLICATE_SPEND_MESSAGE % {
                "campaign": names[campaign_id],
                "date": day,
                "source": source or "—",
                "amount": current,
            }
            _record_duplicate(plan, row, pk, message)
        else:
            plan.creates.append(row)


def row_messages(issues: Iterable[RowIssue]) -> dict[int, str]:
    """Per spreadsheet row, its errors in one line ("Column: message; ...")."""
    messages: dict[int, list[str]] = {}
    for issue in issues:
        messages.setdefault(issue.row, []).append(
            f"{issue.column}: {issue.message}" if issue.column else issue.message
        )
    return {row: "; ".join(texts) for row, texts in messages.items()}


def _field_label(model: Any, name: str) -> str:
    if name == "id":
        return "ID"
    return str(capfirst(model._meta.get_field(name).verbose_name))


def _shown(name: str, value: Any) -> str:
    """A cleaned value as the preview shows it: as it will be stored, in the
    user's language."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return gettext("yes") if value else gettext("no")
    if name == "phone":
        return format_phone(value)
    if name == "created_at":
        moment = parse_datetime(value)
        if moment is None:
            return str(value)
        local = timezone.localtime(moment)
        # A file that gives dates only shows dates, not "midnight" on every row.
        return formats.localize(local.date() if local.time() == datetime.time(0) else local)
    if name in ("start_date", "end_date"):
        return formats.localize(datetime.date.fromisoformat(value))
    if name in ("price", "budget"):
        return formats.number_format(Decimal(value), 2, use_l10n=True, force_grouping=True)
    return str(value)


def import_sample_build(*, table: Table, clean: CleanFile, plan: ImportPlan, limit: int) -> dict[str, Any]:
    """The first `limit` rows of the file as the import understood them: per
    file column, the field it fills (or none: ignored); per row, what happens
    to it and each value as it will be stored, or the cell's error."""
    spec = clean.spec
    model = {
        ImportRecord.Kind.LEAD: Lead,
        ImportRecord.Kind.SERVICE: Service,
        ImportRecord.Kind.CAMPAIGN: Campaign,
        ImportRecord.Kind.SPEND: AdSpend,
    }[ImportRecord.Kind(spec.kind)]
    if spec.prepare is not None:
        # The header row as the cleaning found it (an ad report's title lines left out).
        table = spec.prepare(table)
    by_position = {position: name for name, position in map_header(spec, table.header).items()}
    places = {column.name: place for place, column in enumerate(spec.columns, start=1)}
    columns = [
        {
            "header": header,
            "field": _field_label(model, by_position[position]) if position in by_position else "",
        }
        for position, header in enumerate(table.header)
    ]
    first = table.rows[:limit]
    numbers = {number for number, _cells in first}
    clean_rows = {row[0]: row for row in clean.rows if row[0] in numbers}
    issues: dict[int, dict[str, str]] = {}
    for issue in plan.errors:
        if issue.row in numbers:
            issues.setdefault(issue.row, {}).setdefault(issue.column, issue.message)
    duplicates = {
        duplicate.row: duplicate.message for duplicate in plan.duplicates if duplicate.row in numbers
    }
    updated = {row[0] for _pk, row in plan.updates if row[0] in numbers}
    rows = []
    for number, cells in first:
        row_issues = issues.get(number, {})
        clean_row = clean_rows.get(number)
        if row_issues:
            outcome, label = "error", pgettext("import row", "Error")
        elif number in updated:
            outcome, label = "update", pgettext("import row", "Update")
        elif number in duplicates:
            outcome, label = "skip", pgettext("import row", "Skip")
        else:
            outcome, label = "new", pgettext("import row", "New")
        shown = []
        for position, column in enumerate(columns):
            raw = cells[position] if position < len(cells) else ""
            name = by_position.get(position)
            error = row_issues.get(column["header"], "")
            if name is not None and clean_row is not None and not row_issues:
                value = _shown(name, clean_row[places[name]])
            else:
                value = raw
            shown.append({"value": value, "error": error, "ignored": name is None})
        notes = [message for header, message in row_issues.items() if header not in table.header]
        rows.append(
            {
                "number": number,
                "outcome": outcome,
                "label": label,
                "note": "; ".join(notes) or duplicates.get(number, ""),
                "cells": shown,
            }
        )
    return {"columns": columns, "rows": rows, "more": max(len(table.rows) - limit, 0)}
