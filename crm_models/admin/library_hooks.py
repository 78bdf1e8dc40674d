"""The private names of the admin's libraries that the CRM relies on, all in
this module; tests/crm_models/test_library_hooks.py fails when a library
renames one or changes its signature."""

from typing import Any

from django.http import Http404, HttpRequest, HttpResponse


class MissingRowIs404Mixin:
    """A change, delete or history URL of a row that does not exist answers
    404, as one outside the user's scope does, so the two cannot be told
    apart. Django redirects to the list with "X doesn't exist" from a private
    method, the only place that decides it."""

    def _get_obj_does_not_exist_redirect(
        self, request: HttpRequest, opts: Any, object_id: str
    ) -> HttpResponse:
        raise Http404
