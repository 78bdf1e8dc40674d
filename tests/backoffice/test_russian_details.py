"""The places where Russian used to read wrong: history, export columns, the
conversion note, filter titles, the import preview's "New", inline buttons."""

import re
from collections.abc import Callable
from decimal import Decimal

import pytest
from django.contrib.auth.models import User
from django.test import Client
from django.urls import reverse
from django.utils import translation

from crm_models.models import Lead, LeadStatus
from crm_models.services.conversion import conversion_summary
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def russian(client: Client) -> Client:
    client.cookies["django_language"] = "ru"
    return client


def test_history_shows_labels_and_dashes(
    administrator: User, operator: User, client_for: Callable[[User], Client]
) -> None:
    lead = LeadFactory(owner=operator, status=LeadStatus.NEW, company="")
    lead.status = LeadStatus.IN_PROGRESS
    lead.company = "Ромашка"
    lead.save()
    html = (
        russian(client_for(administrator))
        .get(reverse("admin:crm_models_lead_history", args=[lead.pk]))
        .content.decode()
    )
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "Статус: Новый arrow_right_alt В работе" in text
    assert "Компания: — arrow_right_alt Ромашка" in text
    assert "in_progress" not in text
    assert "None" not in text


def test_export_page_lists_columns_by_their_russian_labels(
    marketer: User, client_for: Callable[[User], Client]
) -> None:
    html = russian(client_for(marketer)).get(reverse("admin:crm_models_lead_export")).content.decode()
    labels = re.findall(r'<label for="id_leadresource_\w+"[^>]*>\s*(.*?)\s*</label>', html)
    assert labels == [
        "ID",
        "Имя",
        "Фамилия",
        "Эл. почта",
        "Телефон",
        "Компания",
        "Кампания",
        "Статус",
        "Ответственный",
        "Создано",
        "Стал клиентом",
        "Заметки",
    ]


def test_conversion_note_is_written_in_the_sites_language(settings: object) -> None:
    settings.LANGUAGE_CODE = "ru"  # type: ignore[attr-defined]
    with translation.override("en"):  # the converting manager reads English
        note = conversion_summary(contract="Д-1", service="Аудит", amount=Decimal("3000000"))
    assert note == "Стал клиентом: договор «Д-1» на услугу «Аудит», сумма 3\xa0000\xa0000,00\xa0₽."


def test_filter_titles_start_with_a_capital(operator: User, client_for: Callable[[User], Client]) -> None:
    LeadFactory(owner=operator)
    html = russian(client_for(operator)).get(reverse("admin:crm_models_lead_changelist")).content.decode()
    titles = re.findall(r'<label for="id_[\w-]+"[^>]*>\s*([^<]+?)\s*<', html)
    assert {"Статус", "Канал"} <= set(titles)
    assert not [title for title in titles if title[0].islower()]


def test_new_as_a_lead_status_and_as_new_import_rows() -> None:
    with translation.override("ru"):
        assert str(LeadStatus.NEW.label) == "Новый"
        assert translation.gettext("New") == "Новые"
        assert (
            translation.gettext("Add another %(verbose_name)s") % {"verbose_name": "Взаимодействие"}
            == "Добавить: Взаимодействие"
        )


def test_lead_status_new_still_reads_new_in_english() -> None:
    assert str(LeadStatus.NEW.label) == "New"
    assert Lead._meta.get_field("status").choices[0] == ("new", "New")
