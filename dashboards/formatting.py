"""Numbers as people read them in the active language ("12,500.00 ₽" in
English, "12 500,00 ₽" in Russian); undefined values as an em dash."""

from decimal import ROUND_HALF_UP, Decimal
from functools import lru_cache

from django.conf import settings
from django.utils.formats import get_format
from django.utils.translation import get_language, pgettext
from django.utils.translation import gettext as _

UNDEFINED = "—"


@lru_cache(maxsize=16)
def _separators(language: str | None) -> tuple[str, str]:
    return str(get_format("DECIMAL_SEPARATOR", language)), str(get_format("THOUSAND_SEPARATOR", language))


def _number(value: Decimal | int, decimals: int) -> str:
    """Grouped and localised like number_format(..., force_grouping=True), but
    rounding half up (number_format truncates Decimals) and fast enough for a
    report of thousands of cells."""
    rounded = Decimal(value).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP)
    decimal_sep, thousand_sep = _separators(get_language())
    text = f"{rounded:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", decimal_sep).replace("\x00", thousand_sep)


def currency_symbol() -> str:
    return getattr(settings, "CURRENCY_SYMBOL", "₽")


def money(value: Decimal | None, *, decimals: int = 2) -> str:
    if value is None:
        return UNDEFINED
    amount = _number(value, decimals)
    return f"{amount}\u00a0{currency_symbol()}"


def percent(value: Decimal | None) -> str:
    if value is None:
        return UNDEFINED
    return f"{_number(value, 2)}\u00a0%"


def count(value: int) -> str:
    return _number(value, 0)


def change(current: Decimal | int | None, previous: Decimal | int | None) -> tuple[str, str]:
    """The change against the previous period as ("+12.5 %", trend), trend one
    of "up", "down", "flat" or "" when there is nothing to compare with."""
    if current is None or previous is None:
        return UNDEFINED, ""
    if previous == 0:
        if current == 0:
            return _("no change"), "flat"
        # Context: "new" is also the import record's count of created rows, worded differently.
        return pgettext("change against a previous period of zero", "new"), "up"
    ratio = (Decimal(current) - Decimal(previous)) * 100 / abs(Decimal(previous))
    text = _number(ratio, 1)
    if ratio > 0:
        return f"+{text}\u00a0%", "up"
    if ratio < 0:
        return f"{text}\u00a0%", "down"
    return _("no change"), "flat"


def points_change(current: Decimal | None, previous: Decimal | None) -> tuple[str, str]:
    """Change of a percentage (conversion, ROI) in percentage points."""
    if current is None or previous is None:
        return UNDEFINED, ""
    delta = current - previous
    text = _number(delta, 1)
    if delta > 0:
        return _("+%(points)s pp") % {"points": text}, "up"
    if delta < 0:
        return _("%(points)s pp") % {"points": text}, "down"
    return _("no change"), "flat"
