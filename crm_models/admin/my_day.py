""" "My day": the signed-in user's open follow-ups (assignee = them), overdue,
due today and upcoming, each with one-click done and reschedule forms, and the
lead's phone and e-mail as links. Operators and managers land here after
signing in (backoffice.sites.CrmAdminSite.login)."""

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from crm_models.roles import Role, has_role
from crm_models.selectors.followups import my_day
from crm_models.services.followups import Reschedule, follow_up_complete, follow_up_reschedule
from crm_models.workflow_models import FollowUp

VIEW_PERMISSION = "crm_models.view_followup"
NEXT_IN_DAYS = 3
DONE_MESSAGE = gettext_lazy("Done: %(step)s. It is on the lead's timeline.")
DONE_NEXT_MESSAGE = gettext_lazy("Done: %(step)s. Next step planned for %(when)s.")
UNKNOWN_NEXT_MESSAGE = gettext_lazy("The next step can be planned 3 days on; nothing was changed.")
RESCHEDULED_MESSAGE = gettext_lazy("Moved: %(step)s, now due %(when)s.")


def lands_on_my_day(user: Any) -> bool:
    """Operators and managers start their day here rather than on the dashboard."""
    return has_role(user, Role.OPERATOR, Role.MANAGER) and user.has_perm(VIEW_PERMISSION)


def _back(request: HttpRequest) -> HttpResponseRedirect:
    return HttpResponseRedirect(reverse("admin:crm_models_my_day"))


def _when(moment: Any) -> str:
    return date_format(timezone.localtime(moment), "SHORT_DATETIME_FORMAT")


def _sentence(message: Any, **values: str) -> str:
    """The message with its values; one full stop where a time that ends with
    one ("1:34 a.m.") ends the sentence."""
    text = str(message) % values
    return text[:-1] if text.endswith("..") else text


def my_day_view(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm(VIEW_PERMISSION):
        raise PermissionDenied
    context = {
        **admin.site.each_context(request),
        "title": _("My day"),
        "sections": my_day(user=request.user),
        # Translated once here, not three times per row in the template.
        "reschedule_choices": [(value, str(label)) for value, label in Reschedule.CHOICES],
        "next_in_days": NEXT_IN_DAYS,
        # The step's forms post to <my_day_url><id>/done/ and .../reschedule/ (my_day_urls).
        "my_day_url": reverse("admin:crm_models_my_day"),
        # A lead's page is <lead_list_url><id>/change/, as the admin routes it.
        "lead_list_url": reverse("admin:crm_models_lead_changelist"),
        "followup_add_url": reverse("admin:crm_models_followup_add"),
        "followup_list_url": reverse("admin:crm_models_followup_changelist"),
    }
    return TemplateResponse(request, "crm_models/my_day.html", context)


def _step(follow_up: FollowUp) -> str:
    return f"{follow_up.get_kind_display().lower()}, {follow_up.lead}"


def _errors(error: ValidationError | PermissionDenied) -> str:
    return " ".join(str(message) for message in getattr(error, "messages", [str(error)]))


@require_POST
def follow_up_done_view(request: HttpRequest, object_id: str) -> HttpResponse:
    """POST: mark the step done (optionally planning the next one NEXT_IN_DAYS on)."""
    posted_next = request.POST.get("next")
    if posted_next not in (None, str(NEXT_IN_DAYS)):
        messages.error(request, str(UNKNOWN_NEXT_MESSAGE))
        return _back(request)
    next_in_days = NEXT_IN_DAYS if posted_next else None
    try:
        follow_up, following = follow_up_complete(
            follow_up_id=_key(object_id), user=request.user, next_in_days=next_in_days
        )
    except FollowUp.DoesNotExist as error:
        raise Http404 from error
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _errors(error))
        return _back(request)
    if following is not None:
        messages.success(
            request, _sentence(DONE_NEXT_MESSAGE, step=_step(follow_up), when=_when(following.due_at))
        )
    else:
        messages.success(request, DONE_MESSAGE % {"step": _step(follow_up)})
    return _back(request)


@require_POST
def follow_up_reschedule_view(request: HttpRequest, object_id: str) -> HttpResponse:
    """POST `when` = later_today | tomorrow | next_week."""
    try:
        follow_up = follow_up_reschedule(
            follow_up_id=_key(object_id), user=request.user, choice=request.POST.get("when", "")
        )
    except FollowUp.DoesNotExist as error:
        raise Http404 from error
    except (ValidationError, PermissionDenied) as error:
        messages.error(request, _errors(error))
        return _back(request)
    messages.success(
        request, _sentence(RESCHEDULED_MESSAGE, step=_step(follow_up), when=_when(follow_up.due_at))
    )
    return _back(request)


def _key(object_id: str) -> int:
    if not object_id.isdigit() or len(object_id) > 18:
        raise Http404
    return int(object_id)


def my_day_urls(site: admin.AdminSite) -> list:
    return [
        path("my-day/", site.admin_view(my_day_view), name="crm_models_my_day"),
        path(
            "my-day/<str:object_id>/done/",
            site.admin_view(follow_up_done_view),
            name="crm_models_followup_done",
        ),
        path(
            "my-day/<str:object_id>/reschedule/",
            site.admin_view(follow_up_reschedule_view),
            name="crm_models_followup_reschedule",
        ),
    ]
