"""The admin form normalises contacts and reports each broken rule readably."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from crm_models.models import Campaign, Lead, Service
from crm_models.normalization import normalize_phone
from tests.factories import CampaignFactory, LeadFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def lead_payload(campaign: Campaign, **fields: object) -> dict[str, object]:
    data: dict[str, object] = {
        "first_name": "Ivan",
        "last_name": "Petrov",
        "email": "",
        "phone": "",
        "campaign": campaign.pk,
        "status": "new",
        "interactions-TOTAL_FORMS": "0",
        "interactions-INITIAL_FORMS": "0",
    }
    data.update(fields)
    return data


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("8 (916) 200-00-00", "+79162000000"),
        ("+7 916 200 00 01", "+79162000001"),
        ("89162000002", "+79162000002"),
        ("7-916-200-00-03", "+79162000003"),
    ],
)
def test_phone_typed_any_way_is_stored_in_e164(typed: str, stored: str) -> None:
    assert normalize_phone(typed) == stored


def test_operator_adds_lead_with_normalised_contacts(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    campaign = CampaignFactory()
    response = client_for(operator).post(
        reverse("admin:crm_models_lead_add"),
        lead_payload(campaign, email="  Ivan.Petrov@Example.COM ", phone="8 (916) 555-12-34"),
    )

    assert response.status_code == 302
    lead = Lead.objects.get()
    assert (lead.email, lead.phone, lead.owner) == ("ivan.petrov@example.com", "+79165551234", operator)
    assert lead.history.get().history_user == operator


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"email": "IVAN@example.com"}, "A lead with this e-mail already exists."),
        ({"phone": "8 916 123-45-67"}, "A lead with this phone number already exists."),
        ({"phone": "12345"}, "Enter a valid phone number"),
        ({}, "Give an e-mail or a phone number."),
    ],
)
def test_lead_form_reports_broken_rules(
    fields: dict[str, str], message: str, operator: User, client_for: Callable[[User], Client]
) -> None:
    LeadFactory(email="ivan@example.com", phone="+79161234567")
    response = client_for(operator).post(
        reverse("admin:crm_models_lead_add"), lead_payload(CampaignFactory(), **fields)
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert Lead.objects.count() == 1


def test_campaign_form_reports_negative_budget_and_reversed_dates(
    marketer: User, client_for: Callable[[User], Client]
) -> None:
    service = ServiceFactory()
    response = client_for(marketer).post(
        reverse("admin:crm_models_campaign_add"),
        {
            "name": "Spring",
            "service": service.pk,
            "channel": "search",
            "budget": "-5",
            "start_date": "2026-05-01",
            "end_date": "2026-04-01",
        },
    )

    body = response.content.decode()
    assert response.status_code == 200
    assert "The amount cannot be negative." in body
    assert "The end date cannot be before the start date." in body
    assert not Campaign.objects.exists()


def test_service_name_unique_ignoring_case_in_form(
    marketer: User, client_for: Callable[[User], Client]
) -> None:
    ServiceFactory(name="SEO Audit")
    response = client_for(marketer).post(
        reverse("admin:crm_models_service_add"), {"name": "seo audit", "price": "10", "is_active": "on"}
    )

    assert response.status_code == 200
    assert "A service with this name already exists." in response.content.decode()
    assert Service.objects.count() == 1


def test_refused_delete_says_why(marketer: User, client_for: Callable[[User], Client]) -> None:
    lead = LeadFactory()
    response = client_for(marketer).post(
        reverse("admin:crm_models_campaign_delete", args=[lead.campaign_id]), {"post": "yes"}
    )

    assert response.status_code == 200
    assert "would require deleting the following protected related objects" in response.content.decode()
    assert Campaign.objects.filter(pk=lead.campaign_id).exists()
