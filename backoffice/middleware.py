"""Request checks that apply to every view."""

from collections.abc import Callable

from django.core.exceptions import SuspiciousOperation
from django.http import HttpRequest, HttpResponse


class RejectNulBytesMiddleware:
    """A path or query parameter holding a NUL byte (`%00`) gets 400 Bad Request.

    PostgreSQL text cannot hold NUL, so such a value reaching a query (a list
    filter such as `?kind__exact=%00`, an export's filters) ended in a database
    error, a server error for the user. Forms already refuse NUL in their
    fields (Django's ProhibitNullCharactersValidator); query strings reach list
    filters unvalidated.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if "\x00" in request.path:  # e.g. /admin/r/<content type>/%00/: a text key
            raise SuspiciousOperation("NUL byte in the path")
        if "%00" in request.META.get("QUERY_STRING", "") and any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
        ):
            raise SuspiciousOperation("NUL byte in a query parameter")
        return self.get_response(request)
