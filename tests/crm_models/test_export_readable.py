"""Exports people can open: choices as labels in the user's language, phones
as people write them ("+7 916 123-45-67") and as plain text in XLSX, dates as dates, columns wide enough, and an export page
that says how many rows the file will hold."""

import datetime
import io

import openpyxl
import pytest
from django.urls import reverse

from crm_models.models import Channel, LeadStatus
from crm_models.resources import CampaignResource, CustomerResource, LeadResource, column_widths
from tests.crm_models.test_export import CSV, XLSX, csv_rows, export
from tests.factories import CampaignFactory, CustomerFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_marketer_exports_statuses_and_channels_as_russian_labels(marketer, client_for) -> None:
    LeadFactory(status=LeadStatus.IN_PROGRESS, campaign=CampaignFactory(channel=Channel.SOCIAL))
    client = client_for(marketer)
    client.cookies["django_language"] = "ru"

    leads = csv_rows(export(client, "lead", LeadResource, CSV, fields=["status"]))
    campaigns = csv_rows(export(client, "campaign", CampaignResource, CSV, fields=["channel"]))

    assert leads == [["Status"], ["В работе"]]
    assert campaigns == [["Channel"], ["Социальные сети"]]


def test_xlsx_phone_is_a_text_cell_as_shown_and_dates_are_dates(marketer, client_for) -> None:
    lead = LeadFactory(phone="+79161234567", email="anna@example.ru")

    response = export(
        client_for(marketer), "lead", LeadResource, XLSX, fields=["phone", "email", "status", "created_at"]
    )

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    # Columns come in the resource's order: e-mail, phone, status, created.
    email, phone, status, created = (sheet.cell(row=2, column=index) for index in range(1, 5))
    assert (phone.value, phone.data_type) == ("+7 916 123-45-67", "s")
    assert (email.value, email.data_type) == ("anna@example.ru", "s")
    assert status.value == "New"
    assert isinstance(created.value, datetime.datetime)
    assert created.is_date
    assert created.value == lead.created_at.astimezone(
        datetime.timezone(datetime.timedelta(hours=3))
    ).replace(tzinfo=None, microsecond=0)
    assert sheet.column_dimensions["A"].width == len("anna@example.ru") + 2
    assert sheet.column_dimensions["B"].width == len("+7 916 123-45-67") + 2
    assert sheet.freeze_panes == "A2"


def test_column_widths_fit_the_longest_value_within_bounds() -> None:
    rows = [
        ("ID", "Notes", "Created"),
        (1, "x" * 200, datetime.datetime(2026, 3, 1, 10, 0)),
        (12345, "a\nbb", None),
    ]

    assert column_widths(rows) == [7, 60, 21]


@pytest.mark.parametrize(("query", "count"), [("", 3), ("status__exact=lost", 1)])
def test_export_page_says_how_many_rows_the_file_will_hold(
    marketer, client_for, query: str, count: int
) -> None:
    LeadFactory.create_batch(2)
    LeadFactory(status=LeadStatus.LOST)

    response = client_for(marketer).get(
        reverse("admin:crm_models_lead_export") + (f"?{query}" if query else "")
    )

    assert response.status_code == 200
    assert response.context["export_count"] == count
    rows = "row" if count == 1 else "rows"
    assert (
        f"The file will hold {count} {rows}: the list's current filters and search apply."
        in response.content.decode()
    )


def test_operator_export_count_is_their_scope(operator, operator2, client_for) -> None:
    from django.contrib.auth.models import Permission

    LeadFactory(owner=operator)
    LeadFactory.create_batch(2, owner=operator2)
    operator.user_permissions.add(Permission.objects.get(codename="export_lead"))

    response = client_for(operator).get(reverse("admin:crm_models_lead_export"))

    assert response.status_code == 200
    assert response.context["export_count"] == 1


def test_csv_phones_as_people_write_them(administrator, client_for) -> None:
    LeadFactory(phone="+79161234567", email="")
    CustomerFactory(lead=LeadFactory(phone="+79160000418", email=""))
    client = client_for(administrator)
    client.cookies["django_language"] = "ru"

    leads = csv_rows(export(client, "lead", LeadResource, CSV, fields=["phone"]))
    customers = csv_rows(export(client, "customer", CustomerResource, CSV, fields=["phone"]))

    # The CSV's apostrophe keeps a spreadsheet from reading "+7 ..." as a formula.
    assert sorted(leads[1:]) == [["'+7 916 000-04-18"], ["'+7 916 123-45-67"]]
    assert customers[1:] == [["'+7 916 000-04-18"]]
