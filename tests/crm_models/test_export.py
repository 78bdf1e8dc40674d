"""Exports: explicit columns, the changelist's filters, search and scope, and
formula neutralisation in CSV and XLSX."""

import csv
import datetime
import io
from decimal import Decimal

import openpyxl
import pytest
from django.db import connection
from django.urls import reverse

from crm_models.models import Campaign, Contract, Customer, Lead, LeadStatus
from crm_models.resources import (
    CampaignResource,
    ContractResource,
    CustomerResource,
    LeadResource,
    ServiceResource,
)
from tests.factories import CampaignFactory, ContractFactory, CustomerFactory, LeadFactory

pytestmark = pytest.mark.django_db

CSV, XLSX = "0", "1"
DANGEROUS = ["=1+1", "+79161234567", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def export(
    client,
    model: str,
    resource: type,
    file_format: str = CSV,
    query: str = "",
    fields: list[str] | None = None,
):
    names = fields if fields is not None else resource._meta.fields
    data = {"format": file_format, "resource": "0"}
    data.update({f"{resource.__name__.lower()}_{name}": "on" for name in names})
    url = reverse(f"admin:crm_models_{model}_export") + (f"?{query}" if query else "")
    return client.post(url, data)


def csv_rows(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def zipped_sheet(content: bytes) -> bytes:
    import zipfile

    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        return archive.read("xl/worksheets/sheet1.xml")


def xlsx_rows(response) -> list[tuple]:
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    return list(sheet.iter_rows(values_only=True))


def test_lead_export_has_exactly_the_listed_columns(marketer, client_for) -> None:
    lead = LeadFactory(
        first_name="Anna", last_name="Smirnova", email="anna@example.ru", phone="", company="ACME"
    )

    rows = csv_rows(export(client_for(marketer), "lead", LeadResource))

    assert rows[0] == [
        "ID",
        "First name",
        "Last name",
        "E-mail",
        "Phone",
        "Company",
        "Campaign",
        "Status",
        "Owner",
        "Created",
        "Converted at",
        "Notes",
    ]
    assert rows[1][:9] == [
        str(lead.pk),
        "Anna",
        "Smirnova",
        "anna@example.ru",
        "",
        "ACME",
        lead.campaign.name,
        "New",
        lead.owner.username,
    ]


def test_selected_columns_only(marketer, client_for) -> None:
    LeadFactory(first_name="Anna", email="anna@example.ru")

    rows = csv_rows(export(client_for(marketer), "lead", LeadResource, fields=["first_name", "email"]))

    assert rows == [["First name", "E-mail"], ["Anna", "anna@example.ru"]]


def test_export_follows_changelist_filters_and_search(marketer, client_for) -> None:
    LeadFactory(first_name="Lost", status=LeadStatus.LOST, email="lost@example.ru")
    LeadFactory(first_name="Fresh", status=LeadStatus.NEW, email="fresh@example.ru")
    LeadFactory(first_name="Other", status=LeadStatus.NEW, email="other@example.ru")
    client = client_for(marketer)

    filtered = csv_rows(
        export(client, "lead", LeadResource, query="status__exact=new", fields=["first_name"])
    )
    searched = csv_rows(export(client, "lead", LeadResource, query="q=Fresh", fields=["first_name"]))

    assert sorted(filtered[1:]) == [["Fresh"], ["Other"]]
    assert searched[1:] == [["Fresh"]]


def test_customer_export_is_scoped_to_the_manager(manager, manager2, client_for) -> None:
    own = CustomerFactory(account_manager=manager, lead__first_name="Own")
    CustomerFactory(account_manager=manager2, lead__first_name="Foreign")

    rows = csv_rows(export(client_for(manager), "customer", CustomerResource, fields=["id", "first_name"]))

    assert rows == [["ID", "First name"], [str(own.pk), "Own"]]


def test_contract_export_is_scoped_to_the_managers_customers(manager, manager2, client_for) -> None:
    own = ContractFactory(customer__account_manager=manager, name="Mine")
    ContractFactory(customer__account_manager=manager2, name="Theirs")

    rows = csv_rows(
        export(client_for(manager), "contract", ContractResource, fields=["id", "name", "amount"])
    )

    assert rows == [["ID", "Name", "Amount"], [str(own.pk), "Mine", "5000.00"]]


def test_operator_scope_would_apply_to_lead_export(client_for, operator, operator2) -> None:
    """Operators have no export permission; granted one, they still export only their own leads."""
    from django.contrib.auth.models import Permission

    operator.user_permissions.add(Permission.objects.get(codename="export_lead"))
    LeadFactory(owner=operator, first_name="Own")
    LeadFactory(owner=operator2, first_name="Foreign")

    rows = csv_rows(export(client_for(operator), "lead", LeadResource, fields=["first_name"]))

    assert rows == [["First name"], ["Own"]]


@pytest.mark.parametrize("value", DANGEROUS)
def test_csv_neutralises_each_dangerous_prefix(marketer, client_for, value: str) -> None:
    LeadFactory(first_name=value, email="a@example.ru")

    rows = csv_rows(export(client_for(marketer), "lead", LeadResource, fields=["first_name", "email"]))

    assert rows[1] == ["'" + value, "a@example.ru"]


@pytest.mark.parametrize("value", DANGEROUS)
def test_xlsx_types_dangerous_text_as_a_string_without_an_apostrophe(
    marketer, client_for, value: str
) -> None:
    LeadFactory(first_name=value, email="a@example.ru")

    response = export(client_for(marketer), "lead", LeadResource, XLSX, fields=["first_name", "email"])

    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).worksheets[0]
    cell = sheet.cell(row=2, column=1)
    # A string cell is never run as a formula, so it needs no visible
    # apostrophe. XML parsers read a stored carriage return back as a line feed.
    assert (cell.value, cell.data_type) == (value.replace("\r", "\n"), "s")
    assert b"<f>" not in zipped_sheet(response.content)


def test_xlsx_keeps_numbers_and_dates_typed(marketer, client_for) -> None:
    campaign = CampaignFactory(name="-Minus", budget=Decimal("1500.50"))

    rows = xlsx_rows(export(client_for(marketer), "campaign", CampaignResource, XLSX))

    assert rows[0] == ("ID", "Name", "Service", "Channel", "Budget", "Start date", "End date")
    assert rows[1][1] == "-Minus"
    assert rows[1][3] == "Search"
    assert rows[1][4] == 1500.5
    assert rows[1][5].date() == campaign.start_date


def test_service_export_round_trips_through_import(marketer, client_for) -> None:
    from crm_models.models import Service
    from tests.crm_models.import_helpers import confirm, upload
    from tests.factories import ServiceFactory

    ServiceFactory(name="=Formula service", price=Decimal("10.00"))
    client = client_for(marketer)
    exported = export(client, "service", ServiceResource).content
    Service.objects.all().delete()

    preview = upload(client, "service", "services.csv", exported)
    confirm(client, "service", preview.context["token"])

    service = Service.objects.get()
    assert (service.name, service.price) == ("=Formula service", Decimal("10.00"))


@pytest.mark.parametrize(
    ("resource", "queryset"),
    [
        (LeadResource, lambda: Lead.objects.order_by("pk")),
        (CustomerResource, lambda: Customer.objects.order_by("pk")),
        (ContractResource, lambda: Contract.objects.order_by("pk")),
        (CampaignResource, lambda: Campaign.objects.order_by("pk")),
    ],
)
def test_cursor_path_exports_what_the_queryset_path_exports(monkeypatch, resource, queryset) -> None:
    """On PostgreSQL rows are read straight off a server-side cursor with
    psycopg's own timestamp loader; the result equals Django's queryset path."""
    from crm_models import resources

    lead = LeadFactory(first_name="=cmd", last_name="", company="@x", notes="\tnote")
    lead.converted_at = datetime.datetime(2026, 3, 1, 21, 30, 15, 999999, tzinfo=datetime.UTC)
    lead.save()
    ContractFactory(customer=CustomerFactory(lead=lead), name="-1")
    LeadFactory(email="", phone="+79160000001")
    values = queryset().values_list("pk")
    compiler = values.query.get_compiler(using=values.db)
    compiler.as_sql()
    assert resources._plain_postgresql(values, compiler) is (connection.vendor == "postgresql")

    fast = resource().export(queryset=queryset())
    monkeypatch.setattr(resources, "_plain_postgresql", lambda *args: False)
    slow = resource().export(queryset=queryset())

    assert fast.headers == slow.headers
    assert [list(row) for row in fast] == [list(row) for row in slow]
    assert len(slow) >= 1
    if resource is LeadResource:
        first = next(iter(fast))
        assert first[1] == "=cmd"  # neutralised by the CSV writer, typed as text by the XLSX one
        assert first[10] == datetime.datetime(2026, 3, 2, 0, 30, 15)  # Europe/Moscow, seconds


@pytest.mark.parametrize(
    ("model", "resource"),
    [("lead", LeadResource), ("customer", CustomerResource), ("contract", ContractResource)],
)
def test_admin_csv_is_what_the_dataset_path_writes(administrator, rf, model, resource) -> None:
    """The admin writes CSV straight from the rows (`export_csv`); the file is
    byte for byte the one SafeCSV makes from the resource's tablib Dataset."""
    from django.contrib import admin

    from crm_models.resources import SafeCSV

    lead = LeadFactory(first_name="=cmd", company="+1", notes='a,b\r\n"quoted"')
    ContractFactory(customer=CustomerFactory(lead=lead), name="@x")
    LeadFactory(email="", phone="+79160000001", last_name="-")
    model_class = {"lead": Lead, "customer": Customer, "contract": Contract}[model]
    queryset = model_class.objects.order_by("-pk")
    request = rf.post("/")
    request.user = administrator
    model_admin = admin.site._registry[model_class]

    data = model_admin.get_export_data(SafeCSV(), request, queryset, export_form=None, encoding="utf-8")

    expected = SafeCSV().export_data(resource().export(queryset=queryset))
    assert data == expected.encode("utf-8")
    assert expected.count("\r\n") >= 2
    assert "'=cmd" in expected or model == "contract"
