"""An import keeps its good rows: the valid rows can be imported without the
bad ones, the bad ones come back as the file they were uploaded in, the preview
shows how the file was understood, and a created-date column dates the leads."""

import datetime
import io
import re

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from crm_models.models import ImportRecord, Lead
from tests.crm_models.import_helpers import (
    SAMPLE_BAD_ROWS,
    confirm,
    csv_bytes,
    error_cells,
    make_sample_campaigns,
    sample,
    upload,
)
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db


def test_marketer_imports_the_valid_rows_and_skips_the_rest(marketer, client_for) -> None:
    make_sample_campaigns()
    client = client_for(marketer)
    preview = upload(client, "lead", "leads.csv", sample("leads-excel-ru-cp1251.csv"))
    assert preview.context["confirm_form"] is None
    assert preview.context["partial_form"] is not None
    assert "Import the 35 valid rows, skip the rows with errors" in preview.content.decode()

    response = confirm(client, "lead", preview.context["token"], rows="valid")

    assert response.status_code == 302
    assert Lead.objects.count() == 35
    assert Lead.history.filter(history_type="+").count() == 35
    record = ImportRecord.objects.get()
    assert (record.rows_total, record.created_count, record.updated_count, record.skipped_count) == (
        40,
        35,
        0,
        0,
    )
    bad_emails = {"evgeniy.pavlov5@example.ru", "ivan.petrov@@example.ru", "timur.orlov17@example.ru"}
    assert not Lead.objects.filter(email__in=bad_emails).exists()
    # The preview is spent: confirming it again writes nothing.
    again = confirm(client, "lead", preview.context["token"], rows="valid")
    assert again.status_code == 302
    assert Lead.objects.count() == 35


def test_all_or_nothing_stays_the_default_and_writes_nothing(marketer, client_for) -> None:
    make_sample_campaigns()
    client = client_for(marketer)
    preview = upload(client, "lead", "leads.csv", sample("leads-excel-ru-cp1251.csv"))

    response = confirm(client, "lead", preview.context["token"])

    assert response.status_code == 302
    assert [str(m) for m in get_messages(response.wsgi_request)] == [
        "The file has rows that cannot be imported, so nothing was imported."
    ]
    assert Lead.objects.count() == 0
    assert ImportRecord.objects.count() == 0


def test_a_file_with_no_valid_row_offers_no_partial_import(marketer, client_for) -> None:
    CampaignFactory(name="Весна")
    rows = [["Имя", "Эл. почта", "Кампания"], ["Анна", "not-an-email", "Весна"]]

    preview = upload(client_for(marketer), "lead", "x.csv", csv_bytes(rows))

    assert preview.context["counts"] == {"new": 0, "updated": 0, "skipped": 0, "errors": 1}
    assert preview.context["partial_form"] is None
    assert preview.context["confirm_form"] is None


def test_xlsx_error_file_is_an_xlsx_with_the_cells_as_uploaded(marketer, client_for) -> None:
    make_sample_campaigns()
    client = client_for(marketer)
    data = sample("leads-ru.xlsx")
    preview = upload(client, "lead", "leads-ru.xlsx", data)

    download = client.get(reverse("admin:crm_models_lead_import_errors", args=[preview.context["token"]]))

    assert download.status_code == 200
    assert download["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert download["Content-Disposition"] == 'attachment; filename="leads-ru-errors.xlsx"'
    original = list(load_workbook(io.BytesIO(data)).worksheets[0].iter_rows(values_only=True))
    returned = list(load_workbook(io.BytesIO(download.content)).worksheets[0].iter_rows(values_only=True))
    assert returned[0] == (*original[0], "Error")
    assert [row[:-1] for row in returned[1:]] == [original[number - 1] for number in SAMPLE_BAD_ROWS]
    assert [row[-1] for row in returned[1:]] == [
        f"{column}: {message}" for _row, column, _value, message in error_cells(preview)
    ]


def test_preview_shows_the_first_rows_as_understood(marketer, client_for) -> None:
    make_sample_campaigns()

    preview = upload(client_for(marketer), "lead", "leads.csv", sample("leads-excel-ru-cp1251.csv"))

    sample_table = preview.context["sample"]
    assert [(c["header"], c["field"]) for c in sample_table["columns"]] == [
        ("Имя", "First name"),
        ("Фамилия", "Last name"),
        ("Эл. почта", "E-mail"),
        ("Телефон", "Phone"),
        ("Кампания", "Campaign"),
        ("Дата заявки", "Created"),
        ("UTM Source", ""),
    ]
    rows = sample_table["rows"]
    assert [row["number"] for row in rows] == list(range(2, 12))
    assert [row["outcome"] for row in rows] == ["new"] * 5 + ["error"] + ["new"] * 4
    first = [cell["value"] for cell in rows[0]["cells"]]
    assert first == [
        "Анна",
        "Смирнова",
        "anna.smirnova0@example.ru",
        "+7 916 200-00-00",
        "Яндекс Директ — весна",
        "March 1, 2026",
        "email",
    ]
    bad = rows[5]["cells"][4]
    assert (bad["value"], bad["error"]) == ("Яндекс Директ - весна", "No campaign with this name.")
    assert sample_table["more"] == 30
    html = preview.content.decode()
    assert "→ Created" in html
    assert "not imported" in html


def test_preview_in_russian_names_the_fields_in_russian(marketer, client_for) -> None:
    make_sample_campaigns()
    client = client_for(marketer)
    client.cookies["django_language"] = "ru"

    preview = upload(client, "lead", "leads.csv", sample("leads-excel-ru-cp1251.csv"))

    html = preview.content.decode()
    assert "→ Имя" in html
    assert "→ Создано" in html
    assert "не импортируется" in html
    assert "Импортировать 35 верных строк, пропустить строки с ошибками" in html


def test_created_date_column_dates_the_new_leads(marketer, client_for) -> None:
    make_sample_campaigns()
    client = client_for(marketer)
    preview = upload(client, "lead", "leads.csv", sample("leads-excel-ru-cp1251.csv"))

    confirm(client, "lead", preview.context["token"], rows="valid")

    lead = Lead.objects.get(email="anna.smirnova0@example.ru")
    moscow = datetime.timezone(datetime.timedelta(hours=3))
    assert lead.created_at == datetime.datetime(2026, 3, 1, tzinfo=moscow)
    assert lead.history.get().created_at == lead.created_at


@pytest.mark.parametrize(
    ("created", "message"),
    [
        ("future", "The date is in the future."),
        ("31.02.2026", "Enter a date as YYYY-MM-DD or DD.MM.YYYY, optionally with a time (HH:MM)."),
    ],
)
def test_created_date_in_the_future_or_invalid_is_a_row_error(
    created: str, message: str, marketer, client_for
) -> None:
    CampaignFactory(name="Весна")
    if created == "future":
        created = (timezone.localdate() + datetime.timedelta(days=1)).strftime("%d.%m.%Y")
    rows = [
        ["Имя", "Эл. почта", "Кампания", "Created"],
        ["Анна", "anna@example.ru", "Весна", created],
        ["Борис", "boris@example.ru", "Весна", "2026-01-15 09:30"],
    ]

    preview = upload(client_for(marketer), "lead", "x.csv", csv_bytes(rows))

    assert error_cells(preview) == [(2, "Created", created, message)]
    assert preview.context["counts"]["new"] == 1


def test_updated_lead_keeps_its_created_date(administrator, client_for) -> None:
    # Updating existing leads needs their change permission: an administrator's.
    campaign = CampaignFactory(name="Весна")
    lead = Lead.objects.create(
        first_name="Анна", email="anna@example.ru", campaign=campaign, owner=administrator
    )
    arrived = lead.created_at
    client = client_for(administrator)
    rows = [
        ["Имя", "Эл. почта", "Кампания", "Дата заявки"],
        ["Анна", "anna@example.ru", "Весна", "01.01.2026"],
    ]
    preview = upload(client, "lead", "x.csv", csv_bytes(rows), duplicates="update")

    confirm(client, "lead", preview.context["token"])

    lead.refresh_from_db()
    assert lead.created_at == arrived


def test_error_file_link_survives_a_partial_import_only_for_its_user(marketer, client_for) -> None:
    make_sample_campaigns()
    client = client_for(marketer)
    preview = upload(client, "lead", "leads.csv", sample("leads-excel-ru-cp1251.csv"))
    done = confirm(client, "lead", preview.context["token"], rows="valid")
    (message,) = [str(m) for m in get_messages(done.wsgi_request)]
    url = re.search(r'href="([^"]+)"', message)[1]

    assert client.get(url).status_code == 200
    assert (
        client.post(
            reverse("admin:crm_models_lead_process_import"), {"token": url.split("/")[-2]}
        ).status_code
        == 302
    )
    assert Lead.objects.count() == 35


def test_preview_links_a_duplicate_to_the_existing_lead(marketer, client_for) -> None:
    campaign = CampaignFactory(name="Весна")
    existing = Lead.objects.create(
        first_name="Анна", email="anna@example.ru", campaign=campaign, owner=marketer
    )
    rows = [["Имя", "Эл. почта", "Кампания"], ["Анна", "Anna@example.ru", "Весна"]]

    preview = upload(client_for(marketer), "lead", "x.csv", csv_bytes(rows))

    url = reverse("admin:crm_models_lead_change", args=[existing.pk])
    assert f'href="{url}">Same e-mail as lead #{existing.pk} (Анна).</a>' in preview.content.decode()


def test_error_file_of_a_utf8_bom_csv_keeps_the_bom_and_the_commas(marketer, client_for) -> None:
    make_sample_campaigns()
    client = client_for(marketer)
    data = sample("leads-sheets-en-utf8bom.csv")
    preview = upload(client, "lead", "sheet.csv", data)

    download = client.get(reverse("admin:crm_models_lead_import_errors", args=[preview.context["token"]]))

    assert download["Content-Type"] == "text/csv; charset=utf-8"
    assert download.content.startswith(b"\xef\xbb\xbf")
    newline = "\r\n" if b"\r\n" in data else "\n"
    original = data.decode("utf-8-sig").split(newline)
    lines = download.content.decode("utf-8-sig").split(newline)
    assert lines[0] == original[0] + ",Error"
    assert len(lines[1:-1]) == len(SAMPLE_BAD_ROWS)
    for line, row in zip(lines[1:-1], SAMPLE_BAD_ROWS, strict=True):
        assert line.startswith(original[row - 1] + ",")
