"""The bell's pages: a user's own notifications (reminders of follow-ups),
marking them read, the unread count the header's bell shows, and the user's
own preferences (how long before a follow-up its reminder comes).

Served under the admin (backoffice/sites.py) through `admin_view`: login,
staff, CSRF. Every query goes through `Notification.objects.visible_to`, so
another user's notification answers 404.
"""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from crm_models.services.reminders import (
    ReminderText,
    notifications_mark_read,
    user_preferences_update,
)
from crm_models.workflow_models import (
    DEFAULT_REMINDER_OFFSET_MINUTES,
    Notification,
    UserPreferences,
)

PAGE_SIZE = 50
MAX_OFFSET_MINUTES = 7 * 24 * 60


def _context(request: HttpRequest, title: str, **extra: Any) -> dict[str, Any]:
    return {**admin.site.each_context(request), "title": title, **extra}


@require_GET
def notifications_page(request: HttpRequest) -> HttpResponse:
    queryset = (
        Notification.objects.visible_to(request.user)
        .select_related("follow_up__lead")
        .order_by("-created_at", "-id")
    )
    page = Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("p"))
    rows = []
    text = ReminderText()
    for notification in page.object_list:
        follow_up = notification.follow_up
        rows.append(
            {
                "id": notification.pk,
                "text": text(follow_up) if follow_up is not None else notification.message,
                "note": follow_up.note if follow_up is not None else "",
                "lead_url": (
                    reverse("admin:crm_models_lead_change", args=[follow_up.lead_id])
                    if follow_up is not None
                    else ""
                ),
                "created_at": notification.created_at,
                "unread": notification.read_at is None,
            }
        )
    unread = Notification.objects.visible_to(request.user).filter(read_at__isnull=True).count()
    return TemplateResponse(
        request,
        "crm_models/notifications.html",
        _context(request, gettext("Notifications"), rows=rows, page=page, unread=unread),
    )


@require_GET
def notifications_unread(request: HttpRequest) -> JsonResponse:
    count = Notification.objects.visible_to(request.user).filter(read_at__isnull=True).count()
    response = JsonResponse({"unread": count})
    response["Cache-Control"] = "no-store"
    return response


@require_POST
def notification_read(request: HttpRequest, notification_id: str) -> HttpResponse:
    try:
        pk = int(notification_id)
    except ValueError as error:
        raise Http404 from error
    notification = Notification.objects.visible_to(request.user).filter(pk=pk).first()
    if notification is None:
        raise Http404
    notifications_mark_read(user=request.user, ids=[pk])
    if request.POST.get("open") and notification.follow_up_id:
        return HttpResponseRedirect(
            reverse("admin:crm_models_lead_change", args=[notification.follow_up.lead_id])  # type: ignore[union-attr]
        )
    return HttpResponseRedirect(reverse("admin:notifications"))


@require_POST
def notifications_read_all(request: HttpRequest) -> HttpResponse:
    changed = notifications_mark_read(user=request.user)
    if changed:
        messages.success(request, gettext("All notifications are marked read."))
    return HttpResponseRedirect(reverse("admin:notifications"))


class PreferencesForm(forms.Form):
    reminder_offset_minutes = forms.IntegerField(
        label=_("Remind me before a follow-up is due (minutes)"),
        min_value=0,
        max_value=MAX_OFFSET_MINUTES,
        help_text=_("From 0 (at the due time) to 10080 (a week). Reminders not sent yet move with it."),
    )


@require_http_methods(["GET", "POST"])
def preferences_page(request: HttpRequest) -> HttpResponse:
    current = (
        UserPreferences.objects.filter(user_id=request.user.pk or 0)
        .values_list("reminder_offset_minutes", flat=True)
        .first()
    )
    initial = {"reminder_offset_minutes": DEFAULT_REMINDER_OFFSET_MINUTES if current is None else current}
    form = PreferencesForm(request.POST if request.method == "POST" else None, initial=initial)
    if request.method == "POST":
        if form.is_valid():
            user_preferences_update(
                user=request.user, reminder_offset_minutes=form.cleaned_data["reminder_offset_minutes"]
            )
            messages.success(request, gettext("Your preferences are saved."))
            return HttpResponseRedirect(reverse("admin:preferences"))
        status = 400
    else:
        status = 200
    return TemplateResponse(
        request,
        "crm_models/preferences.html",
        _context(request, gettext("My preferences"), form=form),
        status=status,
    )
