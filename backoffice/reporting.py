"""Error reports (500 e-mails, logged tracebacks) without customer data."""

from typing import Any

from django.http import HttpRequest
from django.views.debug import SafeExceptionReporterFilter


class CustomerDataReporterFilter(SafeExceptionReporterFilter):
    """Hides every POST value, not only passwords: forms here carry customers'
    names, e-mails, phones and contract amounts. Settings are cleansed as by
    Django's default filter (passwords, keys, secrets, tokens)."""

    def get_post_parameters(self, request: HttpRequest | None) -> Any:
        parameters = super().get_post_parameters(request)
        if not self.is_active(request) or request is None:
            return parameters
        cleansed = parameters.copy()
        for key in cleansed:
            cleansed[key] = self.cleansed_substitute
        return cleansed
