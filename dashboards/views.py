"""The admin index. Display only: numbers come from crm_models selectors."""

from typing import Any

from django.http import HttpRequest


def dashboard_callback(request: HttpRequest, context: dict[str, Any]) -> dict[str, Any]:
    return context
