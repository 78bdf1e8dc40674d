"""Owners in the admin: the assignment rules and lost reasons, an operator
taking leads from the queue, an administrator assigning leads, and the
import's choice of who owns the new rows. The writes are the services' in
crm_models/services/assignment.py."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from unfold.admin import ModelAdmin, TabularInline
from unfold.decorators import action as unfold_action
from unfold.decorators import display
from unfold.widgets import UnfoldAdminRadioSelectWidget, UnfoldAdminSelectWidget

from crm_models.models import AssignmentRule, AssignmentRuleMember, Lead, LostReason
from crm_models.roles import Role, has_role, sees_everything
from crm_models.services.assignment import (
    FORGED_OWNER_MESSAGE,
    ImportOwnership,
    LeadTakenError,
    OwnerChoice,
    active_operators,
    assignment_owner_for,
    lead_take,
    leads_assign_by_rules,
    leads_assign_to,
    leads_take,
    operators_phrase,
    owner_choices_for,
    user_display_name,
)

from .base import CappedInlineFormSet, CrmModelAdmin, ScopedAdminMixin
from .keys import can_be_key, valid_pk_or_404

# --- the import form's choice of owner -------------------------------------

CHOOSE_OPERATOR_MESSAGE = _("Choose the operator who gets the new leads.")
NOT_OPERATOR_CHOICE_MESSAGE = _("Choose one of the active operators.")


def ownership_fields_add(form: forms.Form, user: Any) -> None:
    """Add "who owns the new rows" to a lead import's upload form."""
    choices = owner_choices_for(user)
    form.fields["owner_choice"] = forms.ChoiceField(
        label=_("New leads go to"),
        choices=choices,
        initial=OwnerChoice.MINE if has_role(user, Role.OPERATOR) else OwnerChoice.RULES,
        required=False,
        widget=UnfoldAdminRadioSelectWidget,
        error_messages={"invalid_choice": FORGED_OWNER_MESSAGE},
    )
    if any(value == OwnerChoice.OPERATOR for value, _label in choices):
        form.fields["owner"] = forms.ModelChoiceField(
            label=_("Operator"),
            queryset=active_operators(),
            required=False,
            widget=UnfoldAdminSelectWidget,
            help_text=_("When the new leads go to an operator you choose."),
            error_messages={"invalid_choice": NOT_OPERATOR_CHOICE_MESSAGE},
        )


def ownership_from_form(form: forms.Form, user: Any) -> ImportOwnership | None:
    """The cleaned choice (None for imports of other records); adds a form
    error and returns None when an operator must be chosen and is not."""
    if "owner_choice" not in form.fields:
        return None
    choice = form.cleaned_data.get("owner_choice") or form.fields["owner_choice"].initial
    if choice == OwnerChoice.OPERATOR:
        owner = form.cleaned_data.get("owner")
        if owner is None:
            form.add_error("owner", CHOOSE_OPERATOR_MESSAGE)
            return None
        return ImportOwnership(choice=choice, owner_id=owner.pk)
    return ImportOwnership(choice=choice)


# --- taking and assigning leads --------------------------------------------


def took_message(count: int) -> str:
    return ngettext("You took %(count)s lead.", "You took %(count)s leads.", count) % {"count": count}


TAKEN_BY_MESSAGE = _("“%(lead)s” was taken by %(user)s a moment earlier.")
TAKEN_ALREADY_MESSAGE = _("“%(lead)s” already has an owner.")
NOT_IN_QUEUE_MESSAGE = _("Only leads of the unassigned queue can be taken; nothing was taken.")
OUT_OF_SCOPE_MESSAGE = _("Some of the selected leads are not yours to assign; nothing was assigned.")


class AssignForm(forms.Form):
    RULES = "rules"
    USER = "user"

    how = forms.ChoiceField(
        label=_("Assign"),
        choices=[(USER, _("To an operator")), (RULES, _("By the assignment rules"))],
        initial=USER,
        widget=UnfoldAdminRadioSelectWidget,
    )
    owner = forms.ModelChoiceField(
        label=_("Operator"),
        queryset=active_operators(),
        required=False,
        widget=UnfoldAdminSelectWidget,
        error_messages={"invalid_choice": NOT_OPERATOR_CHOICE_MESSAGE},
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["owner"].queryset = active_operators()  # type: ignore[attr-defined]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        if cleaned.get("how") == self.USER and cleaned.get("owner") is None and "owner" not in self.errors:
            self.add_error("owner", CHOOSE_OPERATOR_MESSAGE)
        return cleaned


class LeadAssignmentMixin:
    """`take_leads` (operators, unassigned leads only), the lead page's
    "Take" button and `assign_leads` (administrators) for LeadAdmin."""

    assign_template = "admin/crm_models/lead/assign.html"

    def has_take_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return has_role(request.user, Role.OPERATOR) and request.user.has_perm("crm_models.change_lead")

    def has_assign_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return sees_everything(request.user) and request.user.has_perm("crm_models.change_lead")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        if (
            obj is not None
            and obj.owner_id is None
            and has_role(request.user, Role.OPERATOR)
            and not sees_everything(request.user)
            and not has_role(request.user, Role.MANAGER)
        ):
            # An operator reads a lead of the queue; it is theirs to edit once taken.
            return False
        return super().has_change_permission(request, obj)  # type: ignore[misc]

    def get_actions_detail(self, request: HttpRequest, object_id: Any) -> list:
        actions = super().get_actions_detail(request, object_id)  # type: ignore[misc]
        # The button shows on leads of the queue only (its view answers any lead).
        in_queue = (
            object_id
            and can_be_key(Lead._meta.pk, unquote(str(object_id)))  # type: ignore[arg-type]
            and Lead.objects.filter(pk=unquote(str(object_id)), owner__isnull=True).exists()
        )
        if object_id and not in_queue:
            actions = [action for action in actions if not action.action_name.endswith("_take_lead_detail")]
        return actions

    def _changelist_url(self, request: HttpRequest) -> str:
        url = reverse("admin:crm_models_lead_changelist", current_app=self.admin_site.name)  # type: ignore[attr-defined]
        return f"{url}?{request.GET.urlencode()}" if request.GET else url

    def _report_take(self, request: HttpRequest, taken: int, lost_to: dict[int, str]) -> None:
        if taken:
            self.message_user(request, took_message(taken), messages.SUCCESS)  # type: ignore[attr-defined]
        names = {
            pk: f"{first} {last}".strip()
            for pk, first, last in Lead.objects.filter(pk__in=lost_to).values_list(
                "pk", "first_name", "last_name"
            )
        }
        for pk, owner in lost_to.items():
            lead = names.get(pk) or f"#{pk}"
            text = (
                TAKEN_BY_MESSAGE % {"lead": lead, "user": owner}
                if owner
                else TAKEN_ALREADY_MESSAGE % {"lead": lead}
            )
            self.message_user(request, text, messages.WARNING)  # type: ignore[attr-defined]

    @admin.action(permissions=["take"], description=_("Take the selected leads"))
    def take_leads(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        if request.POST.get("select_across") == "1":
            wanted = list(queryset.filter(owner__isnull=True).values_list("pk", flat=True))
        else:
            # The posted ids, not only those still in sight: a lead a colleague
            # took a moment ago has left this operator's list, and they are told who took it.
            wanted = sorted({int(pk) for pk in request.POST.getlist(ACTION_CHECKBOX_NAME)})
        report = leads_take(lead_ids=wanted, user=request.user)
        if not report.taken and not report.lost_to:
            self.message_user(request, NOT_IN_QUEUE_MESSAGE, messages.ERROR)  # type: ignore[attr-defined]
            return None
        self._report_take(request, len(report.taken), report.lost_to)
        return None

    @unfold_action(
        description=_("Take"),
        permissions=["take"],
        url_path="take",
        icon="front_hand",
        attrs={"data-crm-post": "take"},
    )
    def take_lead_detail(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The lead page's button: a POST takes the lead (the button posts
        through crm_models/js/post_action.js); a GET (without scripts) asks
        first."""
        lead = self.get_object(request, unquote(object_id))  # type: ignore[attr-defined]
        if request.method != "POST":
            if lead is None:
                raise Http404
            request.current_app = self.admin_site.name  # type: ignore[attr-defined]
            context = {
                **self.admin_site.each_context(request),  # type: ignore[attr-defined]
                "title": _("Take “%(lead)s”") % {"lead": lead.full_name},
                "opts": self.opts,  # type: ignore[attr-defined]
                "lead": lead,
                "cancel_url": self._change_url(lead.pk),
            }
            return TemplateResponse(request, "admin/crm_models/lead/take.html", context)
        raw_pk = unquote(object_id)
        valid_pk_or_404(Lead, raw_pk)
        pk = lead.pk if lead is not None else int(raw_pk)
        if lead is not None and lead.owner_id is not None:
            self.message_user(request, TAKEN_ALREADY_MESSAGE % {"lead": lead.full_name}, messages.INFO)  # type: ignore[attr-defined]
            return HttpResponseRedirect(self._change_url(lead.pk))
        try:
            lead_take(lead_id=pk, user=request.user)
        except Lead.DoesNotExist:
            raise Http404 from None
        except LeadTakenError as error:
            self._report_take(request, 0, {pk: error.owner_name})
            # A colleague's lead now, out of this operator's sight: back to the list.
            return HttpResponseRedirect(self._changelist_url(request))
        self.message_user(request, took_message(1), messages.SUCCESS)  # type: ignore[attr-defined]
        return HttpResponseRedirect(self._change_url(pk))

    def _change_url(self, pk: int) -> str:
        return reverse(
            "admin:crm_models_lead_change",
            args=[pk],
            current_app=self.admin_site.name,  # type: ignore[attr-defined]
        )

    @admin.action(permissions=["assign"], description=_("Assign the selected leads"))
    def assign_leads(self, request: HttpRequest, queryset: QuerySet) -> HttpResponse | None:
        changelist_url = self._changelist_url(request)
        select_across = request.POST.get("select_across") == "1"
        if not select_across:
            requested = set(request.POST.getlist(ACTION_CHECKBOX_NAME))
            if requested - {str(pk) for pk in queryset.values_list("pk", flat=True)}:
                self.message_user(request, OUT_OF_SCOPE_MESSAGE, messages.ERROR)  # type: ignore[attr-defined]
                return HttpResponseRedirect(changelist_url)
        form = AssignForm(request.POST if "assign" in request.POST else None)
        if "assign" in request.POST and form.is_valid():
            if form.cleaned_data["how"] == AssignForm.RULES:
                report = leads_assign_by_rules(leads=queryset, acting_user=request.user)
                self.message_user(request, rules_message(report), messages.SUCCESS)  # type: ignore[attr-defined]
            else:
                owner = form.cleaned_data["owner"]
                total = queryset.count()
                changed = leads_assign_to(leads=queryset, owner=owner, acting_user=request.user)
                self.message_user(  # type: ignore[attr-defined]
                    request,
                    ngettext(
                        "%(count)s lead now belongs to %(user)s (%(changed)s changed owner).",
                        "%(count)s leads now belong to %(user)s (%(changed)s changed owner).",
                        total,
                    )
                    % {"count": total, "user": user_display_name(owner), "changed": changed},
                    messages.SUCCESS,
                )
            return HttpResponseRedirect(changelist_url)
        request.current_app = self.admin_site.name  # type: ignore[attr-defined]
        context = {
            **self.admin_site.each_context(request),  # type: ignore[attr-defined]
            "title": _("Assign leads"),
            "opts": self.opts,  # type: ignore[attr-defined]
            "form": form,
            "count": queryset.count(),
            "select_across": select_across,
            "selected": request.POST.getlist(ACTION_CHECKBOX_NAME),
            "index": request.POST.get("index", "0"),
            "cancel_url": changelist_url,
        }
        return TemplateResponse(request, self.assign_template, context)


def rules_message(report: Any) -> str:
    if not report.assigned:
        return str(
            ngettext(
                "No rule could place the %(count)s selected lead; its owner is unchanged.",
                "No rule could place the %(count)s selected leads; their owners are unchanged.",
                report.unplaced,
            )
            % {"count": report.unplaced}
        )
    text = ngettext(
        "%(count)s lead assigned to %(operators)s by the rules",
        "%(count)s leads assigned to %(operators)s by the rules",
        report.assigned,
    ) % {"count": report.assigned, "operators": operators_phrase(report.owners)}
    if report.unplaced:
        text += ngettext(
            "; %(count)s matched no rule with a free member and kept its owner.",
            "; %(count)s matched no rule with a free member and kept their owners.",
            report.unplaced,
        ) % {"count": report.unplaced}
    else:
        text += "."
    return str(text)


# --- rules and lost reasons ------------------------------------------------


class MemberForm(forms.ModelForm):
    class Meta:
        model = AssignmentRuleMember
        fields = ["user"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = active_operators()  # type: ignore[attr-defined]
        self.fields["user"].error_messages["invalid_choice"] = NOT_OPERATOR_CHOICE_MESSAGE


class AssignmentRuleMemberInline(TabularInline):
    model = AssignmentRuleMember
    form = MemberForm
    formset = CappedInlineFormSet
    extra = 1
    fields = ["user", "today_display"]
    readonly_fields = ["today_display"]
    tab = False

    # Members are part of the rule: the rule's permissions decide (as Django
    # does for a many-to-many table of its own making).
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("crm_models.change_assignmentrule")

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("crm_models.change_assignmentrule")

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("crm_models.change_assignmentrule")

    def has_view_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return request.user.has_perm("crm_models.view_assignmentrule") or self.has_change_permission(request)

    @display(description=_("received today"))
    def today_display(self, obj: AssignmentRuleMember) -> int:
        return obj.assigned_count if obj.pk and obj.counted_on == timezone.localdate() else 0


@admin.register(AssignmentRule)
class AssignmentRuleAdmin(CrmModelAdmin):
    list_display = ["name", "position", "is_active", "campaign", "channel", "strategy", "daily_capacity"]
    list_display_links = ["name"]
    list_select_related = ["campaign"]
    ordering = ["position", "id"]
    search_fields = ["name"]
    autocomplete_fields = ["campaign"]
    inlines = [AssignmentRuleMemberInline]
    readonly_fields = ["turns"]
    fields = ["name", "position", "is_active", ("campaign", "channel"), "strategy", "daily_capacity", "turns"]


@admin.register(LostReason)
class LostReasonAdmin(ScopedAdminMixin, ModelAdmin):
    """Reference data without a history table: the history page is Django's
    own (the admin log)."""

    # The name as people read it (the starting reasons translated); the
    # stored name is on the reason's page.
    list_display = ["name_display", "is_active"]
    list_display_links = ["name_display"]
    search_fields = ["name"]
    fields = ["name", "is_active"]
    readonly_fields = ["name_display"]
    list_filter_submit = True

    def get_fields(self, request: HttpRequest, obj: Any = None) -> list:
        if obj is not None and not self.has_change_permission(request, obj):
            # Readers see the name in their language.
            return ["name_display", "is_active"]
        return ["name", "is_active"]

    @display(description=_("shown as"), ordering="name")
    def name_display(self, obj: LostReason) -> str:
        return str(obj)


def lead_add_owner(*, user: Any, campaign_id: int | None) -> int | None:
    """The owner of a lead added on the form with the owner left empty: an
    operator keeps what they add; anyone else's lead goes by the assignment
    rules, or to the queue when no rule places it."""
    if has_role(user, Role.OPERATOR) and not sees_everything(user):
        return user.pk
    if campaign_id is None:
        return None
    return assignment_owner_for(campaign_id=campaign_id)
