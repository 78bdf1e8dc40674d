"""Follow-ups in the admin: the scoped list with its filters, and the add and
change forms, whose saves go through crm_models.services.followups (the
reminder time and the lead's next step kept)."""

from datetime import datetime, time, timedelta
from typing import Any

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from unfold.admin import ModelAdmin
from unfold.contrib.filters.admin import DropdownFilter
from unfold.decorators import display

from crm_models.models import InteractionKind, Lead
from crm_models.roles import sees_everything
from crm_models.services.followups import (
    ASSIGNEE_NOT_ALLOWED_MESSAGE,
    NO_ASSIGNEE_MESSAGE,
    PLANNED_KINDS,
    follow_up_default_assignee_id,
    follow_up_delete,
    follow_up_leads_for,
    follow_up_save,
)
from crm_models.workflow_models import FollowUp

from .base import CrmModelAdmin
from .display import relative_time
from .filters import AutocompleteSelectFilter, ChoicesDropdownFilter, RangeDateTimeFilter

NOTE_CHARS = 80
STATE_OPEN = pgettext_lazy("follow-up state", "Open")
STATE_OVERDUE = pgettext_lazy("follow-up state", "Overdue")
STATE_DONE = pgettext_lazy("follow-up state", "Done")


class FollowUpProgressFilter(DropdownFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request: HttpRequest, model_admin: Any) -> list[tuple[str, Any]]:
        return [("open", STATE_OPEN), ("overdue", STATE_OVERDUE), ("done", STATE_DONE)]

    def queryset(self, request: HttpRequest, queryset: QuerySet) -> QuerySet:
        value = self.value()
        if not value:
            return queryset
        if value == "open":
            return queryset.filter(done_at__isnull=True)
        if value == "overdue":
            return queryset.filter(done_at__isnull=True, due_at__lt=timezone.now())
        if value == "done":
            return queryset.filter(done_at__isnull=False)
        return queryset.none()


class FollowUpAdminForm(forms.ModelForm):
    """The assignee may be left empty: the lead's default (its customer's
    account manager, else its owner). Only administrators choose someone else
    than that or themselves."""

    request_user: Any = None

    class Meta:
        model = FollowUp
        fields = ["lead", "kind", "due_at", "assignee", "note"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if "assignee" in self.fields:
            self.fields["assignee"].required = False
            self.fields["assignee"].help_text = _(
                "Empty: the lead's owner, or its customer's account manager."
            )
        kind = self.fields.get("kind")
        if isinstance(kind, forms.ChoiceField):
            kind.choices = [
                (value, label) for value, label in InteractionKind.choices if value in PLANNED_KINDS
            ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        lead: Lead | None = cleaned.get("lead") or (self.instance.lead if self.instance.lead_id else None)
        if lead is None:
            return cleaned
        assignee = cleaned.get("assignee")
        default_id = follow_up_default_assignee_id(lead)
        user = self.request_user
        if assignee is None:
            assignee_id = default_id or (user.pk if sees_everything(user) else None)
            if assignee_id is None:
                self.add_error("assignee", ValidationError(NO_ASSIGNEE_MESSAGE, code="assignee"))
                return cleaned
            cleaned["assignee"] = get_user_model().objects.get(pk=assignee_id)
        elif not sees_everything(user) and assignee.pk not in (default_id, user.pk):
            self.add_error("assignee", ValidationError(ASSIGNEE_NOT_ALLOWED_MESSAGE, code="assignee"))
        return cleaned


@admin.register(FollowUp)
class FollowUpAdmin(CrmModelAdmin):
    form = FollowUpAdminForm
    list_display = ["due", "kind", "lead", "assignee", "short_note", "state"]
    list_display_links = ["due"]
    list_select_related = ["lead", "assignee"]
    search_fields = ["lead__first_name", "lead__last_name", "lead__email", "lead__phone"]
    search_help_text = _("Search by the lead's name, e-mail or phone.")
    autocomplete_fields = ["lead"]
    readonly_fields = ["done_at", "interaction", "created_by", "created_at"]
    fieldsets = [
        (None, {"fields": ["lead", "kind", "due_at", "assignee", "note"]}),
        (_("Completion"), {"fields": ["done_at", "interaction", "created_by", "created_at"]}),
    ]

    def get_list_filter(self, request: HttpRequest) -> list:
        filters: list = [
            FollowUpProgressFilter,
            ("kind", ChoicesDropdownFilter),
            ("due_at", RangeDateTimeFilter),
        ]
        if sees_everything(request.user):
            filters.insert(2, ("assignee", AutocompleteSelectFilter))
        return filters

    def get_form(
        self, request: HttpRequest, obj: FollowUp | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        form = super().get_form(request, obj, change, **kwargs)
        return type(form.__name__, (form,), {"request_user": request.user})

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        initial = super().get_changeform_initial_data(request)
        # Tomorrow at ten, unless the link said otherwise.
        tomorrow = timezone.localdate() + timedelta(days=1)
        initial.setdefault("due_at", timezone.make_aware(datetime.combine(tomorrow, time(10, 0))))
        return initial

    def formfield_for_foreignkey(self, db_field: Any, request: HttpRequest, **kwargs: Any) -> Any:
        if db_field.name == "lead":
            kwargs["queryset"] = follow_up_leads_for(request.user)
        if db_field.name == "assignee":
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True, is_active=True)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_change_permission(self, request: HttpRequest, obj: FollowUp | None = None) -> bool:
        # A step done is on the timeline as an interaction; it is not changed.
        if obj is not None and obj.done_at is not None:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request: HttpRequest, obj: FollowUp, form: Any, change: bool) -> None:
        follow_up_save(
            follow_up=obj,
            user=request.user,
            due_or_assignee_changed=bool({"due_at", "assignee"} & set(form.changed_data)),
        )

    def delete_model(self, request: HttpRequest, obj: FollowUp) -> None:
        follow_up_delete(follow_up=obj)

    @transaction.atomic
    def delete_queryset(self, request: HttpRequest, queryset: QuerySet) -> None:
        for follow_up in queryset:
            follow_up_delete(follow_up=follow_up)

    # Steps keep no simple-history table: the history pages are Django's own
    # (the admin log), the version pages none.
    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None) -> Any:
        self.get_object_or_404(request, object_id)
        return ModelAdmin.history_view(self, request, object_id, extra_context)

    def history_form_view(
        self, request: HttpRequest, object_id: str, version_id: str, extra_context: Any = None
    ) -> HttpResponse:
        raise Http404

    @display(description=_("due"), ordering="due_at")
    def due(self, obj: FollowUp) -> str:
        return relative_time(obj.due_at)

    @display(description=_("note"))
    def short_note(self, obj: FollowUp) -> str:
        return obj.note if len(obj.note) <= NOTE_CHARS else Truncator(obj.note).chars(NOTE_CHARS)

    @display(description=_("state"), label={"done": "success", "overdue": "danger", "open": "info"})
    def state(self, obj: FollowUp) -> tuple[str, str]:
        if obj.done_at is not None:
            return ("done", str(STATE_DONE))
        return ("overdue", str(STATE_OVERDUE)) if obj.is_overdue else ("open", str(STATE_OPEN))
