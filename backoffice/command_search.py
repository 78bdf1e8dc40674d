"""The command palette (Ctrl+K): find leads, customers, campaigns and services.

unfold's own model search walks every match of every model, which at a million
leads means loading them all; this callback asks each admin's own (scoped,
index-backed) search for the first few matches only.
"""

from django.contrib import admin
from django.db.models import Model
from django.http import HttpRequest
from django.urls import reverse
from unfold.dataclasses import SearchResult

from crm_models.models import Campaign, Customer, Lead, Service

RESULTS_PER_MODEL = 8
SEARCHED: list[tuple[type[Model], str]] = [
    (Lead, "person_search"),
    (Customer, "groups"),
    (Campaign, "campaign"),
    (Service, "design_services"),
]


def command_search(request: HttpRequest, search_term: str) -> list[SearchResult]:
    results: list[SearchResult] = []
    for model, icon in SEARCHED:
        if not admin.site.is_registered(model):
            continue
        model_admin = admin.site.get_model_admin(model)
        if not model_admin.has_view_or_change_permission(request):
            continue
        queryset, _ = model_admin.get_search_results(request, model_admin.get_queryset(request), search_term)
        if isinstance(model_admin.list_select_related, list | tuple):
            queryset = queryset.select_related(*model_admin.list_select_related)
        opts = model._meta
        for obj in queryset[:RESULTS_PER_MODEL]:
            results.append(
                SearchResult(
                    title=str(obj),
                    description=str(opts.verbose_name).capitalize(),
                    link=reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[obj.pk]),
                    icon=icon,
                )
            )
    return results
