import unicodedata
from typing import Any

from django.contrib import admin
from django.db.models import Q
from django.http import HttpRequest
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from crm_models.models import Interaction, Lead
from crm_models.selectors.search import interaction_search_q

from .base import CrmModelAdmin, IndexedSearchMixin
from .display import relative_time
from .filters import ChoicesDropdownFilter, RangeDateTimeFilter

# The summary column's length in the interaction list.
SUMMARY_CHARS = 80


def lead_choices_for_interactions(request: HttpRequest) -> Any:
    return Lead.objects.open_for_interactions(request.user)


@admin.register(Interaction)
class InteractionAdmin(IndexedSearchMixin, CrmModelAdmin):
    list_display = ["happened", "kind", "lead", "short_summary", "author"]
    list_filter = [("kind", ChoicesDropdownFilter), ("happened_at", RangeDateTimeFilter)]
    list_select_related = ["lead", "author"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email", "lead__phone"]
    search_help_text = _("Search by the lead's name, e-mail or phone.")
    autocomplete_fields = ["lead"]
    fields = ["lead", "kind", "happened_at", "summary", "author"]
    readonly_fields = ["author"]
    date_hierarchy = None

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "lead":
            kwargs["queryset"] = lead_choices_for_interactions(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def search_condition(self, term: str, request: HttpRequest) -> Q | None:
        return interaction_search_q(term=term)

    def save_model(self, request: HttpRequest, obj: Interaction, form: Any, change: bool) -> None:
        if not change:
            obj.author = request.user  # type: ignore[assignment]
        super().save_model(request, obj, form, change)

    @admin.display(description=_("when"), ordering="happened_at")
    def happened(self, obj: Interaction) -> str:
        return relative_time(obj.happened_at)

    @admin.display(description=_("summary"))
    def short_summary(self, obj: Interaction) -> str:
        # Truncator's answer, without its character-by-character walk (20 us a
        # row) for a summary that already fits.
        text = unicodedata.normalize("NFC", obj.summary)
        return text if len(text) <= SUMMARY_CHARS else Truncator(text).chars(SUMMARY_CHARS)
