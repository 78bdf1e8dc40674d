"""The lead import asks who owns the new rows: the importing operator, a
chosen operator, the assignment rules or the queue; the preview says what
will happen and forged choices are refused."""

import pytest
from django.contrib.messages import get_messages

from crm_models.models import AssignmentRule, AssignmentRuleMember, Lead
from crm_models.roles import Role
from tests.crm_models.import_helpers import confirm, csv_bytes, upload
from tests.factories import CampaignFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = ["first_name", "last_name", "email", "phone", "campaign"]


@pytest.fixture
def campaign():
    return CampaignFactory(name="Весна")


def rows(count: int) -> bytes:
    return csv_bytes([HEADER, *([f"Имя{i}", "", f"p{i}@example.ru", "", "Весна"] for i in range(count))])


def choices(response) -> list[str]:
    return [value for value, _label in response.context["form"].fields["owner_choice"].choices]


def test_a_marketer_chooses_an_operator_the_rules_or_the_queue(marketer, client_for, campaign) -> None:
    response = client_for(marketer).get("/admin/crm_models/lead/import/")

    assert choices(response) == ["operator", "rules", "unassigned"]
    assert response.context["form"].fields["owner_choice"].initial == "rules"


def test_an_importing_operator_may_keep_the_leads(client_for, campaign) -> None:
    user = UserFactory(username="both", role=Role.OPERATOR)
    user.groups.add(*user.groups.model.objects.filter(name=Role.MARKETER))
    client = client_for(user)

    response = client.get("/admin/crm_models/lead/import/")
    assert choices(response) == ["mine", "operator", "rules", "unassigned"]
    assert response.context["form"].fields["owner_choice"].initial == "mine"
    preview = upload(client, "lead", "x.csv", rows(2), owner_choice="mine")
    confirm(client, "lead", preview.context["token"])

    assert set(Lead.objects.values_list("owner_id", flat=True)) == {user.pk}


def test_a_chosen_operator_gets_the_new_leads(marketer, operator, client_for, campaign) -> None:
    client = client_for(marketer)

    preview = upload(client, "lead", "x.csv", rows(3), owner_choice="operator", owner=operator.pk)
    assert preview.context["ownership_lines"] == [f"3 new leads go to {operator.get_full_name()}."]
    confirm(client, "lead", preview.context["token"])

    assert set(Lead.objects.values_list("owner_id", flat=True)) == {operator.pk}
    assert set(Lead.history.values_list("owner_id", "history_user_id")) == {(operator.pk, marketer.pk)}


def test_the_rules_place_the_new_leads_and_the_preview_says_how(
    marketer, operator, operator2, client_for, campaign
) -> None:
    rule = AssignmentRule.objects.create(name="Spring web", campaign=campaign)
    AssignmentRuleMember.objects.create(rule=rule, user=operator)
    AssignmentRuleMember.objects.create(rule=rule, user=operator2)
    client = client_for(marketer)

    preview = upload(client, "lead", "x.csv", rows(5), owner_choice="rules")
    assert preview.context["ownership_lines"] == ["5 leads to 2 operators by rule “Spring web”."]
    assert b"5 leads to 2 operators by rule" in preview.content
    response = confirm(client, "lead", preview.context["token"])

    assert response.status_code == 302
    owners = list(Lead.objects.order_by("email").values_list("owner_id", flat=True))
    assert sorted(owners) == sorted([operator.pk, operator2.pk, operator.pk, operator2.pk, operator.pk])
    rule.refresh_from_db()
    assert rule.turns == 5


def test_the_preview_in_russian(marketer, operator, client_for, campaign) -> None:
    rule = AssignmentRule.objects.create(name="Spring web")
    AssignmentRuleMember.objects.create(rule=rule, user=operator)
    client = client_for(marketer)
    client.cookies["django_language"] = "ru"

    preview = upload(client, "lead", "x.csv", rows(2), owner_choice="rules")

    assert preview.context["ownership_lines"] == ["2 лида — 1 оператору по правилу «Spring web»."]


def test_unassigned_leads_wait_in_the_queue(marketer, client_for, campaign) -> None:
    client = client_for(marketer)

    preview = upload(client, "lead", "x.csv", rows(2), owner_choice="unassigned")
    assert preview.context["ownership_lines"] == ["2 new leads go to the unassigned queue."]
    confirm(client, "lead", preview.context["token"])

    assert set(Lead.objects.values_list("owner_id", flat=True)) == {None}


@pytest.mark.parametrize(
    ("fields", "errors"),
    [
        ({"owner_choice": "mine"}, {"owner_choice": ["This choice of owner is not open to you."]}),
        ({"owner_choice": "operator"}, {"owner": ["Choose the operator who gets the new leads."]}),
        (
            {"owner_choice": "operator", "owner": "marketer"},
            {"owner": ["Choose one of the active operators."]},
        ),
        ({"owner_choice": "operator", "owner": "abc"}, {"owner": ["Choose one of the active operators."]}),
    ],
)
def test_forged_choices_are_refused_and_nothing_is_read(
    marketer, client_for, campaign, fields: dict, errors: dict
) -> None:
    if fields.get("owner") == "marketer":
        fields = {**fields, "owner": marketer.pk}

    response = upload(client_for(marketer), "lead", "x.csv", rows(1), **fields)

    assert response.status_code == 200
    assert response.context["form"].errors == errors
    assert "token" not in response.context
    assert not Lead.objects.exists()


def test_an_operator_deactivated_before_the_confirmation_is_refused(
    marketer, operator, client_for, campaign
) -> None:
    client = client_for(marketer)
    preview = upload(client, "lead", "x.csv", rows(2), owner_choice="operator", owner=operator.pk)
    operator.is_active = False
    operator.save()

    response = confirm(client, "lead", preview.context["token"])

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        f"{operator.get_full_name()} is not an active operator: choose one of the active operators."
    ]
    assert not Lead.objects.exists()
