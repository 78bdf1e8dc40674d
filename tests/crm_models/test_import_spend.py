"""Importing ad spend: each platform's report as it is exported, campaigns by
name or utm_campaign, duplicates by campaign, day and source, row errors."""

from datetime import date
from decimal import Decimal

import pytest

from crm_models.capture_models import AdSpend
from crm_models.models import ImportRecord
from tests.crm_models.import_helpers import (
    confirm,
    csv_bytes,
    error_cells,
    make_sample_campaigns,
    sample,
    upload,
)
from tests.factories import AdSpendFactory, CampaignFactory

pytestmark = pytest.mark.django_db


def spend_rows() -> list[tuple[str, date, str, Decimal]]:
    return list(
        AdSpend.objects.order_by("campaign__name", "date").values_list(
            "campaign__name", "date", "source", "amount"
        )
    )


def test_yandex_direct_report_in_russian(marketer, client_for) -> None:
    campaigns = make_sample_campaigns()
    campaigns[0].utm_campaign = "yandex_spring"
    campaigns[0].save()
    client = client_for(marketer)

    preview = upload(client, "adspend", "spend-yandex-direct-ru.csv", sample("spend-yandex-direct-ru.csv"))
    assert preview.context["counts"] == {"new": 3, "updated": 0, "skipped": 0, "errors": 0}
    confirm(client, "adspend", preview.context["token"])

    assert spend_rows() == [
        ("Яндекс Директ — весна", date(2026, 3, 1), "yandex", Decimal("4520.50")),
        ("Яндекс Директ — весна", date(2026, 3, 2), "yandex", Decimal("4301.00")),
        ("Яндекс Директ — весна", date(2026, 3, 3), "yandex", Decimal("4688.10")),
    ]
    assert AdSpend.history.filter(history_user=marketer, history_type="+").count() == 3
    record = ImportRecord.objects.get()
    assert (record.kind, record.created_count) == ("adspend", 3)


def test_google_ads_report_in_english(marketer, client_for) -> None:
    make_sample_campaigns()
    client = client_for(marketer)

    preview = upload(client, "adspend", "spend-google-ads-en.csv", sample("spend-google-ads-en.csv"))
    assert preview.context["counts"] == {"new": 2, "updated": 0, "skipped": 0, "errors": 0}
    confirm(client, "adspend", preview.context["token"])

    assert spend_rows() == [
        ("Баннеры на РБК", date(2026, 3, 1), "google", Decimal("1250.00")),
        ("Баннеры на РБК", date(2026, 3, 2), "google", Decimal("1310.40")),
    ]


def test_vk_ads_statistics_as_xlsx(marketer, client_for) -> None:
    make_sample_campaigns()
    client = client_for(marketer)

    preview = upload(client, "adspend", "spend-vk-ads-ru.xlsx", sample("spend-vk-ads-ru.xlsx"))
    assert preview.context["counts"] == {"new": 2, "updated": 0, "skipped": 0, "errors": 0}
    confirm(client, "adspend", preview.context["token"])

    assert spend_rows() == [
        ("VK Реклама — бизнес", date(2026, 3, 1), "vk", Decimal("2100.00")),
        ("VK Реклама — бизнес", date(2026, 3, 2), "vk", Decimal("1980.75")),
    ]


@pytest.mark.parametrize(
    ("header", "source"),
    [
        (["Date", "Campaign", "Cost (RUB)"], "yandex"),
        (["Дата", "Кампания", "Списания"], "vk"),
        (["День", "Кампания", "Стоимость"], "google"),
        (["Date", "Campaign", "Spent"], "vk"),
        (["Date", "Campaign", "Amount", "Source"], "newsletter"),
        (["Дата", "Кампания", "Расход"], ""),
    ],
)
def test_headers_of_each_platform_in_both_languages(marketer, client_for, header, source) -> None:
    CampaignFactory(name="Spring")
    row = ["2026-03-01", "spring", "99.90"] + (["Newsletter"] if "Source" in header else [])
    client = client_for(marketer)

    preview = upload(client, "adspend", "spend.csv", csv_bytes([header, row], delimiter=";"))
    confirm(client, "adspend", preview.context["token"])

    assert spend_rows() == [("Spring", date(2026, 3, 1), source, Decimal("99.90"))]


def test_row_errors_name_the_row_column_and_value(marketer, client_for) -> None:
    CampaignFactory(name="Spring")
    data = csv_bytes(
        [
            ["Дата", "Кампания", "Расход"],
            ["01.03.2026", "Spring", "100"],
            ["31.02.2026", "Spring", "100"],
            ["02.03.2026", "Autumn", "100"],
            ["03.03.2026", "Spring", "-5"],
            ["01.03.2026", "SPRING", "7"],
        ],
        delimiter=";",
        encoding="cp1251",
    )

    preview = upload(client_for(marketer), "adspend", "spend.csv", data)

    assert error_cells(preview) == [
        (3, "Дата", "31.02.2026", "Enter a date as YYYY-MM-DD or DD.MM.YYYY."),
        (4, "Кампания", "Autumn", "No campaign with this name or utm_campaign."),
        (5, "Расход", "-5", "The amount cannot be negative."),
        (6, "Дата", "2026-03-01", "Same campaign, day and source as row 2."),
    ]
    assert preview.context["confirm_form"] is None
    assert not AdSpend.objects.exists()


@pytest.mark.parametrize(("mode", "amount"), [("update", Decimal("250.00")), ("skip", Decimal("100.00"))])
def test_a_day_already_recorded_is_updated_or_skipped(marketer, client_for, mode, amount) -> None:
    spend = AdSpendFactory(
        campaign=CampaignFactory(name="Spring"), date=date(2026, 3, 1), source="yandex", amount=Decimal("100")
    )
    client = client_for(marketer)
    data = csv_bytes([["Date", "Campaign", "Cost (RUB)"], ["2026-03-01", "Spring", "250"]])

    preview = upload(client, "adspend", "spend.csv", data, duplicates=mode)
    confirm(client, "adspend", preview.context["token"])

    spend.refresh_from_db()
    assert spend.amount == amount
    assert AdSpend.objects.count() == 1


@pytest.mark.parametrize(("role", "status"), [("manager", 403), ("operator", 403), ("marketer", 200)])
def test_who_may_import_spend(request, client_for, role, status) -> None:
    response = client_for(request.getfixturevalue(role)).get("/admin/crm_models/adspend/import/")

    assert response.status_code == status
