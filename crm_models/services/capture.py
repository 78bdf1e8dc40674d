"""Leads that arrive by themselves through web forms (issue 21).

A request that reached a form is first stored as a `CaptureSubmission`
(`capture_receive`), then processed in one transaction (`capture_process`):
validated, matched against the leads already known by normalized e-mail or
phone, and turned into a new lead or a note on the known person's timeline.
Processing that fails leaves the submission stored as `failed`, to be retried
(`capture_retry`) once the cause is fixed: nothing a site sent is lost.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.html import strip_tags
from django.utils.translation import gettext_lazy as _
from django.utils.translation import override

from crm_models.capture_models import (
    CAPTURE_FIELDS,
    UTM_FIELDS,
    CaptureOutcome,
    CaptureSubmission,
    LeadForm,
)
from crm_models.models import Campaign, Interaction, InteractionKind, Lead, LeadSource
from crm_models.normalization import normalize_email, normalize_phone
from crm_models.services.assignment import lead_assign_on_arrival
from crm_models.services.followups import follow_up_first_call

logger = logging.getLogger(__name__)

REQUIRED_MESSAGE = _("This field is required.")
NEED_CONTACT_MESSAGE = _("Give an e-mail or a phone number.")
BAD_EMAIL_MESSAGE = _("Enter a valid e-mail address.")
TOO_LONG_MESSAGE = _("At most %(limit)s characters are allowed.")
NO_MARKUP_MESSAGE = _("The characters < and > are not allowed here.")
NOT_TEXT_MESSAGE = _("Send this field as text.")
HONEYPOT_MESSAGE = _("Filled in a field meant to stay empty (honeypot).")
FAILED_MESSAGE = _("Processing failed; the request is kept and can be retried.")
NOT_RETRYABLE_MESSAGE = _("Only failed or unprocessed requests can be retried.")
CREATED_SUMMARY = _("New request through the web form “%(form)s”.")
DUPLICATE_SUMMARY = _("Came back through the web form “%(form)s”.")
HISTORY_REASON = _("Web form “%(form)s”")

LIMITS = {"first_name": 100, "last_name": 100, "email": 254, "phone": 40, "comment": 5000}
UTM_LIMIT = 200
NO_ERRORS: dict[str, list[str]] = {}


@dataclass(frozen=True)
class CleanCapture:
    first_name: str
    last_name: str
    email: str
    phone: str
    comment: str
    utm: dict[str, str]


def _text(value: Any) -> str | None:
    """A field's value as text; None when it is not text (a list or an object)."""
    if isinstance(value, list) and len(value) == 1:
        value = value[0]
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None if value is not None else ""
    # Control characters other than line breaks and tabs have no place in a
    # name or a comment, and PostgreSQL refuses NUL.
    return "".join(ch for ch in str(value) if ch in "\n\t" or ch >= " ").strip()


def capture_clean(
    *, form: LeadForm, payload: dict[str, Any]
) -> tuple[CleanCapture | None, dict[str, list[str]]]:
    """The submitted fields checked and normalized, or the errors per field.

    Names may not contain markup; tags are removed from the comment and the
    utm_* values (kept as plain text, which is all the admin shows of them).
    utm_* values are cut at 200 characters rather than refused: a long
    tracking tag must not cost a lead."""
    errors: dict[str, list[str]] = {}
    values: dict[str, str] = {}
    for name in CAPTURE_FIELDS:
        value = _text(payload.get(name))
        if value is None:
            errors[name] = [str(NOT_TEXT_MESSAGE)]
            continue
        if len(value) > LIMITS[name]:
            errors[name] = [str(TOO_LONG_MESSAGE) % {"limit": LIMITS[name]}]
            continue
        values[name] = value
    for name in ("first_name", "last_name"):
        if name in values and ("<" in values[name] or ">" in values[name]):
            errors[name] = [str(NO_MARKUP_MESSAGE)]
    if "comment" in values:
        values["comment"] = strip_tags(values["comment"]).strip()
    email = normalize_email(values.get("email", ""))
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors["email"] = [str(BAD_EMAIL_MESSAGE)]
    phone = ""
    if values.get("phone"):
        try:
            phone = normalize_phone(values["phone"])
        except ValidationError as error:
            errors["phone"] = [str(message) for message in error.messages]
    for name in form.required_fields:
        if name in CAPTURE_FIELDS and not values.get(name) and name not in errors:
            errors[name] = [str(REQUIRED_MESSAGE)]
    if not email and not phone and "email" not in errors and "phone" not in errors:
        errors.setdefault("email", []).append(str(NEED_CONTACT_MESSAGE))
    utm = {}
    for name in UTM_FIELDS:
        value = _text(payload.get(name)) or ""
        utm[name] = strip_tags(value).strip()[:UTM_LIMIT]
    if errors:
        return None, errors
    return (
        CleanCapture(
            first_name=values.get("first_name", ""),
            last_name=values.get("last_name", ""),
            email=email,
            phone=phone,
            comment=values.get("comment", ""),
            utm=utm,
        ),
        NO_ERRORS,
    )


def capture_receive(
    *,
    form: LeadForm,
    payload: dict[str, Any],
    client_ip: str | None,
    user_agent: str = "",
    idempotency_key: str = "",
    errors: dict[str, list[str]] | None = None,
    status: int = 400,
) -> tuple[CaptureSubmission, bool]:
    """Store a request that reached `form`, before anything else is done with it.

    Returns (submission, created). With an `idempotency_key` the form has seen
    before, nothing is stored and the earlier submission is returned
    (created False). `errors` stores the request as already rejected (a body
    that could not be read, a refused origin) with the answer `status`."""
    submission = CaptureSubmission(
        form=form,
        payload=payload,
        client_ip=client_ip,
        user_agent=user_agent.replace("\x00", "")[:300],  # PostgreSQL text holds no NUL
        idempotency_key=idempotency_key,
    )
    if errors:
        submission.outcome = CaptureOutcome.REJECTED
        submission.errors = errors
        submission.response_status = status
        submission.processed_at = timezone.now()
    if not idempotency_key:
        submission.save()
        return submission, True
    try:
        with transaction.atomic():
            submission.save()
    except IntegrityError:
        return CaptureSubmission.objects.get(form=form, idempotency_key=idempotency_key), False
    return submission, True


def _find_person(clean: CleanCapture) -> Lead | None:
    """The known lead with this e-mail, else with this phone (locked for the
    update of its latest touch)."""
    condition = Q()
    if clean.email:
        condition |= Q(email=clean.email)
    if clean.phone:
        condition |= Q(phone=clean.phone)
    matches = list(Lead.objects.select_for_update().filter(condition).order_by("id")[:2])
    if len(matches) > 1 and clean.email:
        return next((lead for lead in matches if lead.email == clean.email), matches[0])
    return matches[0] if matches else None


def _campaign_for(clean: CleanCapture, form: LeadForm) -> Campaign:
    """The campaign of `utm_campaign`, else the form's own; with its channel,
    which the assignment rules match on."""
    tag = clean.utm["utm_campaign"].lower()
    if tag:
        found = Campaign.objects.filter(utm_campaign=tag).only("pk", "channel").first()
        if found is not None:
            return found
    return form.campaign


def _summary(template: Any, form: LeadForm, clean: CleanCapture) -> str:
    lines = [str(template) % {"form": form.name}]
    touch = " / ".join(
        clean.utm[name] for name in ("utm_source", "utm_medium", "utm_campaign") if clean.utm[name]
    )
    if touch:
        lines.append(f"UTM: {touch}")
    if clean.comment:
        lines.append(clean.comment)
    return "\n".join(lines)


def _touch(clean: CleanCapture, now: Any) -> dict[str, str]:
    return {**clean.utm, "at": now.isoformat()}


def _reserve_lead_id() -> int | None:
    """The new lead's id from its sequence (PostgreSQL), so that the rows that
    point at it can be written before it (foreign keys are checked at commit)."""
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, 'id'))", [Lead._meta.db_table])
        return cursor.fetchone()[0]


def _note(lead: Lead, template: Any, form: LeadForm, clean: CleanCapture, now: Any) -> None:
    summary = _summary(template, form, clean)
    Interaction.objects.create(lead=lead, kind=InteractionKind.NOTE, happened_at=now, summary=summary)


def _write(submission: CaptureSubmission, clean: CleanCapture) -> CaptureSubmission:
    form = submission.form
    now = timezone.now()
    reason = str(HISTORY_REASON) % {"form": form.name}
    lead = _find_person(clean)
    if lead is None:
        lead = Lead(
            pk=_reserve_lead_id(),
            first_name=clean.first_name or clean.email.split("@")[0] or clean.phone,
            last_name=clean.last_name,
            email=clean.email,
            phone=clean.phone,
            campaign=_campaign_for(clean, form),
            owner_id=form.owner_id,  # type: ignore[misc]  # checked by LeadForm.clean
            source=LeadSource.CAPTURE,
            last_touch=_touch(clean, now),
            last_touch_at=now,
            created_at=now,
            **clean.utm,
        )
        lead._change_reason = reason  # type: ignore[attr-defined]
        # Its owner from the assignment rules (a lead no rule places keeps the
        # form's owner, or stays in the queue), then a first call due within
        # 15 minutes for that owner. The rules stay locked from the choice
        # until the commit, so with a reserved id (PostgreSQL) they are asked
        # last; without one (SQLite) the lead is saved first, with its owner.
        reserved = lead.pk is not None
        if not reserved:
            lead_assign_on_arrival(lead=lead)
            lead.save()
        _note(lead, CREATED_SUMMARY, form, clean, now)
        _finish(submission, CaptureOutcome.CREATED, 201, lead=lead)
        if reserved:
            lead_assign_on_arrival(lead=lead)
        follow_up_first_call(lead=lead)
        # The lead last (PostgreSQL), with its owner and next step, in one
        # statement: its insert updates the dashboards' rollup rows of its day
        # (dashboards/rollups.py), which every other new lead's transaction
        # then waits for until this one commits.
        if lead._state.adding:
            lead.save(force_insert=True)
        return submission
    # A known person: the first touch (utm_* on the lead) stays; only the latest changes.
    lead.last_touch = _touch(clean, now)
    lead.last_touch_at = now
    lead._change_reason = reason  # type: ignore[attr-defined]
    lead.save(update_fields=["last_touch", "last_touch_at", "updated_at"])
    _note(lead, DUPLICATE_SUMMARY, form, clean, now)
    return _finish(submission, CaptureOutcome.DUPLICATE, 200, lead=lead)


def capture_process(*, submission: CaptureSubmission) -> CaptureSubmission:
    """Validate a stored submission and make its lead (or its note on the known
    person's timeline) in one transaction; record the outcome on it.

    Outcomes: created (201), duplicate (200), rejected (400, with the errors
    per field; a filled honeypot is rejected but answered 202 like an accepted
    request, so that bots learn nothing), failed (202: stored, to be retried).
    Never raises for bad input or a failed write."""
    form = submission.form
    submission.attempts += 1
    honeypot = form.honeypot_field
    if honeypot and _text(submission.payload.get(honeypot)):
        return _finish(submission, CaptureOutcome.REJECTED, 202, errors={honeypot: [str(HONEYPOT_MESSAGE)]})
    clean, errors = capture_clean(form=form, payload=submission.payload)
    if clean is None:
        return _finish(submission, CaptureOutcome.REJECTED, 400, errors=errors)
    first_status = submission.response_status
    try:
        # What it writes (the note, the history's reasons) staff read: in the
        # site's language, not the posting visitor's.
        with override(settings.LANGUAGE_CODE):
            try:
                with transaction.atomic():
                    return _write(submission, clean)
            except IntegrityError:
                # The same person posted twice at once and the other request
                # made the lead (the unique e-mail or phone refused this one's):
                # written again from the start, it is found and is a duplicate.
                submission.response_status, submission.lead = first_status, None
                with transaction.atomic():
                    return _write(submission, clean)
    except Exception:
        # Kept, not lost: the admin lists failed requests and retries them.
        logger.exception("Processing web form request %s failed", submission.pk)
        submission.response_status, submission.lead = first_status, None
        return _finish(submission, CaptureOutcome.FAILED, 202, errors={"__all__": [str(FAILED_MESSAGE)]})


def _finish(
    submission: CaptureSubmission,
    outcome: str,
    status: int,
    *,
    lead: Lead | None = None,
    errors: dict[str, list[str]] | None = None,
) -> CaptureSubmission:
    submission.outcome = outcome
    submission.response_status = submission.response_status or status
    submission.errors = errors or {}
    submission.lead = lead
    submission.processed_at = timezone.now()
    submission.save(
        update_fields=["outcome", "response_status", "errors", "lead", "processed_at", "attempts"]
    )
    return submission


class CaptureRetryError(Exception):
    def __init__(self, message: Any) -> None:
        super().__init__(str(message))
        self.message = message


def capture_retry(*, submission: CaptureSubmission) -> CaptureSubmission:
    """Process a failed (or never processed) submission again.

    Raises CaptureRetryError for a submission that already has its outcome."""
    if submission.outcome not in (CaptureOutcome.FAILED, CaptureOutcome.RECEIVED):
        raise CaptureRetryError(NOT_RETRYABLE_MESSAGE)
    return capture_process(submission=submission)
