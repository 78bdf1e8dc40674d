"""Importing leads through the admin: preview, errors, duplicates, confirm,
history and the import record."""

import hashlib
import re
from datetime import timedelta

import pytest
from django.contrib.messages import get_messages
from django.urls import reverse

from crm_models.models import ImportRecord, Lead, LeadStatus
from crm_models.roles import Role
from tests.crm_models.import_helpers import (
    SAMPLE_BAD_ROWS,
    confirm,
    csv_bytes,
    error_cells,
    make_sample_campaigns,
    sample,
    upload,
)
from tests.factories import CampaignFactory, LeadFactory, UserFactory

pytestmark = pytest.mark.django_db

HEADER = ["first_name", "last_name", "email", "phone", "campaign"]


@pytest.fixture
def campaign():
    return CampaignFactory(name="Весна")


@pytest.mark.parametrize(
    "name", ["leads-excel-ru-cp1251.csv", "leads-sheets-en-utf8bom.csv", "leads-ru.xlsx"]
)
def test_sample_preview_points_at_the_five_broken_rows(marketer, client_for, name: str) -> None:
    make_sample_campaigns()

    response = upload(client_for(marketer), "lead", name, sample(name))

    assert response.status_code == 200
    assert response.context["counts"] == {"new": 35, "updated": 0, "skipped": 0, "errors": 5}
    errors = error_cells(response)
    assert [row for row, *_rest in errors] == SAMPLE_BAD_ROWS
    messages = [message for *_rest, message in errors]
    assert messages == [
        "No campaign with this name.",
        "Enter a valid e-mail address.",
        "Same phone as row 5.",
        "Enter a valid phone number, e.g. +7 916 123-45-67.",
        "This value is required.",
    ]
    assert errors[0][2] == "Яндекс Директ - весна"
    assert response.context["confirm_form"] is None
    assert Lead.objects.count() == 0


def test_russian_headers_report_the_file_column_names(marketer, client_for) -> None:
    make_sample_campaigns()

    response = upload(client_for(marketer), "lead", "x.csv", sample("leads-excel-ru-cp1251.csv"))

    assert [column for _row, column, *_rest in error_cells(response)] == [
        "Кампания",
        "Эл. почта",
        "Телефон",
        "Телефон",
        "Имя",
    ]


def test_error_file_holds_the_uploaded_rows_as_they_were_in_the_uploaded_csv(marketer, client_for) -> None:
    make_sample_campaigns()
    client = client_for(marketer)
    data = sample("leads-excel-ru-cp1251.csv")
    response = upload(client, "lead", "заявки.csv", data)

    download = client.get(reverse("admin:crm_models_lead_import_errors", args=[response.context["token"]]))

    assert download.status_code == 200
    assert download["Content-Type"] == "text/csv; charset=windows-1251"
    assert download["Content-Disposition"] == (
        "attachment; filename*=utf-8''%D0%B7%D0%B0%D1%8F%D0%B2%D0%BA%D0%B8-errors.csv"
    )
    # Windows-1251, ";" and CRLF as uploaded; each bad row exactly as uploaded
    # (the header and the rows are byte-for-byte the file's) plus the error.
    original = data.decode("cp1251").split("\r\n")
    lines = download.content.decode("cp1251").split("\r\n")
    assert lines[0] == original[0] + ";Error"
    assert lines[1:-1] == [
        original[row - 1] + ";" + message
        for row, message in zip(
            SAMPLE_BAD_ROWS,
            [
                "Кампания: No campaign with this name.",
                "Эл. почта: Enter a valid e-mail address.",
                "Телефон: Same phone as row 5.",
                "Телефон: Enter a valid phone number, e.g. +7 916 123-45-67.",
                "Имя: This value is required.",
            ],
            strict=True,
        )
    ]
    assert lines[-1] == ""


def test_fixed_error_file_uploads_again_as_it_is(marketer, client_for) -> None:
    make_sample_campaigns()
    client = client_for(marketer)
    response = upload(client, "lead", "x.csv", sample("leads-excel-ru-cp1251.csv"))
    done = confirm(client, "lead", response.context["token"], rows="valid")
    (message,) = [str(m) for m in get_messages(done.wsgi_request)]
    assert message.startswith(
        "Imported x.csv: 35 new, 0 updated, 0 skipped. 5 rows with errors were not imported. "
        '<a class="underline" href="/admin/crm_models/lead/import/errors/'
    )
    error_file = client.get(re.search(r'href="([^"]+)"', message)[1])
    # The fixes a marketer makes in the spreadsheet, the error column left in place.
    fixed = (
        error_file.content.decode("cp1251")
        .replace("Яндекс Директ - весна", "Яндекс Директ — весна")
        .replace("@@", "@")
        .replace("+7 916 200 00 03", "+7 916 200 00 99")
        .replace(";12345;", ";89162000098;")
        .replace("\r\n;", "\r\nАлександр;")
    )

    again = upload(client, "lead", "x-errors.csv", fixed.encode("cp1251"))

    assert again.context["counts"] == {"new": 5, "updated": 0, "skipped": 0, "errors": 0}, error_cells(again)
    assert confirm(client, "lead", again.context["token"]).status_code == 302
    assert Lead.objects.count() == 40


def test_error_list_of_another_user_is_not_found(marketer, client_for) -> None:
    make_sample_campaigns()
    response = upload(client_for(marketer), "lead", "x.csv", sample("leads-excel-ru-cp1251.csv"))
    other = UserFactory(username="t_marketer_b", role=Role.MARKETER)

    download = client_for(other).get(
        reverse("admin:crm_models_lead_import_errors", args=[response.context["token"]])
    )

    assert download.status_code == 404


def test_fixed_file_imports_with_history_and_import_record(marketer, client_for) -> None:
    make_sample_campaigns()
    client = client_for(marketer)
    text = sample("leads-excel-ru-cp1251.csv").decode("cp1251").splitlines()
    fixed = [line for number, line in enumerate(text, start=1) if number not in SAMPLE_BAD_ROWS]
    data = ("\r\n".join(fixed) + "\r\n").encode("cp1251")

    preview = upload(client, "lead", "leads.csv", data)
    assert preview.context["counts"] == {"new": 35, "updated": 0, "skipped": 0, "errors": 0}
    response = confirm(client, "lead", preview.context["token"])

    assert response.status_code == 302
    assert response["Location"] == reverse("admin:crm_models_lead_changelist")
    assert Lead.objects.count() == 35
    anna = Lead.objects.get(email="anna.smirnova0@example.ru")
    # A marketer's import goes by the assignment rules unless they choose
    # otherwise; with no rule the new leads wait in the unassigned queue.
    assert (anna.first_name, anna.phone, anna.owner, anna.status) == (
        "Анна",
        "+79162000000",
        None,
        LeadStatus.NEW,
    )
    assert anna.campaign.name == "Яндекс Директ — весна"
    history = Lead.history.filter(history_type="+")
    assert history.count() == 35
    assert set(history.values_list("history_user", flat=True)) == {marketer.pk}
    record = ImportRecord.objects.get()
    assert (record.user, record.kind, record.file_name, record.file_format, record.duplicate_mode) == (
        marketer,
        "lead",
        "leads.csv",
        "csv",
        "skip",
    )
    assert (record.rows_total, record.created_count, record.updated_count, record.skipped_count) == (
        35,
        35,
        0,
        0,
    )
    assert record.file_sha256 == hashlib.sha256(data).hexdigest()
    assert record.file_size == len(data)
    assert anna.history.get().history_change_reason == f"Import #{record.pk}: leads.csv"


def test_xlsx_imports(marketer, client_for) -> None:
    make_sample_campaigns()
    client = client_for(marketer)
    from tests.crm_models.test_import_files import xlsx_bytes

    data = xlsx_bytes([["Имя", "Телефон", "Кампания"], ["Анна", 89162000000, "баннеры на рбк"]])
    preview = upload(client, "lead", "leads.xlsx", data)
    confirm(client, "lead", preview.context["token"])

    lead = Lead.objects.get()
    assert (lead.phone, lead.email, lead.campaign.name) == ("+79162000000", "", "Баннеры на РБК")
    assert ImportRecord.objects.get().file_format == "xlsx"


def test_owner_column_in_the_file_is_ignored(marketer, client_for, campaign, operator) -> None:
    client = client_for(marketer)
    data = csv_bytes([[*HEADER, "owner"], ["Анна", "", "a@example.ru", "", "Весна", operator.username]])

    confirm(client, "lead", upload(client, "lead", "x.csv", data).context["token"])

    # Not the file's operator: the rules (none here), so the queue.
    assert Lead.objects.get().owner is None


@pytest.mark.parametrize(
    ("role", "mode", "counts", "expected_name"),
    [
        ("marketer", "skip", {"new": 1, "updated": 0, "skipped": 2, "errors": 0}, "Old"),
        # Updating needs the change permission (test_import_update_permission.py).
        ("administrator", "update", {"new": 1, "updated": 2, "skipped": 0, "errors": 0}, "Новое"),
    ],
)
def test_duplicates_in_the_database_update_or_skip(
    role: str, request, client_for, campaign, mode: str, counts: dict, expected_name: str
) -> None:
    importer = request.getfixturevalue(role)
    by_email = LeadFactory(first_name="Old", email="anna@example.ru", phone="", campaign=campaign)
    by_phone = LeadFactory(first_name="Old", email="", phone="+79162000001", campaign=campaign)
    client = client_for(importer)
    data = csv_bytes(
        [
            HEADER,
            ["Новое", "", "ANNA@example.ru", "", "Весна"],
            ["Новое", "", "", "8 916 200-00-01", "Весна"],
            ["Третий", "", "c@example.ru", "", "Весна"],
        ]
    )

    preview = upload(client, "lead", "x.csv", data, duplicates=mode)

    assert preview.context["counts"] == counts
    assert [(d.row, d.message) for d in preview.context["plan"].duplicates] == [
        (2, f"Same e-mail as lead #{by_email.pk} (Old {by_email.last_name})."),
        (3, f"Same phone as lead #{by_phone.pk} (Old {by_phone.last_name})."),
    ]
    confirm(client, "lead", preview.context["token"])
    by_email.refresh_from_db()
    by_phone.refresh_from_db()
    assert (by_email.first_name, by_phone.first_name) == (expected_name, expected_name)
    assert by_email.owner != importer  # an update never reassigns the lead
    assert Lead.objects.count() == 3
    if mode == "update":
        change = by_email.history.latest()
        assert (change.history_type, change.history_user) == ("~", importer)


def test_update_keeps_values_the_file_leaves_empty(administrator, client_for, campaign) -> None:
    lead = LeadFactory(email="anna@example.ru", phone="+79162000001", company="ACME", campaign=campaign)
    client = client_for(administrator)
    data = csv_bytes([[*HEADER, "company"], ["Анна", "Петрова", "anna@example.ru", "", "Весна", ""]])

    confirm(client, "lead", upload(client, "lead", "x.csv", data, duplicates="update").context["token"])

    lead.refresh_from_db()
    assert (lead.last_name, lead.phone, lead.company) == ("Петрова", "+79162000001", "ACME")


def test_duplicate_inside_the_file_is_an_error(marketer, client_for, campaign) -> None:
    data = csv_bytes([HEADER, ["A", "", "a@example.ru", "", "Весна"], ["B", "", "A@Example.ru", "", "Весна"]])

    response = upload(client_for(marketer), "lead", "x.csv", data)

    assert error_cells(response) == [(3, "email", "a@example.ru", "Same e-mail as row 2.")]


def test_email_and_phone_of_two_different_leads_is_an_error(administrator, client_for, campaign) -> None:
    first = LeadFactory(email="a@example.ru", phone="", campaign=campaign)
    second = LeadFactory(email="", phone="+79162000001", campaign=campaign)
    data = csv_bytes([HEADER, ["A", "", "a@example.ru", "+79162000001", "Весна"]])

    response = upload(client_for(administrator), "lead", "x.csv", data, duplicates="update")

    assert error_cells(response) == [
        (
            2,
            "email",
            "a@example.ru",
            f"The e-mail belongs to lead #{first.pk} and the phone to lead #{second.pk}.",
        )
    ]


@pytest.mark.parametrize(
    ("row", "column", "message"),
    [
        (["A", "", "not-an-email", "", "Весна"], "email", "Enter a valid e-mail address."),
        (["A", "", "", "12345", "Весна"], "phone", "Enter a valid phone number, e.g. +7 916 123-45-67."),
        (["A", "", "a@example.ru", "", "Осень"], "campaign", "No campaign with this name."),
        (["A", "", "", "", "Весна"], "email / phone", "Give an e-mail or a phone number."),
        (["", "", "a@example.ru", "", "Весна"], "first_name", "This value is required."),
    ],
)
def test_row_errors(marketer, client_for, campaign, row: list, column: str, message: str) -> None:
    response = upload(client_for(marketer), "lead", "x.csv", csv_bytes([HEADER, row]))

    assert [(r, c, m) for r, c, _v, m in error_cells(response)] == [(2, column, message)]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "The submitted file is empty."),
        (
            b"\x00\x01\x02\x03garbage",
            "This is not a CSV or Excel (.xlsx) file. Save the spreadsheet as CSV or XLSX and try again.",
        ),
        (
            "Имя;Эл. почта\r\nАнна;a@example.ru\r\n".encode(),
            "The header row lacks the column(s) “Campaign”. Expected columns: "
            "First name, Last name, E-mail, Phone, Company, Campaign, Notes, ID, Created.",
        ),
    ],
)
def test_unreadable_files_show_one_message(marketer, client_for, data: bytes, message: str) -> None:
    response = upload(client_for(marketer), "lead", "x.csv", data)

    assert response.status_code == 200
    assert response.context["form"].errors == {"import_file": [message]}
    assert "counts" not in response.context


def test_file_over_the_size_setting_is_refused(marketer, client_for, campaign, settings) -> None:
    settings.IMPORT_MAX_FILE_BYTES = 100
    data = csv_bytes([HEADER] + [["A", "", f"a{i}@example.ru", "", "Весна"] for i in range(10)])

    response = upload(client_for(marketer), "lead", "x.csv", data)

    assert response.context["form"].errors == {
        "import_file": [f"The file is {len(data)} bytes; the limit is 100 bytes."]
    }
    assert Lead.objects.count() == 0


def test_rows_over_the_setting_are_refused(marketer, client_for, campaign, settings) -> None:
    settings.IMPORT_MAX_ROWS = 3
    data = csv_bytes([HEADER] + [["A", "", f"a{i}@example.ru", "", "Весна"] for i in range(4)])

    response = upload(client_for(marketer), "lead", "x.csv", data)

    assert response.context["form"].errors == {
        "import_file": ["The file has more than 3 data rows. Split it into smaller files."]
    }


def test_confirm_is_all_or_nothing(marketer, client_for, campaign) -> None:
    client = client_for(marketer)
    data = csv_bytes([HEADER, ["A", "", "a@example.ru", "", "Весна"], ["B", "", "b@example.ru", "", "Весна"]])
    preview = upload(client, "lead", "x.csv", data)
    # Between preview and confirm someone deletes the campaign's name match and adds
    # a lead with the second row's e-mail: the confirm must write nothing at all.
    campaign.name = "Лето"
    campaign.save()

    response = confirm(client, "lead", preview.context["token"])

    assert response.status_code == 200
    assert response.context["counts"]["errors"] == 2
    assert Lead.objects.count() == 0
    assert Lead.history.count() == 0
    assert ImportRecord.objects.count() == 0


def test_confirm_rolls_back_when_the_database_refuses(marketer, client_for, campaign, monkeypatch) -> None:
    from django.db import IntegrityError

    from crm_models.services import imports

    client = client_for(marketer)
    data = csv_bytes([HEADER, ["A", "", "a@example.ru", "", "Весна"]])
    preview = upload(client, "lead", "x.csv", data)

    def fail(*args, **kwargs):
        raise IntegrityError("duplicate key")

    monkeypatch.setattr(imports, "_copy_with_history", fail)
    monkeypatch.setattr(imports, "bulk_create_with_history", fail)
    response = confirm(client, "lead", preview.context["token"])

    assert response.status_code == 302
    assert Lead.objects.count() == 0
    assert ImportRecord.objects.count() == 0


def test_preview_token_cannot_be_confirmed_by_another_user(marketer, client_for, campaign) -> None:
    preview = upload(
        client_for(marketer), "lead", "x.csv", csv_bytes([HEADER, ["A", "", "a@example.ru", "", "Весна"]])
    )
    other = UserFactory(username="t_marketer_c", role=Role.MARKETER)

    response = confirm(client_for(other), "lead", preview.context["token"])

    assert response.status_code == 302
    assert Lead.objects.count() == 0


def test_preview_with_errors_cannot_be_confirmed(marketer, client_for, campaign) -> None:
    client = client_for(marketer)
    preview = upload(client, "lead", "x.csv", csv_bytes([HEADER, ["A", "", "bad", "", "Весна"]]))

    response = confirm(client, "lead", preview.context["token"])

    assert response.status_code == 302
    assert Lead.objects.count() == 0


def test_out_of_scope_lead_is_a_row_error_and_stays_unchanged(
    client_for, campaign, operator, operator2
) -> None:
    """An operator who may import (granted explicitly; the role itself cannot)
    only updates their own leads."""
    from django.contrib.auth.models import Permission

    operator.user_permissions.add(Permission.objects.get(codename="import_lead"))
    own = LeadFactory(first_name="Own", email="own@example.ru", owner=operator, campaign=campaign)
    foreign = LeadFactory(
        first_name="Foreign", email="foreign@example.ru", owner=operator2, campaign=campaign
    )
    client = client_for(operator)
    data = csv_bytes(
        [
            HEADER,
            ["Changed", "", "own@example.ru", "", "Весна"],
            ["Changed", "", "foreign@example.ru", "", "Весна"],
        ]
    )

    response = upload(client, "lead", "x.csv", data, duplicates="update")

    assert error_cells(response) == [
        (
            3,
            "email",
            "foreign@example.ru",
            "This e-mail belongs to a lead you may not change: a colleague's lead. Ask an administrator.",
        )
    ]
    assert confirm(client, "lead", response.context["token"]).status_code == 302
    own.refresh_from_db()
    foreign.refresh_from_db()
    assert (own.first_name, foreign.first_name) == ("Own", "Foreign")


def test_in_scope_update_by_operator_with_import_permission(client_for, campaign, operator) -> None:
    from django.contrib.auth.models import Permission

    operator.user_permissions.add(Permission.objects.get(codename="import_lead"))
    own = LeadFactory(first_name="Own", email="own@example.ru", owner=operator, campaign=campaign)
    client = client_for(operator)
    data = csv_bytes([HEADER, ["Changed", "", "own@example.ru", "", "Весна"]])

    confirm(client, "lead", upload(client, "lead", "x.csv", data, duplicates="update").context["token"])

    own.refresh_from_db()
    assert own.first_name == "Changed"


def test_preview_runs_a_constant_number_of_queries(marketer, client_for, campaign) -> None:
    client = client_for(marketer)
    small = csv_bytes(
        [HEADER] + [["A", "", f"a{i}@example.ru", f"+7916200{i:04d}", "Весна"] for i in range(5)]
    )
    big = csv_bytes(
        [HEADER] + [["A", "", f"a{i}@example.ru", f"+7916200{i:04d}", "Весна"] for i in range(500)]
    )
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as small_queries:
        upload(client, "lead", "x.csv", small)
    with CaptureQueriesContext(connection) as big_queries:
        upload(client, "lead", "x.csv", big)

    assert len(big_queries) == len(small_queries)


def test_id_column_names_the_lead_to_update(administrator, client_for, campaign) -> None:
    lead = LeadFactory(first_name="Old", email="old@example.ru", campaign=campaign)
    client = client_for(administrator)
    data = csv_bytes([["ID", *HEADER], [str(lead.pk), "New", "", "new@example.ru", "", "Весна"]])

    preview = upload(client, "lead", "x.csv", data, duplicates="update")
    confirm(client, "lead", preview.context["token"])

    assert [(d.row, d.message) for d in preview.context["plan"].duplicates] == [
        (2, f"Lead #{lead.pk} (Old {lead.last_name}), by its ID.")
    ]
    lead.refresh_from_db()
    assert (lead.first_name, lead.email) == ("New", "new@example.ru")


def test_out_of_scope_and_missing_ids_get_the_same_error(client_for, campaign, operator, operator2) -> None:
    from django.contrib.auth.models import Permission

    operator.user_permissions.add(Permission.objects.get(codename="import_lead"))
    foreign = LeadFactory(
        first_name="Foreign", email="foreign@example.ru", owner=operator2, campaign=campaign
    )
    client = client_for(operator)
    data = csv_bytes(
        [
            ["ID", *HEADER],
            [str(foreign.pk), "Changed", "", "x@example.ru", "", "Весна"],
            ["999999", "Changed", "", "y@example.ru", "", "Весна"],
        ]
    )

    response = upload(client, "lead", "x.csv", data, duplicates="update")

    assert error_cells(response) == [
        (2, "ID", str(foreign.pk), f"No lead #{foreign.pk} that you may change."),
        (3, "ID", "999999", "No lead #999999 that you may change."),
    ]
    foreign.refresh_from_db()
    assert (foreign.first_name, foreign.email) == ("Foreign", "foreign@example.ru")


def test_id_and_email_of_different_leads_is_an_error(administrator, client_for, campaign) -> None:
    first = LeadFactory(email="a@example.ru", campaign=campaign)
    second = LeadFactory(email="b@example.ru", campaign=campaign)
    data = csv_bytes([["ID", *HEADER], [str(first.pk), "A", "", "b@example.ru", "", "Весна"]])

    response = upload(client_for(administrator), "lead", "x.csv", data, duplicates="update")

    assert error_cells(response) == [
        (2, "email", "b@example.ru", f"This e-mail belongs to lead #{second.pk}, not to lead #{first.pk}.")
    ]


def test_exported_leads_reimport_as_updates(administrator, client_for, campaign) -> None:
    from crm_models.resources import LeadResource
    from tests.crm_models.test_export import export

    LeadFactory(first_name="=cmd", email="a@example.ru", phone="+79162000001", campaign=campaign)
    LeadFactory(first_name="Bob", email="b@example.ru", phone="", campaign=campaign)
    client = client_for(administrator)
    exported = export(client, "lead", LeadResource).content

    preview = upload(client, "lead", "export.csv", exported, duplicates="update")

    assert preview.context["counts"] == {"new": 0, "updated": 2, "skipped": 0, "errors": 0}
    confirm(client, "lead", preview.context["token"])
    assert sorted(Lead.objects.values_list("first_name", "phone")) == [("=cmd", "+79162000001"), ("Bob", "")]


def test_confirm_writes_text_with_copy_special_characters_unchanged(marketer, client_for, campaign) -> None:
    """Tabs, line breaks and backslashes are escaped in the COPY stream, in the
    table and in the history rows alike."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([*HEADER, "company", "notes"])
    notes = "line one\r\nline\ttwo \\N end\\"
    writer.writerow(["Back\\slash", "Tab\tbed", "a@example.ru", "8 916 555-12-34", "Весна", "", notes])
    client = client_for(marketer)
    operator = UserFactory(role=Role.OPERATOR)
    preview = upload(
        client, "lead", "x.csv", buffer.getvalue().encode(), owner_choice="operator", owner=operator.pk
    )
    assert preview.context["counts"] == {"new": 1, "updated": 0, "skipped": 0, "errors": 0}

    confirm(client, "lead", preview.context["token"])

    lead = Lead.objects.get()
    expected = (
        "Back\\slash",
        "Tab\tbed",
        "a@example.ru",
        "+79165551234",
        "",
        notes,
        campaign.pk,
        operator.pk,
    )
    fields = ("first_name", "last_name", "email", "phone", "company", "notes", "campaign_id", "owner_id")
    assert tuple(getattr(lead, name) for name in fields) == expected
    assert (lead.status, lead.converted_at) == (LeadStatus.NEW, None)
    # COPY (PostgreSQL) writes one timestamp into both columns; the ORM path
    # (other databases) reads the clock once per column.
    assert timedelta(0) <= lead.updated_at - lead.created_at < timedelta(seconds=1)
    change = lead.history.get()
    assert tuple(getattr(change, name) for name in fields) == expected
    record = ImportRecord.objects.get()
    assert (change.history_type, change.history_user, change.history_change_reason) == (
        "+",
        marketer,
        f"Import #{record.pk}: x.csv",
    )
    assert (change.status, change.converted_at, change.history_date) == (
        LeadStatus.NEW,
        None,
        lead.created_at,
    )
