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
