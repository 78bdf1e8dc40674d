"""Small display helpers shared by the model admins."""

import functools
from datetime import datetime

from django.contrib.humanize.templatetags.humanize import naturaltime
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.formats import localize
from django.utils.html import format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from crm_models.models import LeadStatus

STATUS_COLOURS = {
    LeadStatus.NEW: "info",
    LeadStatus.IN_PROGRESS: "warning",
    LeadStatus.QUALIFIED: "primary",
    LeadStatus.CONVERTED: "success",
    LeadStatus.LOST: "danger",
}


def status_badge(status: str) -> SafeString:
    """A lead status as unfold's coloured label.

    unfold's `@display(label=...)` renders its label template for every row of a
    list; a status has five values, so each badge is rendered once per language."""
    return _status_badge(status, get_language())


@functools.lru_cache(maxsize=64)
def _status_badge(status: str, language: str | None) -> SafeString:
    if status not in LeadStatus.values:
        return mark_safe("-")
    html = render_to_string(
        "unfold/helpers/display_label.html",
        {
            "label": LeadStatus(status).label,
            "label_type": STATUS_COLOURS[LeadStatus(status)],
            "multiple": False,
        },
    )
    return mark_safe(html)  # noqa: S308 - rendered by the (auto-escaping) template engine


def relative_time(value: datetime | None) -> str:
    """'3 days ago', with the exact date and time in the tooltip."""
    if value is None:
        return "—"
    # The database hands datetimes back in UTC; the tooltip reads in local time.
    return format_html('<span title="{}">{}</span>', localize(timezone.localtime(value)), naturaltime(value))


def nowrap(text: str) -> str:
    """Keeps a value such as a phone number on one line in a list column."""
    return format_html('<span class="whitespace-nowrap">{}</span>', text)


def money(value: object) -> str:
    if value is None:
        return "—"
    return str(localize(value, use_l10n=True))
