"""The private names of Django that crm_models/admin/library_hooks.py relies
on still exist, with the signature it overrides, and are still what Django
calls for a missing row."""

import inspect

from django.contrib.admin import ModelAdmin

from crm_models.admin.library_hooks import MissingRowIs404Mixin


def test_django_still_redirects_a_missing_row_through_the_overridden_method() -> None:
    original = ModelAdmin._get_obj_does_not_exist_redirect  # type: ignore[attr-defined]
    assert list(inspect.signature(original).parameters) == ["self", "request", "opts", "object_id"]
    assert list(inspect.signature(MissingRowIs404Mixin._get_obj_does_not_exist_redirect).parameters) == [
        "self",
        "request",
        "opts",
        "object_id",
    ]
    # The change, delete and history views are the ones that call it.
    assert inspect.getsource(ModelAdmin).count("self._get_obj_does_not_exist_redirect(") == 3


def test_the_admins_column_helpers_still_answer_as_the_list_rows_expect() -> None:
    from django.contrib.admin.utils import FieldIsAForeignKeyColumnName
    from django.core.exceptions import FieldDoesNotExist

    from crm_models.admin.library_hooks import coerce_field_name, get_non_gfk_field
    from crm_models.models import Lead

    assert get_non_gfk_field(Lead._meta, "email") is Lead._meta.get_field("email")
    for name, error in (("campaign_id", FieldIsAForeignKeyColumnName), ("full_name", FieldDoesNotExist)):
        try:
            get_non_gfk_field(Lead._meta, name)
        except error:
            pass
        else:
            raise AssertionError(name)
    assert coerce_field_name("email", 1) == "email"
    assert coerce_field_name(lambda obj: obj, 3) == "lambda3"
