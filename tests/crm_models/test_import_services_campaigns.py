"""Importing services and campaigns: the sample files, names any case,
channels by code or label, unknown service, duplicates."""

from datetime import date
from decimal import Decimal

import pytest

from crm_models.models import Campaign, Channel, ImportRecord, Service
from tests.crm_models.import_helpers import confirm, csv_bytes, error_cells, sample, upload
from tests.factories import CampaignFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def test_sample_services_then_campaigns_import(marketer, client_for) -> None:
    client = client_for(marketer)

    services = upload(client, "service", "services-ru-utf8.csv", sample("services-ru-utf8.csv"))
    assert services.context["counts"] == {"new": 4, "updated": 0, "skipped": 0, "errors": 0}
    confirm(client, "service", services.context["token"])
    campaigns = upload(client, "campaign", "campaigns-ru-cp1251.csv", sample("campaigns-ru-cp1251.csv"))
    assert campaigns.context["counts"] == {"new": 5, "updated": 0, "skipped": 0, "errors": 0}
    confirm(client, "campaign", campaigns.context["token"])

    email = Service.objects.get(name="Email-маркетинг")
    assert (email.description, email.price, email.is_active) == (
        "Стратегия, шаблоны и рассылки",
        Decimal("25000.00"),
        True,
    )
    spring = Campaign.objects.get(name="Яндекс Директ — весна")
    assert (spring.service.name, spring.channel, spring.budget, spring.start_date, spring.end_date) == (
        "Контекстная реклама",
        Channel.SEARCH,
        Decimal("120000.00"),
        date(2026, 3, 1),
        date(2026, 5, 31),
    )
    assert Campaign.history.filter(history_user=marketer, history_type="+").count() == 5
    assert Service.history.filter(history_user=marketer, history_type="+").count() == 4
    assert list(ImportRecord.objects.order_by("pk").values_list("kind", "created_count")) == [
        ("service", 4),
        ("campaign", 5),
    ]


@pytest.mark.parametrize(
    ("channel", "code"),
    [
        ("social", Channel.SOCIAL),
        ("Social media", Channel.SOCIAL),
        ("Соцсети", Channel.SOCIAL),
        ("БАННЕРЫ", Channel.DISPLAY),
    ],
)
def test_channel_by_code_or_label(marketer, client_for, channel: str, code: str) -> None:
    ServiceFactory(name="SMM")
    client = client_for(marketer)
    data = csv_bytes(
        [
            ["Название", "Услуга", "Канал", "Бюджет", "Начало", "Окончание"],
            ["C", "smm", channel, "1 000,50", "01.02.2026", "2026-03-01"],
        ],
        delimiter=";",
    )

    confirm(client, "campaign", upload(client, "campaign", "c.csv", data).context["token"])

    campaign = Campaign.objects.get()
    assert (campaign.channel, campaign.budget, campaign.start_date) == (
        code,
        Decimal("1000.50"),
        date(2026, 2, 1),
    )


def test_campaign_row_errors(marketer, client_for) -> None:
    ServiceFactory(name="SMM")
    header = ["name", "service", "channel", "budget", "start_date", "end_date"]
    data = csv_bytes(
        [
            header,
            ["A", "Нет такой", "search", "1", "2026-01-01", "2026-01-02"],
            ["B", "SMM", "radio", "1", "2026-01-01", "2026-01-02"],
            ["C", "SMM", "search", "-5", "2026-01-01", "2026-01-02"],
            ["D", "SMM", "search", "1", "2026-02-01", "2026-01-02"],
            ["E", "SMM", "search", "1", "yesterday", "2026-01-02"],
            ["e", "SMM", "search", "1", "2026-01-01", "2026-01-02"],
            ["E", "SMM", "search", "1", "2026-01-01", "2026-01-02"],
        ]
    )

    response = upload(client_for(marketer), "campaign", "c.csv", data)

    assert error_cells(response) == [
        (2, "service", "Нет такой", "No service with this name."),
        (
            3,
            "channel",
            "radio",
            "Unknown channel. Use one of: search, social, email, display, referral, offline, other.",
        ),
        (4, "budget", "-5", "The amount cannot be negative."),
        (5, "end_date", "2026-01-02", "The end date cannot be before the start date."),
        (6, "start_date", "yesterday", "Enter a date as YYYY-MM-DD or DD.MM.YYYY."),
        (8, "name", "E", "Same name as row 7."),
    ]


@pytest.mark.parametrize(("mode", "price"), [("skip", Decimal("10.00")), ("update", Decimal("99.00"))])
def test_service_names_match_any_case(marketer, client_for, mode: str, price: Decimal) -> None:
    service = ServiceFactory(name="SEO", price=Decimal("10.00"))
    client = client_for(marketer)
    data = csv_bytes([["name", "price"], ["seo", "99"]])

    preview = upload(client, "service", "s.csv", data, duplicates=mode)
    confirm(client, "service", preview.context["token"])

    assert [(d.row, d.message) for d in preview.context["plan"].duplicates] == [
        (2, f"Same name as service #{service.pk} (SEO).")
    ]
    service.refresh_from_db()
    assert (service.name, service.price) == (("SEO", price) if mode == "skip" else ("seo", price))
    assert Service.objects.count() == 1


def test_campaign_update_writes_history(marketer, client_for) -> None:
    campaign = CampaignFactory(name="Spring", budget=Decimal("1.00"))
    client = client_for(marketer)
    data = csv_bytes(
        [
            ["name", "service", "channel", "budget", "start", "end"],
            ["Spring", campaign.service.name, "email", "5", "2026-01-01", "2026-02-01"],
        ]
    )

    confirm(
        client, "campaign", upload(client, "campaign", "c.csv", data, duplicates="update").context["token"]
    )

    campaign.refresh_from_db()
    assert (campaign.budget, campaign.channel) == (Decimal("5.00"), Channel.EMAIL)
    latest = campaign.history.latest()
    assert (latest.history_type, latest.history_user, latest.budget) == ("~", marketer, Decimal("5.00"))
