"""Operators see their own leads and the unassigned queue and take leads from
it (the `take_leads` action and the lead page's button); two operators
taking one lead at once: exactly one gets it, the other is told who."""

import threading

import pytest
from django.contrib.auth.models import User
from django.contrib.messages import get_messages
from django.db import connection, transaction
from django.urls import reverse

from crm_models.models import Lead
from crm_models.roles import Role
from crm_models.services.assignment import LeadTakenError, lead_take
from tests.factories import LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:crm_models_lead_changelist")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def take_url(lead: Lead) -> str:
    return reverse("admin:crm_models_lead_take_lead_detail", args=[lead.pk])


def test_an_operator_sees_own_leads_and_the_queue_only(operator, operator2, client_for) -> None:
    own = LeadFactory(owner=operator)
    queued = LeadFactory(owner=None)
    LeadFactory(owner=operator2)

    response = client_for(operator).get(CHANGELIST)

    assert {row.pk for row in response.context["cl"].result_list} == {own.pk, queued.pk}


def test_take_leads_gives_the_queue_leads_to_the_operator_with_history(operator, client_for) -> None:
    queued = LeadFactory.create_batch(2, owner=None, first_name="Q")

    response = client_for(operator).post(
        CHANGELIST, {"action": "take_leads", "_selected_action": [lead.pk for lead in queued]}
    )

    assert response.status_code == 302
    assert messages_of(response) == ["You took 2 leads."]
    assert set(Lead.objects.values_list("owner_id", flat=True)) == {operator.pk}
    for lead in queued:
        change = lead.history.order_by("-history_id").first()
        assert (
            change.history_type,
            change.history_user_id,
            change.owner_id,
            change.history_change_reason,
        ) == (
            "~",
            operator.pk,
            operator.pk,
            "Taken from the queue",
        )


def test_take_leads_names_who_was_faster(operator, operator2, client_for) -> None:
    lead = LeadFactory(owner=None, first_name="Anna", last_name="Smirnova")
    operator2.first_name, operator2.last_name = "Olga", "Petrova"
    operator2.save()
    lead_take(lead_id=lead.pk, user=operator2)  # a moment before the first operator's click

    response = client_for(operator).post(CHANGELIST, {"action": "take_leads", "_selected_action": [lead.pk]})

    assert messages_of(response) == ["“Anna Smirnova” was taken by Olga Petrova a moment earlier."]
    lead.refresh_from_db()
    assert lead.owner_id == operator2.pk


def test_take_leads_refuses_leads_outside_the_queue(operator, client_for) -> None:
    own = LeadFactory(owner=operator)

    response = client_for(operator).post(CHANGELIST, {"action": "take_leads", "_selected_action": [own.pk]})

    assert messages_of(response) == ["Only leads of the unassigned queue can be taken; nothing was taken."]
    assert own.history.count() == 1


def test_a_colleagues_lead_that_was_never_in_the_queue_is_not_named(operator, operator2, client_for) -> None:
    hidden = LeadFactory(owner=operator2)

    response = client_for(operator).post(
        CHANGELIST, {"action": "take_leads", "_selected_action": [hidden.pk]}
    )

    assert messages_of(response) == ["Only leads of the unassigned queue can be taken; nothing was taken."]
    hidden.refresh_from_db()
    assert hidden.owner_id == operator2.pk


# A marketer has no list action at all, so Django reads the POST as the list's own (200).
@pytest.mark.parametrize(("role", "status"), [("administrator", 302), ("marketer", 200), ("manager", 302)])
def test_only_operators_have_the_take_action(role: str, status: int, request, client_for) -> None:
    user = request.getfixturevalue(role)
    lead = LeadFactory(owner=None)
    client = client_for(user)

    action_form = client.get(CHANGELIST).context["action_form"]  # None: no action at all
    choices = [value for value, _label in action_form.fields["action"].choices] if action_form else []
    response = client.post(CHANGELIST, {"action": "take_leads", "_selected_action": [lead.pk]})

    assert "take_leads" not in choices
    assert response.status_code == status
    lead.refresh_from_db()
    assert lead.owner_id is None
    assert client.post(take_url(lead)).status_code == 403


def test_the_take_button_shows_on_queue_leads_of_an_operator(operator, client_for) -> None:
    queued = LeadFactory(owner=None)
    own = LeadFactory(owner=operator)
    client = client_for(operator)

    assert (
        take_url(queued).encode()
        in client.get(reverse("admin:crm_models_lead_change", args=[queued.pk])).content
    )
    assert (
        take_url(own).encode()
        not in client.get(reverse("admin:crm_models_lead_change", args=[own.pk])).content
    )


def test_the_take_button_takes_by_post_and_asks_by_get(operator, client_for) -> None:
    lead = LeadFactory(owner=None)
    client = client_for(operator)

    asked = client.get(take_url(lead))
    assert (asked.status_code, Lead.objects.get().owner_id) == (200, None)
    response = client.post(take_url(lead))

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:crm_models_lead_change", args=[lead.pk])
    assert messages_of(response) == ["You took 1 lead."]
    lead.refresh_from_db()
    assert lead.owner_id == operator.pk


def test_the_take_button_names_who_was_faster(operator, operator2, client_for) -> None:
    lead = LeadFactory(owner=None, first_name="Anna", last_name="Smirnova")
    lead_take(lead_id=lead.pk, user=operator2)

    response = client_for(operator).post(take_url(lead))

    assert response.status_code == 302
    assert response["Location"] == CHANGELIST
    name = operator2.get_full_name()
    assert messages_of(response) == [f"“Anna Smirnova” was taken by {name} a moment earlier."]


def test_the_take_button_on_a_colleagues_lead_is_404(operator, operator2, client_for) -> None:
    lead = LeadFactory(owner=operator2)
    client = client_for(operator)

    assert client.get(take_url(lead)).status_code == 404
    assert client.post(take_url(lead)).status_code == 404
    assert client.post(reverse("admin:crm_models_lead_take_lead_detail", args=["abc"])).status_code == 404


def _operator(name: str) -> User:
    return UserFactory(username=name, first_name=name.title(), last_name="Racer", role=Role.OPERATOR)


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("database_restored_after_flush")
def test_two_operators_taking_one_lead_at_once_exactly_one_gets_it() -> None:
    first, second = _operator("first"), _operator("second")
    lead = LeadFactory(owner=None)
    first_took = threading.Event()
    outcomes: dict[str, object] = {}
    errors: list[BaseException] = []

    def take_and_hold() -> None:
        try:
            with transaction.atomic():
                lead_take(lead_id=lead.pk, user=first)
                first_took.set()
                # Not committed yet: the second operator's UPDATE waits for the row.
                threading.Event().wait(0.3)
            outcomes["first"] = "took"
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    def take_meanwhile() -> None:
        try:
            first_took.wait(10)
            try:
                lead_take(lead_id=lead.pk, user=second)
                outcomes["second"] = "took"
            except LeadTakenError as taken:
                outcomes["second"] = taken.owner_name
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=take_and_hold), threading.Thread(target=take_meanwhile)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert outcomes == {"first": "took", "second": "First Racer"}
    lead.refresh_from_db()
    assert lead.owner_id == first.pk
    # One change on top of the lead's creation: nothing half-done by the loser.
    assert list(lead.history.order_by("history_id").values_list("history_type", "owner_id")) == [
        ("+", None),
        ("~", first.pk),
    ]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("database_restored_after_flush")
def test_many_operators_clicking_at_once_one_wins() -> None:
    racers = [_operator(f"racer{i}") for i in range(5)]
    lead = LeadFactory(owner=None)
    barrier = threading.Barrier(len(racers), timeout=30)
    won: list[int] = []
    told: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def take(user: User) -> None:
        try:
            barrier.wait()
            try:
                lead_take(lead_id=lead.pk, user=user)
                with lock:
                    won.append(user.pk)
            except LeadTakenError as taken:
                with lock:
                    told.append(taken.owner_name)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=take, args=(user,)) for user in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    assert len(won) == 1
    winner = User.objects.get(pk=won[0])
    assert told == [winner.get_full_name()] * (len(racers) - 1)
    lead.refresh_from_db()
    assert lead.owner_id == winner.pk
    assert lead.history.count() == 2


def test_an_operator_reads_a_queue_lead_and_edits_it_once_taken(operator, client_for) -> None:
    lead = LeadFactory(owner=None, first_name="Old")
    client = client_for(operator)
    url = reverse("admin:crm_models_lead_change", args=[lead.pk])
    payload = {
        "first_name": "New",
        "last_name": lead.last_name,
        "email": lead.email,
        "phone": lead.phone,
        "campaign": lead.campaign_id,
        "status": "new",
        "interactions-TOTAL_FORMS": "0",
        "interactions-INITIAL_FORMS": "0",
    }

    assert client.get(url).context["has_change_permission"] is False
    assert client.post(url, payload).status_code == 403
    client.post(take_url(lead))
    assert client.post(url, payload).status_code == 302

    lead.refresh_from_db()
    assert (lead.first_name, lead.owner_id) == ("New", operator.pk)
