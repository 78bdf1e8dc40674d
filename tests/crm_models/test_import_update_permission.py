"""Updating existing records through an import needs what the change form
needs: the model's change permission, and the row in the user's scope. Without
the permission the mode is not offered, and a forged request (at the upload or
at the confirmation) changes nothing and says why."""

from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission, User
from django.urls import reverse

from crm_models.importing.pending import pending_save
from crm_models.models import Campaign, ImportRecord, Lead, Service
from crm_models.roles import Role
from tests.crm_models.import_helpers import confirm, csv_bytes, import_url, upload
from tests.factories import CampaignFactory, LeadFactory, ServiceFactory, UserFactory

pytestmark = pytest.mark.django_db

NOT_OFFERED = "You may not change existing {records}, so rows that match one can only be skipped."
REFUSED = "You may not change existing {records}, so the file cannot update them. Nothing was imported."
LEAD_HEADER = ["ID", "First name", "E-mail", "Campaign", "Notes"]


@pytest.fixture
def foreign_lead(operator: User) -> Lead:
    """An operator's lead: what the marketer tried to rewrite."""
    return LeadFactory(
        first_name="Olga", email="olga@example.ru", owner=operator, campaign=CampaignFactory(name="Весна")
    )


def lead_file(lead: Lead, *, with_id: bool) -> bytes:
    row = [str(lead.pk) if with_id else "", "Hijacked", lead.email, "Другая", "overwritten"]
    return csv_bytes([LEAD_HEADER, row])


def lead_state(lead: Lead) -> tuple:
    lead.refresh_from_db()
    return (lead.first_name, lead.campaign.name, lead.notes, lead.history.count())


def user_who_imports_without_change(model: str) -> User:
    """Staff with the import, view and add permissions of `model`, but not change."""
    user = UserFactory(username=f"t_importer_{model}")
    user.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="crm_models",
            codename__in=[f"import_{model}", f"view_{model}", f"add_{model}"],
        )
    )
    return user


@pytest.mark.parametrize(
    ("role", "model", "offered"),
    [
        ("administrator", "lead", True),
        ("administrator", "service", True),
        ("administrator", "campaign", True),
        ("marketer", "lead", False),
        ("marketer", "service", True),
        ("marketer", "campaign", True),
    ],
)
def test_update_mode_is_offered_only_with_the_change_permission(
    role: str, model: str, offered: bool, request: pytest.FixtureRequest, client_for
) -> None:
    response = client_for(request.getfixturevalue(role)).get(import_url(model))

    body = response.content.decode()
    assert response.status_code == 200
    assert ('type="radio"' in body and 'value="update"' in body) is offered
    assert ('id="import-skip-only"' in body) is (not offered)
    if not offered:
        assert '<input type="hidden" name="duplicates" value="skip"' in body


@pytest.mark.parametrize("with_id", [True, False], ids=["by-id", "by-email"])
def test_marketer_forging_the_update_mode_changes_no_lead(
    with_id: bool, marketer: User, foreign_lead: Lead, client_for
) -> None:
    CampaignFactory(name="Другая")
    before = lead_state(foreign_lead)

    response = upload(
        client_for(marketer), "lead", "x.csv", lead_file(foreign_lead, with_id=with_id), "update"
    )

    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [NOT_OFFERED.format(records="leads")]
    assert NOT_OFFERED.format(records="leads") in response.content.decode()
    assert "token" not in response.context  # no preview to confirm
    assert lead_state(foreign_lead) == before
    assert ImportRecord.objects.count() == 0


def test_marketer_confirming_a_forged_update_preview_changes_no_lead(
    marketer: User, foreign_lead: Lead, client_for
) -> None:
    """A preview saved in "update" mode (the permission was taken away after
    it, or the stored preview was forged) is refused at the confirmation."""
    CampaignFactory(name="Другая")
    before = lead_state(foreign_lead)
    token = pending_save(
        {
            "user_id": marketer.pk,
            "kind": "lead",
            "mode": "update",
            "file": {"name": "x.csv", "sha256": "0" * 64, "size": 1, "format": "csv"},
            "headers": {
                "first_name": "First name",
                "last_name": "Last name",
                "email": "E-mail",
                "phone": "Phone",
                "company": "Company",
                "campaign": "Campaign",
                "notes": "Notes",
                "id": "ID",
            },
            "errors": [],
            "rows": [[2, "Hijacked", None, foreign_lead.email, None, None, "Другая", "overwritten", None]],
        }
    )
    client = client_for(marketer)

    response = confirm(client, "lead", token)

    assert response.status_code == 302
    assert response["Location"] == import_url("lead")
    messages = [str(m) for m in client.get(response["Location"]).context["messages"]]
    assert messages == [REFUSED.format(records="leads")]
    assert lead_state(foreign_lead) == before
    assert ImportRecord.objects.count() == 0


@pytest.mark.parametrize("role", [Role.OPERATOR, Role.MANAGER])
def test_roles_without_the_import_permission_are_refused(role: Role, foreign_lead: Lead, client_for) -> None:
    """The operator owns the lead and the manager may change it; neither may import."""
    user = foreign_lead.owner if role == Role.OPERATOR else UserFactory(username="t_manager", role=role)
    before = lead_state(foreign_lead)

    response = upload(client_for(user), "lead", "x.csv", lead_file(foreign_lead, with_id=True), "update")

    assert response.status_code == 403
    assert lead_state(foreign_lead) == before


def test_administrator_updates_the_lead(administrator: User, foreign_lead: Lead, client_for) -> None:
    CampaignFactory(name="Другая")
    client = client_for(administrator)

    preview = upload(client, "lead", "x.csv", lead_file(foreign_lead, with_id=True), "update")
    assert preview.context["counts"] == {"new": 0, "updated": 1, "skipped": 0, "errors": 0}
    confirm(client, "lead", preview.context["token"])

    foreign_lead.refresh_from_db()
    assert (foreign_lead.first_name, foreign_lead.campaign.name, foreign_lead.notes) == (
        "Hijacked",
        "Другая",
        "overwritten",
    )


@pytest.mark.parametrize("model", ["service", "campaign"])
def test_importer_without_change_permission_updates_no_service_or_campaign(model: str, client_for) -> None:
    service = ServiceFactory(name="SEO", price=Decimal("10.00"))
    campaign = CampaignFactory(name="Spring", service=service, budget=Decimal("1.00"))
    data = {
        "service": csv_bytes([["name", "price"], ["SEO", "99"]]),
        "campaign": csv_bytes(
            [
                ["name", "service", "channel", "budget", "start", "end"],
                ["Spring", "SEO", "email", "5", "2026-01-01", "2026-02-01"],
            ]
        ),
    }[model]
    user = user_who_imports_without_change(model)
    client = client_for(user)

    page = client.get(import_url(model)).content.decode()
    response = upload(client, model, "x.csv", data, "update")

    records = {"service": "services", "campaign": "campaigns"}[model]
    assert 'value="update"' not in page
    assert response.status_code == 200
    assert response.context["form"].non_field_errors() == [NOT_OFFERED.format(records=records)]
    service.refresh_from_db()
    campaign.refresh_from_db()
    assert (service.price, campaign.budget, campaign.channel) == (Decimal("10.00"), Decimal("1.00"), "search")
    assert (Service.objects.count(), Campaign.objects.count(), ImportRecord.objects.count()) == (1, 1, 0)


@pytest.mark.parametrize("model", ["service", "campaign"])
def test_importer_without_change_permission_still_skips_and_adds(model: str, client_for) -> None:
    ServiceFactory(name="SEO")
    CampaignFactory(name="Spring")
    data = {
        "service": csv_bytes([["name", "price"], ["SEO", "99"], ["SMM", "5"]]),
        "campaign": csv_bytes(
            [
                ["name", "service", "channel", "budget", "start", "end"],
                ["Spring", "SEO", "email", "5", "2026-01-01", "2026-02-01"],
                ["Autumn", "SEO", "email", "5", "2026-09-01", "2026-10-01"],
            ]
        ),
    }[model]
    client = client_for(user_who_imports_without_change(model))

    preview = upload(client, model, "x.csv", data)
    response = confirm(client, model, preview.context["token"])

    assert preview.context["counts"] == {"new": 1, "updated": 0, "skipped": 1, "errors": 0}
    assert response.status_code == 302
    assert response["Location"] == reverse(f"admin:crm_models_{model}_changelist")
