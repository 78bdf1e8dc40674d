"""Active filters as chips above the list, each removable with one click;
the list keeps its filters through an action."""

import re
from collections.abc import Callable
from html import unescape

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse

from crm_models.models import LeadStatus
from tests.factories import CampaignFactory, LeadFactory

pytestmark = pytest.mark.django_db
LEADS = reverse("admin:crm_models_lead_changelist")
CHIP = re.compile(r'<a href="([^"]*)"[^>]*data-filter-chip[^>]*>\s*<span>(.*?)</span>', re.S)


def chips(html: str) -> list[tuple[str, str]]:
    return [
        (unescape(href), re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", text)).strip())
        for href, text in CHIP.findall(html)
    ]


def test_no_chips_without_filters(operator: User, client_for: Callable[[User], Client]) -> None:
    html = client_for(operator).get(LEADS).content.decode()
    assert chips(html) == []
    assert 'id="filter-chips"' not in html


def test_each_active_filter_is_a_chip_removing_only_itself(
    administrator: User, client_for: Callable[[User], Client]
) -> None:
    campaign = CampaignFactory(name="Весна")
    LeadFactory(campaign=campaign, status=LeadStatus.IN_PROGRESS)
    client = client_for(administrator)
    client.cookies["django_language"] = "ru"
    query = f"?status__exact=in_progress&campaign__id__exact={campaign.pk}&q=lead"
    html = client.get(LEADS + query).content.decode()
    assert chips(html) == [
        (f"?campaign__id__exact={campaign.pk}&q=lead", "Статус: В работе"),
        ("?q=lead&status__exact=in_progress", "Кампания: Весна"),
        (f"?campaign__id__exact={campaign.pk}&status__exact=in_progress", "Поиск: lead"),
    ]
    assert "data-filter-chips-clear>Сбросить все</a>" in html
    assert re.search(r'<a href="\?"[^>]*data-filter-chips-clear', html)


def test_date_range_chip(operator: User, client_for: Callable[[User], Client]) -> None:
    html = client_for(operator).get(LEADS + "?created_at_from=2026-01-01").content.decode()
    assert chips(html) == [("?", "Created: 2026-01-01 – …")]


def test_filter_button_is_a_button(operator: User, client_for: Callable[[User], Client]) -> None:
    html = client_for(operator).get(LEADS).content.decode()
    assert re.search(r'<button type="button" id="filter-toggle" aria-controls="changelist-filter"', html)


def test_conversion_from_a_filtered_list_returns_to_it(
    manager: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(status=LeadStatus.QUALIFIED)
    query = "?status__exact=qualified"
    response = client_for(manager).post(
        LEADS + query, {"action": "convert_leads", "_selected_action": [lead.pk]}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert f'action="{LEADS}{query}"' in html or f'action="{LEADS}{query.replace("&", "&amp;")}"' in html
