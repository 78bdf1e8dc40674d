"""The demo data command: realistic counts, idempotent, working demo logins."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.test import Client
from django.urls import reverse

from crm_models.models import Campaign, Contract, Customer, Interaction, Lead, LeadStatus, Service

pytestmark = pytest.mark.django_db

DEMO_LOGINS = {
    "admin": "Administrator",
    "operator": "Operator",
    "operator2": "Operator",
    "marketer": "Marketer",
    "manager": "Manager",
    "manager2": "Manager",
}


def counts() -> dict[str, int]:
    return {
        model.__name__: model.objects.count()
        for model in (Service, Campaign, Lead, Customer, Contract, Interaction, User)
    }


@pytest.fixture
def demo(django_db_blocker: object) -> dict[str, int]:
    call_command("demo_data", verbosity=0)
    return counts()


def test_demo_data_counts(demo: dict[str, int]) -> None:
    assert demo["Service"] == 10
    assert demo["Campaign"] == 30
    assert demo["Lead"] == 2000
    assert 250 <= demo["Customer"] <= 400
    assert demo["Contract"] >= demo["Customer"]
    assert demo["Interaction"] >= demo["Customer"]
    assert set(Lead.objects.values_list("status", flat=True)) == set(LeadStatus.values)
    assert set(Campaign.objects.values_list("channel", flat=True)) == {
        "search",
        "social",
        "email",
        "display",
        "referral",
        "offline",
        "other",
    }
    assert Customer.objects.exclude(lead__status=LeadStatus.CONVERTED).count() == 0
    assert Customer.objects.filter(contracts__isnull=True).count() == 0


def test_demo_data_is_idempotent(demo: dict[str, int]) -> None:
    call_command("demo_data", verbosity=0)
    assert counts() == demo


def test_demo_logins_work(demo: dict[str, int]) -> None:
    # One test for all six logins: loading the demo data is the slow part.
    for username, role in DEMO_LOGINS.items():
        user = User.objects.get(username=username)
        assert list(user.groups.values_list("name", flat=True)) == [role], username
        assert not user.is_superuser

        client = Client()
        response = client.post(
            reverse("admin:login"), {"username": username, "password": "demo", "next": "/admin/"}
        )
        assert response.status_code == 302, username
        assert client.get(reverse("admin:crm_models_lead_changelist")).status_code == 200, username


def test_demo_data_refused_in_production(settings: object) -> None:
    from django.core.management.base import CommandError

    settings.ENVIRONMENT = "production"  # type: ignore[attr-defined]
    with pytest.raises(CommandError, match="never created in production"):
        call_command("demo_data", verbosity=0)
    assert not User.objects.filter(username="admin").exists()
