"""The demo data command: realistic counts, idempotent, working demo logins."""

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.db.models import Count
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


def test_demo_data_has_owners_a_queue_rules_and_lost_reasons(demo: dict[str, int]) -> None:
    from django.utils import timezone

    from crm_models.models import AssignmentRule

    owners = dict(Lead.objects.values_list("owner__username").annotate(count=Count("id")))
    queued = owners.pop(None)
    assert set(owners) == {"operator", "operator2"}
    assert min(owners.values()) > 700
    # About a tenth of the leads wait in the queue, all of them new.
    assert 0.05 * demo["Lead"] <= queued <= 0.15 * demo["Lead"]
    assert set(Lead.objects.filter(owner__isnull=True).values_list("status", flat=True)) == {LeadStatus.NEW}
    rules = AssignmentRule.objects.order_by("position")
    assert [(rule.name, sorted(rule.members.values_list("username", flat=True))) for rule in rules] == [
        ("Search ads", ["operator", "operator2"]),
        ("Everything else", ["operator", "operator2"]),
    ]
    lost = Lead.objects.filter(status=LeadStatus.LOST)
    assert lost.filter(lost_reason__isnull=True).count() == 0
    assert lost.values("lost_reason").distinct().count() >= 4
    now = timezone.now()
    for model in (Lead, Customer, Contract, Interaction):
        assert not model.objects.filter(created_at__gt=now).exists(), model.__name__
    assert not Interaction.objects.filter(happened_at__gt=now).exists()
    assert not Lead.objects.filter(converted_at__gt=now).exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the bulk load through COPY is PostgreSQL's")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_bulk_load_gives_customers_and_contracts_their_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above the large-mode threshold demo_data loads through COPY with the
    foreign-key triggers off (replica mode); the search-text triggers still run."""
    monkeypatch.setattr("crm_models.management.commands.demo_data.LARGE_MODE_THRESHOLD", 100)
    call_command("demo_data", leads=400, verbosity=0)

    assert Lead.objects.count() == 400
    customers = list(Customer.objects.select_related("lead"))
    assert customers
    for customer in customers:
        lead = customer.lead
        assert customer.search_text == f"{lead.first_name} {lead.last_name} {lead.company} {lead.email}"
    contracts = list(Contract.objects.select_related("customer"))
    assert len(contracts) >= len(customers)
    for contract in contracts:
        assert contract.search_text == f"{contract.name} {contract.customer.search_text}"
