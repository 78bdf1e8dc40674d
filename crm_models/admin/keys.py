"""Checks on keys that reach the admin from URLs and forms."""

from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404


def can_be_key(field: models.Field, value: object) -> bool:
    """Whether a posted value can be a value of `field` (a key): "abc" for an
    integer key cannot, and passed to the database unchecked it was a server
    error (history URLs, action selections, autocomplete choices)."""
    try:
        field.to_python(value)
    except ValidationError:
        return False
    return True


def valid_pk_or_404(model: type[models.Model], value: str) -> None:
    """404 for a primary key that cannot be one: simple-history's views pass it
    to the database unchecked."""
    if not can_be_key(model._meta.pk, value):  # type: ignore[arg-type]
        raise Http404
