"""The dashboard's follow-up cards: an operator's overdue, due-today and stale
counts; a manager's customers' follow-ups and contracts ending within 30
days; nothing of the kind for marketers."""

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.utils import timezone

from crm_models.models import Lead, LeadStatus
from crm_models.selectors.followups import day_bounds, workday_counts
from crm_models.services.followups import follow_up_plan
from tests.factories import ContractFactory, CustomerFactory, LeadFactory

pytestmark = pytest.mark.django_db


def cards(html: str) -> dict[str, str]:
    return dict(re.findall(r'data-count="([a-z-]+)">([^<]+)<', html))


def test_operator_sees_overdue_today_and_stale(
    operator: User, operator2: User, client_for: Callable[[User], Client]
) -> None:
    now, _start, end = day_bounds()
    mine = LeadFactory(owner=operator)
    follow_up_plan(lead=mine, user=operator, due_at=now - timedelta(hours=2))
    follow_up_plan(lead=mine, user=operator, due_at=now - timedelta(days=3))
    follow_up_plan(lead=LeadFactory(owner=operator), user=operator, due_at=now + (end - now) / 2)
    follow_up_plan(lead=LeadFactory(owner=operator2), user=operator2, due_at=now - timedelta(hours=2))
    stale = LeadFactory(owner=operator, status=LeadStatus.IN_PROGRESS)
    LeadFactory(owner=operator2, status=LeadStatus.IN_PROGRESS)  # stale, but not in the operator's list
    Lead.objects.update(created_at=now - timedelta(days=20))
    response = client_for(operator).get("/admin/")
    assert response.status_code == 200
    assert cards(response.content.decode()) == {"overdue": "2", "today": "1", "stale": "1"}
    assert workday_counts(user=operator).stale == 1
    assert stale.pk in set(Lead.objects.visible_to(operator).values_list("pk", flat=True))


def test_manager_sees_customers_follow_ups_and_contracts_ending(
    manager: User, manager2: User, client_for: Callable[[User], Client]
) -> None:
    now = timezone.now()
    customer = CustomerFactory(account_manager=manager)
    follow_up_plan(lead=customer.lead, user=manager, due_at=now - timedelta(hours=1))
    follow_up_plan(
        lead=CustomerFactory(account_manager=manager2).lead, user=manager2, due_at=now - timedelta(hours=1)
    )
    today = timezone.localdate()
    ContractFactory(customer=customer, end_date=today + timedelta(days=10))
    ContractFactory(customer=customer, end_date=today + timedelta(days=30))
    ContractFactory(customer=customer, end_date=today + timedelta(days=31))
    ContractFactory(
        customer=customer, start_date=today - timedelta(days=90), end_date=today - timedelta(days=1)
    )
    ContractFactory(customer=CustomerFactory(account_manager=manager2), end_date=today + timedelta(days=5))
    html = client_for(manager).get("/admin/").content.decode()
    assert cards(html) == {"overdue": "1", "today": "0", "contracts-ending": "2"}
    assert f"end_date_from={today.isoformat()}" in html


def test_marketer_sees_no_follow_up_cards(marketer: User, client_for: Callable[[User], Client]) -> None:
    html = client_for(marketer).get("/admin/").content.decode()
    assert 'id="workday"' not in html
