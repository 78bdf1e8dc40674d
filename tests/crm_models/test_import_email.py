"""The importer's e-mail check (Django's validator with the domain's verdict
cached) accepts and refuses exactly what Django's `validate_email` does."""

import random

import pytest
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from crm_models.importing.columns import BAD_EMAIL_MESSAGE, CellError, _email_valid, clean_email

USERS = [
    "anna",
    "Anna.Smirnova",
    "a+b",
    "a..b",
    ".a",
    "a.",
    '"a b"',
    "a b",
    "",
    "ж",
    "a@b",
    "x" * 65,
    "o'neil",
]
DOMAINS = [
    "example.ru",
    "Example.RU",
    "пример.рф",
    "xn--e1afmkfd.xn--p1ai",
    "localhost",
    "[127.0.0.1]",
    "[::1]",
    "[300.1.1.1]",
    "example",
    "-example.ru",
    "example-.ru",
    "ex_ample.ru",
    "example..ru",
    "example.r",
    "example.123",
    "a" * 64 + ".ru",
    "a" * 63 + ".ru",
    "",
    "example.ru.",
]


def django_says(email: str) -> bool:
    try:
        validate_email(email)
    except ValidationError:
        return False
    return True


def test_same_verdict_as_django_on_a_random_sample():
    rng = random.Random(5)
    wild, plain = "abcxyz019.-_+@'\" [](),;:жё\t", "abcxyz019.-жё"
    samples = [f"{user}@{domain}" for user in USERS for domain in DOMAINS]
    samples += ["", "@", "a@", "@b.ru", "a@b@c.ru", "a" * 310 + "@example.ru"]
    for _ in range(20_000):
        alphabet = rng.choice([wild, wild, plain])
        user = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8)))
        domain = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) + rng.choice(
            ["", ".ru", ".com"]
        )
        samples.append(f"{user}@{domain}" if rng.random() < 0.8 else user + domain)
    verdicts = {True: 0, False: 0}
    for email in samples:
        expected = django_says(email)
        assert _email_valid(email) is expected, email
        verdicts[expected] += 1
    assert min(verdicts.values()) > 500


def test_clean_email_normalises_and_refuses_with_the_message():
    assert clean_email("  Anna@Example.RU ") == "anna@example.ru"
    with pytest.raises(CellError) as caught:
        clean_email("anna@example")
    assert caught.value.message == BAD_EMAIL_MESSAGE
