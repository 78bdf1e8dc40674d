"""Normalisation of contact details: the one place the admin form, the importer,
the search box and the demo data all go through, so the same person typed two
ways is recognised as one."""

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


def normalize_phone(value: str | None) -> str:
    """Return the phone in E.164 ('+79161234567'); '' for empty input.

    Raises ValidationError when the text is not a valid phone number.
    """
    text = (value or "").strip()
    if not text:
        return ""
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


def format_phone(value: str) -> str:
    """International display form of a stored E.164 phone ('+7 916 123-45-67')."""
    if not value:
        return ""
    number = parse_phone(value)
    if number is None:
        return value
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.INTERNATIONAL)
