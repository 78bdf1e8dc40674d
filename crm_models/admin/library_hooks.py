"""The private names of the admin's libraries that the CRM relies on, all in
this module; tests/crm_models/test_library_hooks.py fails when a library
renames one or changes its signature."""

from typing import Any

from django.contrib.admin import utils as admin_utils
from django.contrib.admin.templatetags import admin_list
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse


def get_non_gfk_field(opts: Any, name: str) -> models.Field:
    """The model field a list column names, as the admin resolves it (raises
    FieldDoesNotExist or FieldIsAForeignKeyColumnName otherwise)."""
    return admin_utils._get_non_gfk_field(opts, name)  # type: ignore[attr-defined]


def coerce_field_name(name: Any, index: int) -> str:
    """The name of a list column in its CSS class ("field-<name>")."""
    return str(admin_list._coerce_field_name(name, index))  # type: ignore[attr-defined]


class MissingRowIs404Mixin:
    """A change, delete or history URL of a row that does not exist answers
    404, as one outside the user's scope does, so the two cannot be told
    apart. Django redirects to the list with "X doesn't exist" from a private
    method, the only place that decides it."""

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponse:
        raise Http404
