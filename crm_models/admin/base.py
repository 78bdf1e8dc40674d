"""What every CRM ModelAdmin shares: the role scope on every path the admin
offers (list, change, delete, history, revert, foreign-key choices,
autocomplete) and unfold's look."""

from collections.abc import Sequence
from typing import Any

from django.contrib import messages
from django.contrib.admin import ShowFacets, helpers
from django.contrib.admin.utils import unquote
from django.contrib.admin.widgets import AutocompleteSelect
from django.core.exceptions import PermissionDenied
from django.db import models
from django.db.models import Q, QuerySet
from django.forms.models import BaseInlineFormSet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin
from unfold.admin import ModelAdmin
from unfold.decorators import display

from crm_models.admin.changelist import CappedCountPaginator, CrmChangeList
from crm_models.admin.history import LiveRevertMixin
from crm_models.admin.history_display import ReadableHistoryContextHelper
from crm_models.admin.keys import can_be_key, valid_pk_or_404
from crm_models.admin.library_hooks import MissingRowIs404Mixin
from crm_models.admin.list_rows import row_checkbox
from crm_models.admin.localized_fields import MoneyFormField, MoneyInput
from crm_models.admin.relations import PlainTextRelationsMixin
from crm_models.querysets import ScopedQuerySet
from crm_models.roles import sees_everything


def scoped_related_queryset(model: type[models.Model], request: HttpRequest) -> QuerySet | None:
    """Rows of a related model the user may pick, or None if the model is unscoped."""
    queryset = model._default_manager.all()
    if isinstance(queryset, ScopedQuerySet):
        return queryset.visible_to(request.user)
    return None


class KeyCheckingAutocompleteSelect(AutocompleteSelect):
    """Django's autocomplete widget, without its server error on a posted value
    that cannot be a key ("abc" for an integer key): redrawing the refused form,
    Django looked the value up in the database unchecked. Such a value is left
    out of that lookup; the form still says the choice is not valid."""

    def optgroups(self, name: str, value: Sequence[str], attr: dict[str, Any] | None = None) -> list:
        remote = self.field.remote_field
        target = remote.model._meta.get_field(
            getattr(remote, "field_name", None) or remote.model._meta.pk.name
        )
        return super().optgroups(name, [item for item in value if can_be_key(target, item)], attr)


class CappedInlineFormSet(BaseInlineFormSet):
    """An inline that builds at most NEW_ROWS new rows per save besides the
    parent's own.

    Django builds as many forms as the posted TOTAL_FORMS says, up to 2,000: a
    forged count took 2-6 s to build and redraw. Past the limit the save is
    refused with Django's "Please submit at most N forms"."""

    NEW_ROWS = 50

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # The parent's rows, read once here as the formset reads them anyway.
        self.max_num = self.absolute_max = len(self.get_queryset()) + self.NEW_ROWS


class ScopedAdminMixin(MissingRowIs404Mixin):
    """Applies `Model.objects.visible_to(user)` to every admin path.

    `get_queryset` covers the changelist, change/delete views, actions and
    autocomplete (Django loads objects through it). Foreign-key choices are
    narrowed to the related model's scope, so a POST naming an out-of-scope id
    fails form validation. The history views of django-simple-history are
    overridden because, by default, they load rows without `get_queryset`
    (a version's page and its revert: history.LiveRevertMixin, which loads the
    live record through `get_object_or_404` below).
    """

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        queryset = super().get_queryset(request)  # type: ignore[misc]
        return queryset.visible_to(request.user)

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):  # type: ignore[attr-defined]
            kwargs["widget"] = KeyCheckingAutocompleteSelect(
                db_field,
                self.admin_site,  # type: ignore[attr-defined]
                # select2 copies the select's title onto the combobox it draws,
                # which screen readers otherwise announce without a name.
                attrs={"title": capfirst(db_field.verbose_name)},
                using=kwargs.get("using"),
            )
        if "queryset" not in kwargs:
            scoped = scoped_related_queryset(db_field.remote_field.model, request)
            if scoped is not None:
                kwargs["queryset"] = scoped
        return super().formfield_for_foreignkey(db_field, request, **kwargs)  # type: ignore[misc]

    def get_object_or_404(self, request: HttpRequest, object_id: str) -> models.Model:
        obj = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if obj is None:
            raise Http404
        return obj

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)  # type: ignore[misc]
        if protected:
            # Business data is PROTECTed: say which rows block the delete rather
            # than Django's misleading "you lack permission to delete leads".
            perms_needed = set()
        return deleted, model_count, perms_needed, protected

    def history_view(
        self, request: HttpRequest, object_id: str, extra_context: dict | None = None
    ) -> HttpResponse:
        # Without the model permission: 403, like Django's own change view.
        # Administrators may read the history of deleted rows (simple-history's
        # fallback); everyone else only of rows in their scope (else 404).
        if not self.has_view_or_change_permission(request):  # type: ignore[attr-defined]
            raise PermissionDenied
        valid_pk_or_404(self.model, unquote(object_id))  # type: ignore[attr-defined]
        if not sees_everything(request.user):
            self.get_object_or_404(request, object_id)
        return super().history_view(request, object_id, extra_context)  # type: ignore[misc]

    def get_historical_record_context_helper(self, request: HttpRequest, historical_record: Any) -> Any:
        return ReadableHistoryContextHelper(self.model, historical_record)  # type: ignore[attr-defined]

    def revert_disabled(self, request: HttpRequest, obj: models.Model | None = None) -> bool:
        if obj is not None and not self.has_change_permission(request, obj):  # type: ignore[attr-defined]
            return True
        return super().revert_disabled(request, obj)  # type: ignore[misc]


class IndexedSearchMixin:
    """Search through a condition from selectors/search.py (words of names at
    any word's beginning, phones by any part of their end, e-mails), served by
    the trigram indexes of migration 0013, instead of Django's icontains over
    every search field, which scans the table."""

    def search_condition(self, term: str, request: HttpRequest) -> Q | None:
        """The condition a search term imposes; None leaves the list as it is."""
        raise NotImplementedError

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet, search_term: str
    ) -> tuple[QuerySet, bool]:
        condition = self.search_condition(search_term, request)
        if condition is None:
            return queryset, False
        return queryset.filter(condition), False


class CrmModelAdmin(
    PlainTextRelationsMixin, ScopedAdminMixin, LiveRevertMixin, SimpleHistoryAdmin, ModelAdmin
):
    # Named, not only found by Django's per-app lookup: import-export's list
    # template extends the one set here (the filter chips).
    change_list_template = "admin/crm_models/change_list.html"
    # Amounts in the user's language in the inputs too (admin/localized_fields.py).
    formfield_overrides = {models.DecimalField: {"form_class": MoneyFormField, "widget": MoneyInput}}

    class Media:
        js = ["crm_models/a11y.js"]

    list_per_page = 50
    # A history page lists as many changes as a list page lists rows
    # (simple-history's 100 were half of the page's server time).
    history_list_per_page = 50
    # Counts stop at a thousand rows (admin/changelist.py); Django's extra
    # count of the whole table is not shown.
    show_full_result_count = False
    paginator = CappedCountPaginator
    show_facets = ShowFacets.NEVER
    list_filter_submit = True
    warn_unsaved_form = True
    compressed_fields = True
    # unfold's, its rows built once per column (admin/list_rows.py); the
    # import-export templates extend it too.
    change_list_template = "admin/crm_models/change_list.html"

    def get_changelist(self, request: HttpRequest, **kwargs: Any) -> type[CrmChangeList]:
        return CrmChangeList

    def response_action(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        # Django filters by the posted ids unchecked: "abc" was a server error.
        pk = self.model._meta.pk  # type: ignore[attr-defined]
        if not all(can_be_key(pk, value) for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)):
            self.message_user(
                request, _("The selected rows are not valid; nothing was done."), messages.ERROR
            )
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    @display(description=ModelAdmin.action_checkbox.short_description)
    def action_checkbox(self, obj: models.Model) -> str:
        return row_checkbox(obj.pk)
