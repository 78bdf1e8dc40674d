"""Lost reasons (required when a lead becomes lost, kept by administrators,
translated) and the assignment rules' admin, as each role; who owns a lead
added on the form."""

import pytest
from django.urls import reverse
from django.utils import translation

from crm_models.models import AssignmentRule, AssignmentRuleMember, Lead, LeadStatus, LostReason
from tests.crm_models.test_lead_form import lead_payload as form_payload
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db


def lead_payload(campaign, **fields: object) -> dict[str, object]:
    return form_payload(campaign, **{"email": "ivan@example.ru", **fields})


def change_url(lead: Lead) -> str:
    return reverse("admin:crm_models_lead_change", args=[lead.pk])


def test_a_lead_becoming_lost_needs_a_reason_on_its_field(operator, client_for) -> None:
    lead = LeadFactory(owner=operator)

    response = client_for(operator).post(change_url(lead), lead_payload(lead.campaign, status="lost"))

    assert response.status_code == 200
    assert response.context["adminform"].form.errors == {"lost_reason": ["Choose why the lead was lost."]}
    lead.refresh_from_db()
    assert (lead.status, lead.history.count()) == (LeadStatus.NEW, 1)


def test_the_reasons_message_in_russian(operator, client_for) -> None:
    lead = LeadFactory(owner=operator)
    client = client_for(operator)
    client.cookies["django_language"] = "ru"

    response = client.post(change_url(lead), lead_payload(lead.campaign, status="lost"))

    assert response.context["adminform"].form.errors == {"lost_reason": ["Укажите, почему лид потерян."]}


def test_a_lost_lead_with_a_reason_is_saved_and_loses_it_when_reopened(operator, client_for) -> None:
    lead = LeadFactory(owner=operator)
    reason = LostReason.objects.get(name="Too expensive")
    client = client_for(operator)

    lost = client.post(change_url(lead), lead_payload(lead.campaign, status="lost", lost_reason=reason.pk))
    lead.refresh_from_db()
    assert (lost.status_code, lead.status, lead.lost_reason_id) == (302, LeadStatus.LOST, reason.pk)

    client.post(change_url(lead), lead_payload(lead.campaign, status="in_progress", lost_reason=reason.pk))
    lead.refresh_from_db()
    assert (lead.status, lead.lost_reason_id) == (LeadStatus.IN_PROGRESS, None)


def test_an_inactive_reason_cannot_be_chosen(operator, client_for) -> None:
    lead = LeadFactory(owner=operator)
    reason = LostReason.objects.create(name="Old reason", is_active=False)

    response = client_for(operator).post(
        change_url(lead), lead_payload(lead.campaign, status="lost", lost_reason=reason.pk)
    )

    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["lost_reason"]


def test_the_starting_reasons_are_translated() -> None:
    reason = LostReason.objects.get(name="Chose a competitor")
    with translation.override("ru"):
        assert str(reason) == "Выбрал конкурента"


def test_the_list_filters_by_lost_reason(administrator, client_for) -> None:
    expensive = LostReason.objects.get(name="Too expensive")
    wanted = LeadFactory(status=LeadStatus.LOST, lost_reason=expensive)
    LeadFactory(status=LeadStatus.LOST)  # "Other"

    response = client_for(administrator).get(
        reverse("admin:crm_models_lead_changelist"), {"lost_reason__id__exact": expensive.pk}
    )

    assert [row.pk for row in response.context["cl"].result_list] == [wanted.pk]


@pytest.mark.parametrize(
    ("role", "list_status", "add_status"),
    [("administrator", 200, 200), ("operator", 200, 403), ("marketer", 200, 403), ("manager", 200, 403)],
)
def test_lost_reasons_admin_per_role(
    role: str, list_status: int, add_status: int, request, client_for
) -> None:
    client = client_for(request.getfixturevalue(role))

    assert client.get(reverse("admin:crm_models_lostreason_changelist")).status_code == list_status
    assert client.get(reverse("admin:crm_models_lostreason_add")).status_code == add_status
    response = client.post(
        reverse("admin:crm_models_lostreason_add"), {"name": "Moved away", "is_active": "on"}
    )
    assert LostReason.objects.filter(name="Moved away").exists() == (role == "administrator")
    assert response.status_code == (302 if role == "administrator" else 403)


def rule_payload(**fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name": "Spring web",
        "position": "1",
        "is_active": "on",
        "campaign": "",
        "channel": "",
        "strategy": "round_robin",
        "daily_capacity": "",
        "assignmentrulemember_set-TOTAL_FORMS": "1",
        "assignmentrulemember_set-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


def test_an_administrator_makes_a_rule_with_its_members(administrator, operator, client_for) -> None:
    response = client_for(administrator).post(
        reverse("admin:crm_models_assignmentrule_add"),
        rule_payload(**{"assignmentrulemember_set-0-user": operator.pk}),
    )

    assert response.status_code == 302
    rule = AssignmentRule.objects.get()
    assert list(rule.members.all()) == [operator]


def test_a_rule_member_must_be_an_active_operator(administrator, marketer, client_for) -> None:
    response = client_for(administrator).post(
        reverse("admin:crm_models_assignmentrule_add"),
        rule_payload(**{"assignmentrulemember_set-0-user": marketer.pk}),
    )

    assert response.status_code == 200
    assert response.context["inline_admin_formsets"][0].formset.errors == [
        {"user": ["Choose one of the active operators."]}
    ]
    assert not AssignmentRule.objects.exists()


@pytest.mark.parametrize(
    ("role", "view", "add"),
    [("administrator", 200, 302), ("marketer", 200, 403), ("operator", 403, 403), ("manager", 403, 403)],
)
def test_rules_admin_per_role(role: str, view: int, add: int, request, operator2, client_for) -> None:
    rule = AssignmentRule.objects.create(name="Existing")
    AssignmentRuleMember.objects.create(rule=rule, user=operator2)
    client = client_for(request.getfixturevalue(role))

    assert client.get(reverse("admin:crm_models_assignmentrule_changelist")).status_code == view
    assert client.get(reverse("admin:crm_models_assignmentrule_change", args=[rule.pk])).status_code == view
    response = client.post(
        reverse("admin:crm_models_assignmentrule_add"),
        rule_payload(name="New", **{"assignmentrulemember_set-0-user": operator2.pk}),
    )
    assert response.status_code == add
    assert AssignmentRule.objects.filter(name="New").exists() == (role == "administrator")


def test_a_marketers_added_lead_goes_by_the_rules(marketer, operator, client_for) -> None:
    campaign = CampaignFactory()
    rule = AssignmentRule.objects.create(name="All")
    AssignmentRuleMember.objects.create(rule=rule, user=operator)

    response = client_for(marketer).post(reverse("admin:crm_models_lead_add"), lead_payload(campaign))

    assert response.status_code == 302
    assert Lead.objects.get().owner == operator


def test_an_administrators_added_lead_without_owner_goes_by_the_rules_or_to_the_queue(
    administrator, operator, client_for
) -> None:
    campaign = CampaignFactory()
    client = client_for(administrator)

    client.post(reverse("admin:crm_models_lead_add"), lead_payload(campaign, email="a@example.ru"))
    rule = AssignmentRule.objects.create(name="All")
    AssignmentRuleMember.objects.create(rule=rule, user=operator)
    client.post(reverse("admin:crm_models_lead_add"), lead_payload(campaign, email="b@example.ru"))

    assert dict(Lead.objects.values_list("email", "owner_id")) == {
        "a@example.ru": None,
        "b@example.ru": operator.pk,
    }


def test_an_operators_added_lead_stays_theirs_whatever_the_rules(operator, operator2, client_for) -> None:
    rule = AssignmentRule.objects.create(name="All")
    AssignmentRuleMember.objects.create(rule=rule, user=operator2)

    client_for(operator).post(reverse("admin:crm_models_lead_add"), lead_payload(CampaignFactory()))

    assert Lead.objects.get().owner == operator
