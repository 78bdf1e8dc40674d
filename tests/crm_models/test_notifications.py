"""The bell: each user's own notifications, marking them read (POST with
CSRF), the unread count, the user's own preferences; and the background jobs'
admin, for administrators only and read-only. Run as each role."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from crm_models.roles import Role
from crm_models.services.reminders import reminders_send_due
from crm_models.tasks import periodic_run
from crm_models.workflow_models import FollowUp, Notification, UserPreferences
from tests.crm_models.test_reminders import make_follow_ups

pytestmark = pytest.mark.django_db

NOTIFICATIONS = "/admin/notifications/"
UNREAD = "/admin/notifications/unread/"
PREFERENCES = "/admin/preferences/"
TASK_RESULTS = "/admin/crm_models/taskresult/"


@pytest.fixture
def reminded(role_user: User, operator2: User) -> tuple[list[Notification], Notification]:
    """Two notifications of `role_user` and one of another user."""
    make_follow_ups(2, assignee=role_user)
    make_follow_ups(1, assignee=operator2)
    reminders_send_due()
    return list(Notification.objects.filter(user=role_user)), Notification.objects.get(user=operator2)


def test_urls_are_the_admin_names() -> None:
    assert reverse("admin:notifications") == NOTIFICATIONS
    assert reverse("admin:notifications_unread") == UNREAD
    assert reverse("admin:preferences") == PREFERENCES
    assert reverse("admin:notification_read", args=[7]) == "/admin/notifications/7/read/"


def test_each_role_sees_its_own_notifications_only(
    role_user: User, reminded: tuple[list[Notification], Notification], client_for: Callable[[User], Client]
) -> None:
    own, other = reminded
    client = client_for(role_user)
    response = client.get(NOTIFICATIONS)
    assert response.status_code == 200
    page = response.content.decode()
    assert page.count('data-unread="1"') == 2
    for notification in own:
        assert f"/admin/crm_models/lead/{notification.follow_up.lead_id}/change/" in page
        assert f"/admin/notifications/{notification.pk}/read/" in page
    assert f"/admin/notifications/{other.pk}/read/" not in page
    assert client.get(UNREAD).json() == {"unread": 2}
    assert 'id="notification-bell"' in page
    assert 'data-unread-url="/admin/notifications/unread/"' in page


def test_marking_read_takes_a_post_with_csrf_and_only_own_rows(
    role_user: User, reminded: tuple[list[Notification], Notification]
) -> None:
    own, other = reminded
    client = Client(enforce_csrf_checks=True)
    client.force_login(role_user)
    read_url = f"/admin/notifications/{own[0].pk}/read/"

    assert client.get(read_url).status_code == 405
    assert client.post(read_url).status_code == 403  # no CSRF token
    token = client.get(NOTIFICATIONS).cookies["csrftoken"].value
    assert (
        client.post(f"/admin/notifications/{other.pk}/read/", {"csrfmiddlewaretoken": token}).status_code
        == 404
    )
    assert client.post("/admin/notifications/abc/read/", {"csrfmiddlewaretoken": token}).status_code == 404
    assert Notification.objects.filter(read_at__isnull=False).count() == 0

    response = client.post(read_url, {"csrfmiddlewaretoken": token})
    assert (response.status_code, response["Location"]) == (302, NOTIFICATIONS)
    assert list(Notification.objects.filter(read_at__isnull=False)) == [own[0]]
    assert client.get(UNREAD).json() == {"unread": 1}

    opened = client.post(
        f"/admin/notifications/{own[1].pk}/read/", {"csrfmiddlewaretoken": token, "open": "1"}
    )
    assert opened["Location"] == f"/admin/crm_models/lead/{own[1].follow_up.lead_id}/change/"
    assert client.get(UNREAD).json() == {"unread": 0}
    assert Notification.objects.get(pk=other.pk).read_at is None


def test_mark_all_read_changes_own_rows_only(
    role_user: User, reminded: tuple[list[Notification], Notification], client_for: Callable[[User], Client]
) -> None:
    _, other = reminded
    response = client_for(role_user).post("/admin/notifications/read-all/", follow=True)
    assert response.status_code == 200
    assert "All notifications are marked read." in response.content.decode()
    assert Notification.objects.filter(user=role_user, read_at__isnull=True).count() == 0
    assert Notification.objects.get(pk=other.pk).read_at is None


def test_anonymous_visitors_are_sent_to_the_login() -> None:
    for url in (NOTIFICATIONS, UNREAD, PREFERENCES):
        response = Client().get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")


def test_each_user_sets_their_own_reminder_offset(
    role_user: User, client_for: Callable[[User], Client]
) -> None:
    (follow_up,) = make_follow_ups(1, assignee=role_user, due_in=timedelta(hours=5))
    client = client_for(role_user)
    page = client.get(PREFERENCES).content.decode()
    assert 'name="reminder_offset_minutes"' in page
    assert 'value="15"' in page

    response = client.post(PREFERENCES, {"reminder_offset_minutes": "60"}, follow=True)
    assert response.redirect_chain == [(PREFERENCES, 302)]
    assert "Your preferences are saved." in response.content.decode()
    assert UserPreferences.objects.get(user=role_user).reminder_offset_minutes == 60
    follow_up.refresh_from_db()
    assert follow_up.remind_at == follow_up.due_at - timedelta(minutes=60)


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("-5", "Ensure this value is greater than or equal to 0."),
        ("10081", "Ensure this value is less than or equal to 10080."),
        ("soon", "Enter a whole number."),
        ("", "This field is required."),
    ],
)
def test_a_bad_offset_is_refused_and_changes_nothing(
    operator: User, client_for: Callable[[User], Client], value: str, error: str
) -> None:
    response = client_for(operator).post(PREFERENCES, {"reminder_offset_minutes": value})
    assert response.status_code == 400
    assert error in response.content.decode()
    assert not UserPreferences.objects.filter(user=operator).exists()


# --- the background jobs' admin --------------------------------------------------


@pytest.fixture
def task_results() -> tuple[DBTaskResult, DBTaskResult]:
    pending = periodic_run.using(run_after=timezone.now() + timedelta(minutes=1)).enqueue(
        name="reminders", generation=1
    )
    failed = periodic_run.enqueue(name="reminders", generation=2)
    DBTaskResult.objects.filter(pk=failed.id).update(
        status="FAILED",
        started_at=timezone.now(),
        finished_at=timezone.now(),
        worker_ids=["w1", "w2"],
        exception_class_path="builtins.ValueError",
        traceback="Traceback (most recent call last):\nValueError: the <b>mail</b> server said no\n",
    )
    return DBTaskResult.objects.get(pk=pending.id), DBTaskResult.objects.get(pk=failed.id)


def test_administrators_read_the_queue_with_errors_and_attempts(
    administrator: User, task_results: tuple[DBTaskResult, DBTaskResult], client_for: Callable[[User], Client]
) -> None:
    pending, failed = task_results
    client = client_for(administrator)
    listing = client.get(TASK_RESULTS)
    assert listing.status_code == 200
    assert listing.context["cl"].result_count == 2
    page = listing.content.decode()
    assert "periodic_run" in page
    assert "ValueError" in page
    assert "Failed" in page
    assert "Ready" in page
    assert client.get(TASK_RESULTS + "?status__exact=FAILED").context["cl"].result_count == 1

    detail = client.get(f"{TASK_RESULTS}{failed.pk}/change/")
    assert detail.status_code == 200
    text = detail.content.decode()
    assert "ValueError: the &lt;b&gt;mail&lt;/b&gt; server said no" in text
    assert '<input type="submit"' not in text  # read-only: no save button
    assert client.get(TASK_RESULTS + "add/").status_code == 403
    assert client.post(f"{TASK_RESULTS}{failed.pk}/delete/").status_code == 403
    assert client.post(f"{TASK_RESULTS}{pending.pk}/change/", {"status": "FAILED"}).status_code == 403
    assert DBTaskResult.objects.get(pk=pending.pk).status == "READY"
    assert client.get(f"{TASK_RESULTS}not-a-uuid/change/").status_code == 404


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.MARKETER, Role.MANAGER])
def test_other_roles_cannot_open_the_queue(
    role: Role, task_results: tuple[DBTaskResult, DBTaskResult], client_for: Callable[[User], Client]
) -> None:
    from tests.factories import UserFactory

    user = UserFactory(username=f"t_queue_{role.lower()}", role=role)
    client = client_for(user)
    _, failed = task_results
    assert client.get(TASK_RESULTS).status_code == 403
    assert client.get(f"{TASK_RESULTS}{failed.pk}/change/").status_code == 403
    assert "taskresult" not in client.get("/admin/").content.decode()


def test_a_notification_of_a_done_follow_up_still_lists(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    (follow_up,) = make_follow_ups(1, assignee=operator)
    reminders_send_due()
    FollowUp.objects.filter(pk=follow_up.pk).update(done_at=timezone.now())
    assert client_for(operator).get(NOTIFICATIONS).content.decode().count('data-unread="1"') == 1


def test_django_rq_dashboard_is_not_served(administrator: User, client_for: Callable[[User], Client]) -> None:
    """django-rq's own pages (English, any staff user) stay off (RQ_SHOW_ADMIN_LINK)."""
    client = client_for(administrator)
    assert client.get("/admin/django_rq/dashboard/").status_code == 404
    assert client.get("/admin/django_rq/dashboard/stats.json").status_code == 404
