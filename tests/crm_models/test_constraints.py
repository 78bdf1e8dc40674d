"""Each rule of the data model is enforced by the database (IntegrityError) and
reported as a readable error by the admin form."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from crm_models.models import Campaign, Contract, Lead, Service
from tests.factories import CampaignFactory, ContractFactory, LeadFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def assert_integrity_error(callable_: object) -> None:
    with pytest.raises(IntegrityError), transaction.atomic():
        callable_()  # type: ignore[operator]


def test_negative_price_refused_by_database() -> None:
    service = ServiceFactory()
    assert_integrity_error(lambda: Service.objects.filter(pk=service.pk).update(price=Decimal("-1")))


def test_negative_budget_refused_by_database() -> None:
    campaign = CampaignFactory()
    assert_integrity_error(lambda: Campaign.objects.filter(pk=campaign.pk).update(budget=Decimal("-0.01")))


def test_campaign_end_before_start_refused_by_database() -> None:
    campaign = CampaignFactory()
    assert_integrity_error(
        lambda: Campaign.objects.filter(pk=campaign.pk).update(
            end_date=campaign.start_date - timedelta(days=1)
        )
    )


def test_contract_negative_amount_and_dates_refused_by_database() -> None:
    contract = ContractFactory()
    assert_integrity_error(lambda: Contract.objects.filter(pk=contract.pk).update(amount=Decimal("-5")))
    assert_integrity_error(
        lambda: Contract.objects.filter(pk=contract.pk).update(
            end_date=contract.start_date - timedelta(days=1)
        )
    )


def test_service_name_unique_ignoring_case() -> None:
    ServiceFactory(name="SEO Audit")
    assert_integrity_error(lambda: ServiceFactory(name="seo audit"))


def test_lead_email_unique_and_lower_case_in_database() -> None:
    LeadFactory(email="ivan@example.com")
    assert_integrity_error(lambda: LeadFactory(email="ivan@example.com"))
    assert_integrity_error(lambda: LeadFactory(email="Other@Example.com"))


def test_lead_phone_unique_in_database() -> None:
    LeadFactory(phone="+79161234567")
    assert_integrity_error(lambda: LeadFactory(phone="+79161234567"))


def test_lead_needs_a_contact() -> None:
    assert_integrity_error(lambda: LeadFactory(email="", phone=""))


def test_protect_refuses_deleting_a_campaign_with_leads() -> None:
    from django.db.models import ProtectedError

    lead = LeadFactory()
    with pytest.raises(ProtectedError):
        lead.campaign.delete()
    assert Lead.objects.filter(pk=lead.pk).exists()


def test_deleting_a_user_clears_them_from_history_without_a_database_constraint() -> None:
    """The history user is kept by Django (models.history_records): no foreign
    key for the database to check on every history row, and deleting a user
    through Django still sets their history rows' user to NULL."""
    from django.contrib.auth.models import User
    from django.db import connection

    user = User.objects.create_user("leaving")
    lead = LeadFactory()
    lead.history.update(history_user=user)
    assert lead.history.filter(history_user=user).count() == 1
    user.delete()
    assert list(lead.history.values_list("history_user_id", flat=True)) == [None]
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, Lead.history.model._meta.db_table)
    history_user_keys = [
        name
        for name, info in constraints.items()
        if info["foreign_key"] and info["columns"] == ["history_user_id"]
    ]
    assert history_user_keys == []
