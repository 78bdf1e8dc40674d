"""Writes of the interaction timeline."""

from datetime import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_models.models import Interaction, InteractionKind, Lead
from crm_models.roles import UserLike

INTERACTION_NOT_ALLOWED_MESSAGE = _("You may not log interactions on this lead.")
EMPTY_SUMMARY_MESSAGE = _("Write what happened.")
UNKNOWN_KIND_MESSAGE = _("Choose a call, an e-mail, a meeting or a note.")
SUMMARY_MAX_CHARS = 4000
SUMMARY_TOO_LONG_MESSAGE = _("At most %(limit)d characters.")


def interaction_summary_clean(summary: str) -> str:
    """The summary as stored; ValidationError when empty or too long."""
    summary = summary.strip()
    if not summary:
        raise ValidationError(EMPTY_SUMMARY_MESSAGE, code="required")
    if len(summary) > SUMMARY_MAX_CHARS:
        raise ValidationError(
            SUMMARY_TOO_LONG_MESSAGE, code="max_length", params={"limit": SUMMARY_MAX_CHARS}
        )
    return summary


@transaction.atomic
def interaction_log(
    *, lead: Lead, author: UserLike, kind: str, summary: str, happened_at: datetime | None = None
) -> Interaction:
    """Add an entry to the lead's timeline, written by `author`.

    Raises PermissionDenied when the author may not log interactions on the
    lead (the interaction scope), ValidationError for an unknown kind or an
    empty or too long summary; nothing is written then.
    """
    if not author.has_perm("crm_models.add_interaction") or not (
        Lead.objects.open_for_interactions(author).filter(pk=lead.pk).exists()
    ):
        raise PermissionDenied(INTERACTION_NOT_ALLOWED_MESSAGE)
    if kind not in InteractionKind.values:
        raise ValidationError(UNKNOWN_KIND_MESSAGE, code="invalid_choice")
    interaction = Interaction(
        lead=lead,
        kind=kind,
        summary=interaction_summary_clean(summary),
        author=author,
        happened_at=happened_at or timezone.now(),
    )
    interaction.save()
    return interaction
