"""The phone shortcut for common Russian mobile shapes gives exactly what
phonenumbers gives, over a large random sample of shapes people type (and of
shapes that are invalid or that the shortcut must leave to phonenumbers)."""

import random

import phonenumbers
import pytest
from django.core.exceptions import ValidationError

from crm_models.normalization import (
    INVALID_PHONE_MESSAGE,
    format_phone,
    normalize_phone,
    ru_mobile_national_number,
)

SAMPLE = 40_000
COMMON_SEPARATORS = ["", "", "", " ", " ", "-", "-", "(", ")", " (", ") ", "  "]
SEPARATORS = [
    "",
    "",
    " ",
    " ",
    "-",
    "-",
    "(",
    ")",
    " (",
    ") ",
    "  ",
    ".",
    "/",
    "\t",
    "\u00a0",
    "x",
    "#",
    ",",
    ";",
]
PREFIXES = [
    "",
    "",
    "",
    "+",
    "+7",
    "+7",
    "7",
    "7",
    "8",
    "8",
    "+8",
    "810",
    "8 10",
    "+3",
    "+375",
    "0",
    "00",
    "(",
    "+ ",
]
NOISE = ["", "", "", "", " ", "tel:", "доб. 12", " ext 5", "a", "٣", "９", "+", "++", "*", "~"]


def reference(text: str, region: str = "RU") -> str:
    """normalize_phone as it was before the shortcut: phonenumbers only."""
    text = text.strip()
    if not text:
        return ""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return "invalid"
    if not phonenumbers.is_valid_number(number):
        return "invalid"
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def actual(text: str) -> str:
    try:
        return normalize_phone(text)
    except ValidationError as error:
        return "invalid" if error.messages == [str(INVALID_PHONE_MESSAGE)] else str(error.messages)


def typed(rng: random.Random) -> str:
    """A phone as somebody might type it: a prefix, digit groups with separators, noise.
    Half of them in the shapes of the shortcut (or one character or digit away)."""
    common = rng.random() < 0.5
    separators = COMMON_SEPARATORS if common else SEPARATORS
    prefixes = ["", "", "+7", "7", "8", "+", "+8"] if common else PREFIXES
    digits = (
        rng.choice([9, 10, 10, 10, 11]) if common else rng.choice([7, 9, 10, 10, 10, 10, 11, 11, 12, 13, 14])
    )
    first = rng.choice(["9", "9", "9", "4", "8", "3", "0", "1", "7", str(rng.randint(0, 9))])
    body = first + "".join(rng.choice("0123456789") for _ in range(digits - 1))
    parts = []
    position = 0
    while position < len(body):
        size = rng.randint(1, 4)
        parts.append(body[position : position + size])
        position += size
    text = rng.choice(prefixes) + rng.choice(separators)
    text += "".join(part + rng.choice(separators) for part in parts)
    if rng.random() < 0.15:
        noise = rng.choice(NOISE)
        text = noise + text if rng.random() < 0.5 else text + noise
    if rng.random() < 0.1:
        text = " " * rng.randint(1, 3) + text + " " * rng.randint(0, 3)
    return text


def test_shortcut_gives_what_phonenumbers_gives_on_a_random_sample(settings):
    settings.PHONE_DEFAULT_REGION = "RU"
    rng = random.Random(20261126)
    shortcut = 0
    for _ in range(SAMPLE):
        text = typed(rng)
        expected = reference(text)
        assert actual(text) == expected, text
        national = ru_mobile_national_number(text.strip())
        if national is not None:
            shortcut += 1
            assert phonenumbers.parse(text, "RU") == phonenumbers.PhoneNumber(7, int(national)), text
    assert shortcut > SAMPLE // 20  # the sample exercises the shortcut heavily


def test_shortcut_number_that_is_not_valid(settings):
    """9300000000 has a mobile shape but lies in a gap of the mobile ranges."""
    settings.PHONE_DEFAULT_REGION = "RU"
    assert ru_mobile_national_number("8 930 000 00 00") == "9300000000"
    with pytest.raises(ValidationError) as caught:
        normalize_phone("8 930 000 00 00")
    assert caught.value.messages == [str(INVALID_PHONE_MESSAGE)]
    assert reference("8 930 000 00 00") == "invalid"
    assert normalize_phone("8 930 005 00 00") == reference("8 930 005 00 00") == "+79300050000"


@pytest.mark.parametrize("prefix", [f"9{i:02d}" for i in range(100)])
def test_shortcut_on_every_mobile_prefix(settings, prefix):
    """Every 9XY code, with tails that hit the gaps in the mobile ranges (9300...)."""
    settings.PHONE_DEFAULT_REGION = "RU"
    rng = random.Random(prefix)
    tails = ["0000000", "0005000", "0030000", "0069999", "9999999"]
    tails += [f"{rng.randint(0, 9_999_999):07d}" for _ in range(20)]
    for tail in tails:
        for shape in (f"8 ({prefix}) {tail}", f"+7{prefix}{tail}", f"7-{prefix}-{tail}", f"{prefix}{tail}"):
            assert ru_mobile_national_number(shape) == prefix + tail
            assert actual(shape) == reference(shape), shape


@pytest.mark.parametrize(
    ("text", "national"),
    [
        ("8 (916) 555-12-34", "9165551234"),
        ("+7 916 555 12 34", "9165551234"),
        ("79165551234", "9165551234"),
        ("9165551234", "9165551234"),
        ("+8 916 555 12 34", None),  # a plus before 8 is another country code
        ("+9165551234", None),
        ("8 (495) 555-12-34", None),  # not a mobile shape: left to phonenumbers
        ("8 916 555 12 34 5", None),
        ("(+7) 916 555 12 34", None),  # "+" not first
        ("8 916 555.12.34", None),
        ("8 916 555 12 34 доб. 5", None),
        ("８ ９１６ ５５５ １２ ３４", None),  # full-width digits
    ],
)
def test_shortcut_shapes(text, national):
    assert ru_mobile_national_number(text) == national


def test_shortcut_only_for_region_ru(settings):
    settings.PHONE_DEFAULT_REGION = "KZ"
    rng = random.Random(7)
    for _ in range(2_000):
        text = typed(rng)
        assert actual(text) == reference(text, "KZ"), text


def test_ru_mobile_validity_is_phonenumbers_validity():
    """Every 9XYZ block, with tails at the edges of the ranges and at random."""
    from crm_models.normalization import _ru_mobile_validator

    valid = _ru_mobile_validator()
    assert valid is not None
    rng = random.Random(99)
    verdicts = set()
    for block in range(1000):
        for tail in ("000000", "050000", "999999", f"{rng.randint(0, 999_999):06d}"):
            national = f"9{block:03d}{tail}"
            expected = phonenumbers.is_valid_number(phonenumbers.PhoneNumber(7, int(national)))
            assert valid(national) is expected, national
            verdicts.add(expected)
    assert verdicts == {True, False}


def test_shortcut_without_the_validator_asks_phonenumbers(settings, monkeypatch):
    """Were RU's metadata to stop assigning 9... numbers by leading digit, the
    shortcut's number is validated by phonenumbers itself."""
    from crm_models import normalization

    settings.PHONE_DEFAULT_REGION = "RU"
    monkeypatch.setattr(normalization, "_ru_mobile_validator", lambda: None)
    assert normalize_phone("8 (916) 555-12-34") == "+79165551234"
    with pytest.raises(ValidationError):
        normalize_phone("8 930 000 00 00")


@pytest.mark.parametrize("prefix", [f"9{i:02d}" for i in range(100)])
def test_display_shortcut_formats_every_mobile_prefix_as_phonenumbers_does(prefix):
    rng = random.Random(f"display-{prefix}")
    for tail in ["0000000", "9999999", *(f"{rng.randint(0, 9_999_999):07d}" for _ in range(20))]:
        stored = f"+7{prefix}{tail}"
        expected = phonenumbers.format_number(
            phonenumbers.parse(stored, "RU"), phonenumbers.PhoneNumberFormat.INTERNATIONAL
        )
        assert format_phone(stored) == expected


@pytest.mark.parametrize(
    ("stored", "shown"),
    [
        ("+74951234567", "+7 495 123-45-67"),  # a Moscow landline: phonenumbers' layout
        ("+12025550143", "+1 202-555-0143"),
        ("+7916123456", "+7 916123456"),  # one digit short: not the shortcut
        ("", ""),
    ],
)
def test_display_of_other_numbers_is_phonenumbers(stored, shown):
    assert format_phone(stored) == shown
