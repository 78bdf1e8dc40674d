"""The lead's interaction timeline as a feed: every entry read-only with its
kind, author and time, newest first, and a one-line composer above it that
logs a call, an e-mail, a meeting or a note. A logged entry is not edited in
place: a correction is made on the interaction's own page, where its history
keeps what it said before."""

from typing import Any

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.loader import render_to_string
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _
from unfold.decorators import display
from unfold.widgets import UnfoldAdminSelectWidget, UnfoldAdminTextInputWidget

from crm_models.models import Interaction, InteractionKind, Lead
from crm_models.services.interactions import (
    SUMMARY_MAX_CHARS,
    UNKNOWN_KIND_MESSAGE,
    interaction_log,
    interaction_summary_clean,
)
from crm_models.workflow_models import FollowUp

LOG_BUTTON = "_log_interaction"
TIMELINE_LIMIT = 200
KIND_FIELD = "timeline_kind"
SUMMARY_FIELD = "timeline_summary"
LOGGED_MESSAGE = _("Added to the timeline: %(kind)s.")


def timeline_html(lead_id: int, *, composer: bool) -> SafeString:
    interactions = (
        Interaction.objects.filter(lead_id=lead_id).select_related("author").order_by("-happened_at", "-id")
    )
    # Planned steps above what happened, so the feed holds both; a step done
    # is in it as the interaction it recorded.
    planned = (
        FollowUp.objects.open().filter(lead_id=lead_id).select_related("assignee").order_by("due_at", "id")
    )
    return SafeString(
        render_to_string(
            "crm_models/timeline.html",
            {
                "planned": planned[:TIMELINE_LIMIT],
                "interactions": interactions[:TIMELINE_LIMIT],
                "composer": composer,
                "log_button": LOG_BUTTON,
                "limit": TIMELINE_LIMIT,
            },
        )
    )


def composer_form(base: type[forms.ModelForm]) -> type[forms.ModelForm]:
    """The lead's form with the composer's two fields (not model fields)."""

    class TimelineComposerForm(base):  # type: ignore[valid-type, misc]
        timeline_kind = forms.ChoiceField(
            label=_("Kind"),
            choices=InteractionKind.choices,
            initial=InteractionKind.CALL,
            # Only needed with a summary: a save of the lead alone posts none.
            required=False,
            widget=UnfoldAdminSelectWidget,
        )
        timeline_summary = forms.CharField(
            label=_("What happened"),
            required=False,
            max_length=SUMMARY_MAX_CHARS,
            widget=UnfoldAdminTextInputWidget(
                attrs={"placeholder": _("E.g. called back, wants a quote by Friday")}
            ),
        )

        def clean_timeline_summary(self) -> str:
            summary = self.cleaned_data.get("timeline_summary", "")
            if not summary.strip():
                if LOG_BUTTON in self.data:
                    raise ValidationError(_("Write what happened."), code="required")
                return ""
            return interaction_summary_clean(summary)

        def clean(self) -> dict[str, Any]:
            cleaned = super().clean()
            if cleaned.get(SUMMARY_FIELD) and not cleaned.get(KIND_FIELD):
                self.add_error(KIND_FIELD, ValidationError(UNKNOWN_KIND_MESSAGE, code="required"))
            return cleaned

    return TimelineComposerForm


class LeadTimelineMixin:
    """For LeadAdmin: the timeline tab and its composer."""

    timeline_title = _("Interaction timeline")

    def can_log_interactions(self, request: HttpRequest, obj: Lead | None) -> bool:
        # On the change page only: not on a history version being reverted.
        match = request.resolver_match
        return (
            obj is not None
            and match is not None
            and (match.url_name or "").endswith("_change")
            and self.has_change_permission(request, obj)  # type: ignore[attr-defined]
            and request.user.has_perm("crm_models.add_interaction")
            and Lead.objects.open_for_interactions(request.user).filter(pk=obj.pk).exists()
        )

    def get_fieldsets(self, request: HttpRequest, obj: Lead | None = None) -> list:
        fieldsets = list(super().get_fieldsets(request, obj))  # type: ignore[misc]
        if obj is None or not Lead.objects.open_for_interactions(request.user).filter(pk=obj.pk).exists():
            return fieldsets
        fields: list = ["timeline"]
        if self.can_log_interactions(request, obj):
            fields = [(KIND_FIELD, SUMMARY_FIELD), "timeline_with_composer"]
        return [*fieldsets, (self.timeline_title, {"fields": fields, "classes": ["tab"]})]

    def get_readonly_fields(self, request: HttpRequest, obj: Lead | None = None) -> list:
        readonly = list(super().get_readonly_fields(request, obj))  # type: ignore[misc]
        return [*readonly, "timeline", "timeline_with_composer"]

    def get_form(
        self, request: HttpRequest, obj: Lead | None = None, change: bool = False, **kwargs: Any
    ) -> Any:
        if self.can_log_interactions(request, obj):
            kwargs["form"] = composer_form(kwargs.get("form", self.form))  # type: ignore[attr-defined, arg-type]
        return super().get_form(request, obj, change, **kwargs)  # type: ignore[misc]

    @display(description=_("interactions"))
    def timeline(self, obj: Lead) -> SafeString:
        return timeline_html(obj.pk, composer=False)

    @display(description=_("interactions"))
    def timeline_with_composer(self, obj: Lead) -> SafeString:
        return timeline_html(obj.pk, composer=True)

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        super().save_related(request, form, formsets, change)  # type: ignore[misc]
        summary = form.cleaned_data.get(SUMMARY_FIELD)
        if not summary:
            return
        try:
            interaction = interaction_log(
                lead=form.instance, author=request.user, kind=form.cleaned_data[KIND_FIELD], summary=summary
            )
        except (PermissionDenied, ValidationError) as error:
            self.message_user(request, " ".join(getattr(error, "messages", [str(error)])), messages.ERROR)  # type: ignore[attr-defined]
            return
        request.crm_logged_interaction = interaction  # type: ignore[attr-defined]

    def response_change(self, request: HttpRequest, obj: Lead) -> HttpResponse:
        logged = getattr(request, "crm_logged_interaction", None)
        if LOG_BUTTON in request.POST:
            if logged is not None:
                self.message_user(  # type: ignore[attr-defined]
                    request, LOGGED_MESSAGE % {"kind": logged.get_kind_display().lower()}, messages.SUCCESS
                )
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)  # type: ignore[misc]
