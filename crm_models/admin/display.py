"""Small display helpers shared by the model admins."""

from datetime import datetime

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils.formats import localize
from django.utils.html import format_html

from crm_models.models import LeadStatus

STATUS_COLOURS = {
    LeadStatus.NEW: "info",
    LeadStatus.IN_PROGRESS: "warning",
    LeadStatus.QUALIFIED: "primary",
    LeadStatus.CONVERTED: "success",
    LeadStatus.LOST: "danger",
}


def relative_time(value: datetime | None) -> str:
    """'3 days ago', with the exact date and time in the tooltip."""
    if value is None:
        return "—"
    return format_html('<span title="{}">{}</span>', localize(value), naturaltime(value))


def nowrap(text: str) -> str:
    """Keeps a value such as a phone number on one line in a list column."""
    return format_html('<span class="whitespace-nowrap">{}</span>', text)


def money(value: object) -> str:
    if value is None:
        return "—"
    return str(localize(value, use_l10n=True))
