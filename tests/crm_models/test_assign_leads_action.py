"""`assign_leads` (administrators): to a chosen operator or by the rules, for
the selection or the whole filtered list, in one transaction with history."""

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from crm_models.models import AssignmentRule, AssignmentRuleMember, Lead, LeadStatus
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:crm_models_lead_changelist")


def messages_of(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


def test_the_first_post_asks_how(administrator, client_for) -> None:
    leads = LeadFactory.create_batch(2, owner=None)

    response = client_for(administrator).post(
        CHANGELIST, {"action": "assign_leads", "_selected_action": [lead.pk for lead in leads]}
    )

    assert response.status_code == 200
    assert response.context["count"] == 2
    assert set(Lead.objects.values_list("owner_id", flat=True)) == {None}


def test_assign_the_selection_to_an_operator(administrator, operator, operator2, client_for) -> None:
    leads = [LeadFactory(owner=None), LeadFactory(owner=operator2), LeadFactory(owner=operator)]

    response = client_for(administrator).post(
        CHANGELIST,
        {
            "action": "assign_leads",
            "_selected_action": [lead.pk for lead in leads],
            "assign": "1",
            "how": "user",
            "owner": operator.pk,
        },
    )

    assert response.status_code == 302
    name = operator.get_full_name()
    assert messages_of(response) == [f"3 leads now belong to {name} (2 changed owner)."]
    assert set(Lead.objects.values_list("owner_id", flat=True)) == {operator.pk}
    changed = Lead.history.filter(history_type="~")
    assert sorted(changed.values_list("id", flat=True)) == sorted([leads[0].pk, leads[1].pk])
    assert set(changed.values_list("history_user_id", "history_change_reason")) == {
        (administrator.pk, f"Assigned to {name}")
    }


def test_a_user_who_is_not_an_operator_is_refused_and_nothing_changes(
    administrator, marketer, client_for
) -> None:
    lead = LeadFactory(owner=None)

    response = client_for(administrator).post(
        CHANGELIST,
        {
            "action": "assign_leads",
            "_selected_action": [lead.pk],
            "assign": "1",
            "how": "user",
            "owner": marketer.pk,
        },
    )

    assert response.status_code == 200
    assert response.context["form"].errors == {"owner": ["Choose one of the active operators."]}
    lead.refresh_from_db()
    assert (lead.owner_id, lead.history.count()) == (None, 1)


def test_assign_the_whole_filtered_list_by_the_rules(administrator, operator, operator2, client_for) -> None:
    rule = AssignmentRule.objects.create(name="Everyone")
    AssignmentRuleMember.objects.create(rule=rule, user=operator)
    AssignmentRuleMember.objects.create(rule=rule, user=operator2)
    new = LeadFactory.create_batch(4, owner=None, status=LeadStatus.NEW)
    lost = LeadFactory(owner=None, status=LeadStatus.LOST)

    response = client_for(administrator).post(
        f"{CHANGELIST}?status__exact=new",
        {
            "action": "assign_leads",
            "_selected_action": [new[0].pk],
            "select_across": "1",
            "assign": "1",
            "how": "rules",
        },
    )

    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}?status__exact=new"
    assert messages_of(response) == ["4 leads assigned to 2 operators by the rules."]
    owners = dict(Lead.objects.values_list("pk", "owner_id"))
    assert [owners[lead.pk] for lead in new] == [operator.pk, operator2.pk, operator.pk, operator2.pk]
    assert owners[lost.pk] is None
    assert Lead.history.filter(history_type="~").count() == 4


@pytest.mark.parametrize("role", ["operator", "marketer", "manager"])
def test_only_administrators_assign(role: str, request, operator2, client_for) -> None:
    user = request.getfixturevalue(role)
    lead = LeadFactory(owner=None)

    client_for(user).post(
        CHANGELIST,
        {
            "action": "assign_leads",
            "_selected_action": [lead.pk],
            "assign": "1",
            "how": "user",
            "owner": operator2.pk,
        },
    )

    lead.refresh_from_db()
    assert lead.owner_id is None


def test_the_assign_and_take_pages_read_in_russian(administrator, operator, client_for) -> None:
    from tests.backoffice.test_russian_pages import english_words

    # Names are data: Russian ones, so that only the interface is checked.
    for user, first, last in ((operator, "Ольга", "Петрова"), (administrator, "Иван", "Сидоров")):
        user.first_name, user.last_name = first, last
        user.save()
    lead = LeadFactory(owner=None, first_name="Анна", last_name="Смирнова")
    admin_client, operator_client = client_for(administrator), client_for(operator)
    for client in (admin_client, operator_client):
        client.cookies["django_language"] = "ru"

    assign = admin_client.post(CHANGELIST, {"action": "assign_leads", "_selected_action": [lead.pk]})
    take = operator_client.get(reverse("admin:crm_models_lead_take_lead_detail", args=[lead.pk]))

    assert (assign.status_code, take.status_code) == (200, 200)
    assert english_words(assign.content.decode()) == set()
    assert english_words(take.content.decode()) == set()
