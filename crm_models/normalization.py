"""Normalisation of contact details: the one place the admin form, the importer,
the search box and the demo data all go through, so the same person typed two
ways is recognised as one."""

import re
from collections.abc import Callable
from functools import cache

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

INVALID_PHONE_MESSAGE = _("Enter a valid phone number, e.g. +7 916 123-45-67.")


def normalize_email(value: str | None) -> str:
    """Return the e-mail trimmed and lower-cased ('' for empty input)."""
    return (value or "").strip().lower()


def parse_phone(value: str) -> phonenumbers.PhoneNumber | None:
    try:
        return phonenumbers.parse(value, settings.PHONE_DEFAULT_REGION)
    except phonenumbers.NumberParseException:
        return None


# Most phones typed in Russia are mobiles written one of a few ways: 8 (916) 123-45-67,
# +7 916 123 45 67, 7-916-..., 9161234567. For exactly these shapes (ASCII digits,
# spaces, hyphens and parentheses, "+" only as the first character, 10 or 11 digits as
# below) phonenumbers.parse(text, "RU") always yields country code 7 and the ten digits
# starting with 9 as the national number: no extension, IDD prefix ("810") or national
# prefix ("8") can be read out of them other than the one stripped here. Building that
# number directly skips parse, four fifths of the cost of an import's phone column;
# validity follows phonenumbers' rule over RU's own patterns (below), and the E.164 form
# of +7 with a national number that has no leading zero is "+7" and the ten digits.
# tests/crm_models/test_normalization.py
# checks the shortcut against phonenumbers.parse on a large random sample of shapes.
_RU_PHONE_SHAPE = re.compile(r"\+?[0-9 ()\-]{10,40}", re.ASCII)
_PHONE_PUNCTUATION = str.maketrans("", "", "+ ()-")


def ru_mobile_national_number(text: str) -> str | None:
    """The national number phonenumbers would read from `text` with region RU,
    when `text` is one of the common mobile shapes; None for anything else."""
    if not _RU_PHONE_SHAPE.fullmatch(text):
        return None
    digits = text.translate(_PHONE_PUNCTUATION)
    if len(digits) == 11 and digits[1] == "9" and (digits[0] == "7" or (digits[0] == "8" and text[0] != "+")):
        return digits[1:]
    if len(digits) == 10 and digits[0] == "9" and text[0] != "+":
        return digits
    return None


NUMBER_TYPE_DESCS = (
    "premium_rate",
    "toll_free",
    "shared_cost",
    "voip",
    "personal_number",
    "pager",
    "uan",
    "voicemail",
    "fixed_line",
    "mobile",
)


@cache
def _ru_mobile_validator() -> Callable[[str], bool] | None:
    """phonenumbers.is_valid_number for +7 and a national number starting with 9,
    as one pass over RU's patterns compiled once (phonenumbers looks each pattern
    up again for every number: half the cost of a shortcut phone). Same rule:
    the general pattern and at least one number type's pattern match, each
    within its possible lengths. None (no shortcut) if the metadata no longer
    assigns such numbers to RU by their leading digit."""
    metadata = phonenumbers.PhoneMetadata.metadata_for_region("RU")
    if metadata is None or not metadata.leading_digits or not re.match(metadata.leading_digits, "9"):
        return None
    general_desc = metadata.general_desc
    if general_desc is None or not general_desc.national_number_pattern:
        return None
    names = list(NUMBER_TYPE_DESCS)
    if metadata.same_mobile_and_fixed_line_pattern:
        names.remove("mobile")  # phonenumbers then tries it only as the fixed-line pattern
    general_lengths = frozenset(general_desc.possible_length)
    general = re.compile(general_desc.national_number_pattern).fullmatch
    # Any type will do, so the order is free: mobile first, the usual answer.
    types = [
        (frozenset(desc.possible_length), re.compile(desc.national_number_pattern).fullmatch)
        for desc in (getattr(metadata, name) for name in reversed(names))
        if desc is not None and desc.national_number_pattern
    ]

    def valid(national: str) -> bool:
        length = len(national)
        if (general_lengths and length not in general_lengths) or general(national) is None:
            return False
        for lengths, pattern in types:
            if (not lengths or length in lengths) and pattern(national) is not None:
                return True
        return False

    return valid


def normalize_phone(value: str | None) -> str:
    """Return the phone in E.164 ('+79161234567'); '' for empty input.

    Raises ValidationError when the text is not a valid phone number.
    """
    text = (value or "").strip()
    if not text:
        return ""
    national = ru_mobile_national_number(text) if settings.PHONE_DEFAULT_REGION == "RU" else None
    validator = _ru_mobile_validator() if national is not None else None
    if national is not None and validator is not None:
        if not validator(national):
            raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
        return "+7" + national
    if national is not None:
        number: phonenumbers.PhoneNumber | None = phonenumbers.PhoneNumber(
            country_code=7, national_number=int(national)
        )
    else:
        number = parse_phone(text)
    if number is None or not phonenumbers.is_valid_number(number):
        raise ValidationError(INVALID_PHONE_MESSAGE, code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_search_term(value: str) -> str | None:
    """E.164 form of a search term that looks like a phone, else None.

    Lenient on purpose: a search for a partial or odd number must not fail.
    """
    digits = sum(ch.isdigit() for ch in value)
    if digits < 5:
        return None
    number = parse_phone(value)
    if number is None or not phonenumbers.is_possible_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


# A stored Russian mobile: phonenumbers formats every +7 9XX number as
# "+7 9XX XXX-XX-XX" (tests/crm_models/test_normalization.py compares the two
# over every 9XX block); built directly, a list page's phone column costs a
# tenth of what parsing 50 numbers again did.
_RU_MOBILE_E164 = re.compile(r"\+79[0-9]{9}", re.ASCII)


def format_phone(value: str) -> str:
    """International display form of a stored E.164 phone ('+7 916 123-45-67')."""
    if not value:
        return ""
    if _RU_MOBILE_E164.fullmatch(value):
        return f"{value[:2]} {value[2:5]} {value[5:8]}-{value[8:10]}-{value[10:]}"
    number = parse_phone(value)
    if number is None:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
