""" "My day" per role: the user's own open steps by section and due time, the
one-click done and reschedule forms (POST with CSRF), hidden steps 404, and
operators and managers landing on it after signing in."""

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import timezone, translation

from crm_models.models import Interaction, Lead
from crm_models.selectors.followups import day_bounds
from crm_models.workflow_models import FollowUp
from tests.factories import CustomerFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

MY_DAY = "admin:crm_models_my_day"


def step(lead: Lead, assignee: User, due_at: object, **fields: object) -> FollowUp:
    from crm_models.services.followups import next_follow_up_refresh

    follow_up = FollowUp(lead=lead, assignee=assignee, due_at=due_at, **fields)
    follow_up.schedule_reminder()
    follow_up.save()
    next_follow_up_refresh(lead_id=lead.pk)
    return follow_up


def section_ids(html: str, key: str) -> list[int]:
    match = re.search(rf'<section[^>]*id="my-day-{key}".*?</section>', html, re.S)
    assert match is not None, key
    return [int(pk) for pk in re.findall(r'data-follow-up="(\d+)"', match.group(0))]


@pytest.fixture
def day(operator: User, operator2: User) -> dict[str, FollowUp]:
    now, _start, end = day_bounds()
    lead = LeadFactory(owner=operator, phone="+79261234567", email="ivan@client.example")
    other = LeadFactory(owner=operator)
    return {
        "old": step(lead, operator, now - timedelta(days=2)),
        "overdue": step(other, operator, now - timedelta(minutes=5)),
        "today": step(lead, operator, now + (end - now) / 2),
        "upcoming": step(other, operator, end + timedelta(days=2)),
        "far": step(other, operator, end + timedelta(days=30)),
        "done": step(lead, operator, now - timedelta(hours=1), done_at=now),
        "someone_elses": step(LeadFactory(owner=operator2), operator2, now - timedelta(hours=1)),
    }


def test_operator_sees_own_open_steps_by_section_sorted(
    day: dict[str, FollowUp], operator: User, client_for: Callable[[User], Client]
) -> None:
    response = client_for(operator).get(reverse(MY_DAY))
    assert response.status_code == 200
    html = response.content.decode()
    assert section_ids(html, "overdue") == [day["old"].pk, day["overdue"].pk]
    assert section_ids(html, "today") == [day["today"].pk]
    assert section_ids(html, "upcoming") == [day["upcoming"].pk]
    assert 'href="tel:+79261234567"' in html
    assert 'href="mailto:ivan@client.example"' in html
    assert "<script>" not in html.split("</head>", 1)[1]  # no inline script in the page body
    assert html.count('name="csrfmiddlewaretoken"') >= 2 * 4


def test_my_day_query_count(
    day: dict[str, FollowUp],
    operator: User,
    client_for: Callable[[User], Client],
    django_assert_max_num_queries: object,
) -> None:
    client = client_for(operator)
    client.get(reverse(MY_DAY))
    # Session, user, groups, then one query per section (rows with their
    # leads), besides unfold's own context.
    with django_assert_max_num_queries(12):  # type: ignore[operator]
        assert client.get(reverse(MY_DAY)).status_code == 200


def test_manager_sees_steps_on_own_customers_leads(
    manager: User, client_for: Callable[[User], Client]
) -> None:
    customer = CustomerFactory(account_manager=manager)
    mine = step(customer.lead, manager, timezone.now() - timedelta(hours=1))
    response = client_for(manager).get(reverse(MY_DAY))
    assert section_ids(response.content.decode(), "overdue") == [mine.pk]


def test_administrator_sees_only_own_steps(
    day: dict[str, FollowUp], administrator: User, client_for: Callable[[User], Client]
) -> None:
    mine = step(LeadFactory(), administrator, timezone.now() - timedelta(hours=1))
    response = client_for(administrator).get(reverse(MY_DAY))
    assert section_ids(response.content.decode(), "overdue") == [mine.pk]


def test_marketer_may_not_open_my_day(marketer: User, client_for: Callable[[User], Client]) -> None:
    assert client_for(marketer).get(reverse(MY_DAY)).status_code == 403


def test_done_in_one_click(
    day: dict[str, FollowUp], operator: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(operator)
    target = day["overdue"]
    response = client.post(reverse("admin:crm_models_followup_done", args=[target.pk]), follow=True)
    assert response.redirect_chain == [(reverse(MY_DAY), 302)]
    target.refresh_from_db()
    assert target.done_at is not None
    assert Interaction.objects.get(pk=target.interaction_id).lead_id == target.lead_id
    assert target.pk not in section_ids(response.content.decode(), "overdue")
    assert [str(m) for m in response.context["messages"]] == [
        f"Done: call, {target.lead}. It is on the lead's timeline."
    ]


def test_done_and_next_in_three_days(
    day: dict[str, FollowUp], operator: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(operator)
    target = day["today"]
    client.post(reverse("admin:crm_models_followup_done", args=[target.pk]), {"next": "3"})
    following = FollowUp.objects.filter(lead=target.lead, done_at__isnull=True, created_by=operator).get()
    assert timezone.localdate(following.due_at) == timezone.localdate() + timedelta(days=3)
    html = client.get(reverse(MY_DAY)).content.decode()
    assert following.pk in section_ids(html, "upcoming")


@pytest.mark.parametrize(("when", "section"), [("tomorrow", "upcoming"), ("next_week", "upcoming")])
def test_reschedule_in_one_click(
    day: dict[str, FollowUp], operator: User, client_for: Callable[[User], Client], when: str, section: str
) -> None:
    client = client_for(operator)
    target = day["overdue"]
    response = client.post(
        reverse("admin:crm_models_followup_reschedule", args=[target.pk]), {"when": when}, follow=True
    )
    html = response.content.decode()
    assert target.pk not in section_ids(html, "overdue")
    target.refresh_from_db()
    assert target.due_at > timezone.now()


def test_reschedule_unknown_choice_says_so(
    day: dict[str, FollowUp], operator: User, client_for: Callable[[User], Client]
) -> None:
    target = day["overdue"]
    response = client_for(operator).post(
        reverse("admin:crm_models_followup_reschedule", args=[target.pk]), {"when": "never"}, follow=True
    )
    assert response.status_code == 200
    assert [str(m) for m in response.context["messages"]] == ["Choose later today, tomorrow or next week."]
    assert FollowUp.objects.get(pk=target.pk).due_at == target.due_at


@pytest.mark.parametrize("url", ["admin:crm_models_followup_done", "admin:crm_models_followup_reschedule"])
def test_hidden_and_unknown_steps_answer_404(
    day: dict[str, FollowUp], operator: User, manager: User, client_for: Callable[[User], Client], url: str
) -> None:
    hidden = day["someone_elses"]
    for user, object_id in (
        (operator, hidden.pk),
        (manager, day["overdue"].pk),
        (operator, 999999),
        (operator, "abc"),
    ):
        response = client_for(user).post(reverse(url, args=[object_id]), {"when": "tomorrow"})
        assert response.status_code == 404, (user, object_id)
    hidden.refresh_from_db()
    assert (hidden.done_at, hidden.due_at) == (None, day["someone_elses"].due_at)


def test_an_unknown_next_step_is_refused_and_nothing_changes(
    day: dict[str, FollowUp], operator: User, client_for: Callable[[User], Client]
) -> None:
    target = day["today"]
    response = client_for(operator).post(
        reverse("admin:crm_models_followup_done", args=[target.pk]), {"next": "400"}, follow=True
    )
    assert [str(m) for m in response.context["messages"]] == [
        "The next step can be planned 3 days on; nothing was changed."
    ]
    target.refresh_from_db()
    assert target.done_at is None
    assert Interaction.objects.count() == 0


def test_get_is_not_allowed(
    day: dict[str, FollowUp], operator: User, client_for: Callable[[User], Client]
) -> None:
    response = client_for(operator).get(reverse("admin:crm_models_followup_done", args=[day["overdue"].pk]))
    assert response.status_code == 405
    assert FollowUp.objects.get(pk=day["overdue"].pk).done_at is None


def test_done_needs_the_csrf_token(day: dict[str, FollowUp], operator: User) -> None:
    client = Client(enforce_csrf_checks=True)
    client.force_login(operator)
    response = client.post(reverse("admin:crm_models_followup_done", args=[day["overdue"].pk]))
    assert response.status_code == 403
    assert FollowUp.objects.get(pk=day["overdue"].pk).done_at is None


@pytest.mark.parametrize(
    ("role", "lands_on"),
    [
        ("Operator", MY_DAY),
        ("Manager", MY_DAY),
        ("Administrator", "admin:index"),
        ("Marketer", "admin:index"),
    ],
)
def test_landing_page_after_sign_in(role: str, lands_on: str) -> None:
    UserFactory(username="signing_in", role=role)
    client = Client()
    for data in ({}, {"next": reverse("admin:index")}):
        response = client.post(reverse("admin:login"), {"username": "signing_in", "password": "pass", **data})
        assert response.status_code == 302
        assert response.url == reverse(lands_on)
        client.logout()


def test_a_page_asked_for_is_kept_after_sign_in(operator: User) -> None:
    target = reverse("admin:crm_models_lead_changelist")
    response = Client().post(
        reverse("admin:login"), {"username": operator.username, "password": "pass", "next": target}
    )
    assert response.url == target


def test_sidebar_has_my_day_first(operator: User, client_for: Callable[[User], Client]) -> None:
    html = client_for(operator).get(reverse(MY_DAY)).content.decode()
    links = re.findall(r'<a[^>]*href="([^"]+)"[^>]*>\s*<span[^>]*>\s*(?:today|dashboard)\s*</span>', html)
    assert links == [reverse(MY_DAY), reverse("admin:index")]


def test_a_time_that_ends_with_a_full_stop_ends_the_message_with_one() -> None:
    from crm_models.admin.my_day import RESCHEDULED_MESSAGE, _sentence

    with translation.override("en"):
        assert (
            _sentence(RESCHEDULED_MESSAGE, step="call, Anna", when="12/08/2026 1:34 a.m.")
            == "Moved: call, Anna, now due 12/08/2026 1:34 a.m."
        )
        assert (
            _sentence(RESCHEDULED_MESSAGE, step="call, Anna", when="12/08/2026 13:34")
            == "Moved: call, Anna, now due 12/08/2026 13:34."
        )
