"""Form inputs that show amounts and phones the way the lists do: an amount as
the language writes it ("3 000 000,00" in Russian, "3,000,000.00" in English)
and a stored phone in its international form ("+7 916 000-04-18"). Each input
also takes back what it shows, and what people type instead."""

import re
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.utils.formats import get_format, number_format
from unfold.widgets import UnfoldAdminTextInputWidget

from crm_models.models import NEGATIVE_AMOUNT_MESSAGE
from crm_models.normalization import format_phone, normalize_phone

# Spaces people and programs put between digit groups: the plain space, the
# no-break space (Django's Russian separator) and the narrow no-break space
# (what browsers' Intl and spreadsheets write in Russian), and thin spaces.
_GROUP_SPACES = re.compile(r"[ \u00a0\u202f\u2009\u2007]+")


def money_input_text(value: object) -> str:
    """An amount as the active language writes it, grouped, with two decimals
    and no currency: the text a money input shows."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value  # as typed, on a form redrawn after an error
    return number_format(value, decimal_pos=2, use_l10n=True, force_grouping=True)  # type: ignore[arg-type]


def money_input_value(text: str) -> str:
    """The amount typed in the active language's writing as a plain decimal
    string ("3 000 000,00" -> "3000000.00"); also takes the plain form
    ("3000000.00"). A visible group separator (the English comma) counts only
    between groups of three digits, so "3000000,00" in English is refused
    rather than read as 300,000,000. Returns text Decimal() will refuse when
    the input is no amount."""
    decimal_separator = str(get_format("DECIMAL_SEPARATOR"))
    group_separator = str(get_format("THOUSAND_SEPARATOR"))
    compact = _GROUP_SPACES.sub("", text.strip())
    whole, has_fraction, fraction = compact.partition(decimal_separator)
    if group_separator.strip() and group_separator in whole:
        grouped = rf"[+-]?\d{{1,3}}(?:{re.escape(group_separator)}\d{{3}})+"
        if not re.fullmatch(grouped, whole):
            return compact  # refused by DecimalField as "Enter a number."
        whole = whole.replace(group_separator, "")
    return f"{whole}.{fraction}" if has_fraction else whole


class MoneyInput(UnfoldAdminTextInputWidget):
    """A text input (a number input cannot show group separators) that opens
    the numeric keypad on phones."""

    input_type = "text"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"inputmode": "decimal", "autocomplete": "off", **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        return money_input_text(value) or None


class MoneyFormField(forms.DecimalField):
    """Django's DecimalField, localized: shown and read in the user's language."""

    widget = MoneyInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs["localize"] = True
        kwargs.setdefault("widget", MoneyInput)
        # Said plainly, also for the model's own minimum of 0 (ModelForm
        # reports a model validator's error with the form field's message).
        kwargs["error_messages"] = {"min_value": NEGATIVE_AMOUNT_MESSAGE, **kwargs.get("error_messages", {})}
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> Any:
        if isinstance(value, str):
            value = money_input_value(value)
        return super().to_python(value)


_E164 = re.compile(r"\+[1-9][0-9]{6,14}", re.ASCII)


class PhoneInput(UnfoldAdminTextInputWidget):
    input_type = "tel"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        super().__init__(attrs={"autocomplete": "tel", **(attrs or {})})

    def format_value(self, value: Any) -> str | None:
        if isinstance(value, str) and _E164.fullmatch(value):
            return format_phone(value)
        return super().format_value(value)  # as typed, on a form redrawn after an error


class PhoneFormField(forms.CharField):
    """A phone typed any way, cleaned to E.164 (+79160000418); the stored form
    is shown as "+7 916 000-04-18"."""

    widget = PhoneInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("widget", PhoneInput)
        super().__init__(*args, **kwargs)

    def to_python(self, value: Any) -> str:
        return normalize_phone(super().to_python(value))

    def widget_attrs(self, widget: forms.Widget) -> dict[str, Any]:
        # The limit is the stored form's; typed with spaces and brackets a
        # valid number is longer, and the browser would cut it.
        attrs = super().widget_attrs(widget)
        attrs.pop("maxlength", None)
        return attrs

    def has_changed(self, initial: Any, data: Any) -> bool:
        # The shown form of an unchanged phone is not a change.
        try:
            return self.to_python(data) != (initial or "")
        except ValidationError:
            return True
