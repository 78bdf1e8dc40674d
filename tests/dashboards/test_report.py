"""The campaign performance report: page, CSV and XLSX, against the hand-built
data set of tests/crm_models/test_metrics.py."""

import io

import pytest
from django.contrib.auth.models import User
from django.db import connection
from django.test import Client
from openpyxl import load_workbook

from tests.crm_models.test_metrics import DataSet
from tests.factories import CampaignFactory

pytestmark = pytest.mark.django_db

URL = "/admin/dashboards/campaign-metrics/"
MARCH = "date_from=2025-03-01&date_to=2025-03-31"
# DESIGN.md's columns, headed by their names in the user's language (here English).
HEADER = "Campaign,Channel,Leads,Customers,Conversion rate,Revenue,Spend,ROI,CPL,CAC"
EXPECTED_CSV = [
    "\ufeff" + HEADER,
    # spend estimated from the budgets (tests/crm_models/test_metrics.py)
    "Alpha,Search,4,2,50.00,4500.00,517.24,770.00,129.31,258.62",
    "Beta,Social media,2,1,50.00,2000.00,0.00,,0.00,0.00",
    "Delta,Search,0,0,,0.00,0.00,,,",
    "Gamma,E-mail,0,0,,0.00,343.75,-100.00,,",
]


def test_report_url_has_its_admin_name() -> None:
    from django.urls import reverse

    assert reverse("admin:dashboards_campaign_metrics") == URL


@pytest.mark.parametrize("role_fixture", ["marketer", "manager", "administrator"])
def test_csv_has_the_exact_columns_and_values(
    dataset: DataSet, role_fixture: str, request: pytest.FixtureRequest, client_for
) -> None:
    response = client_for(request.getfixturevalue(role_fixture)).get(f"{URL}?{MARCH}&format=csv")

    assert response.status_code == 200
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert (
        response["Content-Disposition"] == 'attachment; filename="campaign-metrics_2025-03-01_2025-03-31.csv"'
    )
    assert response.content.decode().splitlines() == EXPECTED_CSV


def test_xlsx_has_numbers_as_numbers_and_empty_cells(dataset: DataSet, marketer: User, client_for) -> None:
    response = client_for(marketer).get(f"{URL}?{MARCH}&format=xlsx")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    rows = list(load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True))
    assert rows == [
        tuple(HEADER.split(",")),
        ("Alpha", "Search", 4, 2, 50, 4500, 517.24, 770, 129.31, 258.62),
        ("Beta", "Social media", 2, 1, 50, 2000, 0, None, 0, 0),
        ("Delta", "Search", 0, 0, None, 0, 0, None, None, None),
        ("Gamma", "E-mail", 0, 0, None, 0, 343.75, -100, None, None),
        # 517.24 + 343.75 = 860.99 of spend: ROI (6500 - 860.99) / 860.99, CPL / 6, CAC / 3
        ("Total", None, 6, 3, 50, 6500, 860.99, 654.94, 143.5, 287),
    ]
    assert all(isinstance(value, int | float) for value in rows[1][2:])


def test_file_cells_never_become_formulas(marketer: User, client_for) -> None:
    CampaignFactory(name='=HYPERLINK("http://evil")')
    client = client_for(marketer)

    csv_body = client.get(f"{URL}?{MARCH}&format=csv").content.decode()
    xlsx = client.get(f"{URL}?{MARCH}&format=xlsx").content

    assert csv_body.splitlines()[1].startswith('"\'=HYPERLINK(""http://evil"")"')
    cell = load_workbook(io.BytesIO(xlsx)).active["A2"]
    assert (cell.value, cell.data_type) == ('=HYPERLINK("http://evil")', "s")


def test_page_lists_campaigns_sorted_by_the_chosen_column(
    dataset: DataSet, marketer: User, client_for
) -> None:
    client = client_for(marketer)

    by_name = client.get(f"{URL}?{MARCH}")
    by_roi = client.get(f"{URL}?{MARCH}&o=-roi")

    assert by_name.status_code == 200
    assert [row["channel"] for row in by_name.context["rows"]] == [
        "Search",
        "Social media",
        "Search",
        "E-mail",
    ]
    names = [row["link"] for row in by_roi.context["rows"]]
    assert [n.split(">")[1].split("<")[0] for n in names] == ["Alpha", "Gamma", "Beta", "Delta"]
    body = by_roi.content.decode()
    assert f"/admin/crm_models/lead/?campaign__id__exact={dataset.alpha.pk}" in body
    assert "6,500.00\u00a0₽" in body  # the totals row
    assert by_roi.context["totals"][5] == "654.94\u00a0%"
    # estimated spend is marked as such
    assert by_roi.context["rows"][0]["cells"][4] == (
        '<span title="Estimated from the campaign&#x27;s budget: it has no imported spend.">≈ 517.24\u00a0₽</span>'
    )
    assert 'id="breakdowns"' in body


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("date_from=2025-02-30&date_to=2025-03-31&format=csv", "Enter dates as YYYY-MM-DD."),
        ("date_from=yesterday&format=xlsx", "Enter dates as YYYY-MM-DD."),
        (
            "date_from=2025-04-01&date_to=2025-03-01&format=csv",
            "The start of the period cannot be after its end.",
        ),
        (f"{MARCH}&format=pdf", "Unknown format: choose csv or xlsx."),
        ("date_from=0001-01-01&date_to=0001-01-02&format=csv", "Enter dates from 1900-01-01 to 2999-12-31."),
        ("date_from=9999-12-30&date_to=9999-12-31&format=xlsx", "Enter dates from 1900-01-01 to 2999-12-31."),
    ],
)
def test_bad_requests_answer_400_with_a_message(marketer: User, client_for, query: str, message: str) -> None:
    response = client_for(marketer).get(f"{URL}?{query}")

    assert response.status_code == 400
    assert response.content.decode() == message


def test_bad_dates_on_the_page_answer_400_with_the_message(marketer: User, client_for) -> None:
    response = client_for(marketer).get(f"{URL}?date_from=2025-03-40")

    assert response.status_code == 400
    assert "Enter dates as YYYY-MM-DD." in response.content.decode()


def test_operator_is_refused(dataset: DataSet, operator: User, client_for) -> None:
    client = client_for(operator)
    assert client.get(f"{URL}?{MARCH}").status_code == 403
    response = client.get(f"{URL}?{MARCH}&format=csv")
    assert response.status_code == 403
    assert b"Alpha" not in response.content


def test_anonymous_is_sent_to_login(client: Client) -> None:
    response = client.get(f"{URL}?{MARCH}&format=csv")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/?next=/admin/dashboards/campaign-metrics/")


@pytest.mark.usefixtures("base_tables")
def test_report_query_counts_are_fixed(
    dataset: DataSet, marketer: User, client_for, django_assert_num_queries
) -> None:
    client = client_for(marketer)
    CampaignFactory.create_batch(3)
    # session, user, roles, 3 x campaign metrics
    with django_assert_num_queries(6):
        assert client.get(f"{URL}?{MARCH}&format=csv").status_code == 200
    # the page: the figures now come from the cache; plus the sidebar's two permission queries
    with django_assert_num_queries(5):
        assert client.get(f"{URL}?{MARCH}&o=-roi").status_code == 200


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollups live on PostgreSQL")
def test_report_query_counts_with_rollups(
    dataset: DataSet, marketer: User, client_for, django_assert_num_queries
) -> None:
    client = client_for(marketer)
    CampaignFactory.create_batch(3)
    # session, user, roles, 3 x campaign metrics (from the rollups, never cached)
    with django_assert_num_queries(6):
        assert client.get(f"{URL}?{MARCH}&format=csv").status_code == 200
    # the page: the same, plus the sidebar's two permission queries
    with django_assert_num_queries(8):
        assert client.get(f"{URL}?{MARCH}&o=-roi").status_code == 200


def test_sidebar_links_the_report_only_for_roles_that_may_open_it(
    marketer: User, manager: User, operator: User, client_for
) -> None:
    for user, shown in [(marketer, True), (manager, True), (operator, False)]:
        body = client_for(user).get("/admin/crm_models/campaign/").content.decode()
        assert (f'href="{URL}"' in body) is shown, user.username


def test_files_follow_the_pages_sort_and_the_users_language(
    dataset: DataSet, manager: User, client_for
) -> None:
    client = client_for(manager)
    client.cookies["django_language"] = "ru"

    page = client.get(f"{URL}?{MARCH}&o=-roi")
    csv_body = client.get(f"{URL}?{MARCH}&o=-roi&format=csv").content
    xlsx = client.get(f"{URL}?{MARCH}&o=-roi&format=xlsx").content

    assert page.context["csv_url"] == f"?{MARCH}&o=-roi&format=csv"
    assert csv_body.startswith(b"\xef\xbb\xbf")
    lines = csv_body.decode("utf-8-sig").splitlines()
    assert lines[0] == "Кампания,Канал,Лиды,Клиенты,Конверсия,Выручка,Расходы,ROI,CPL,CAC"
    assert [line.split(",")[:2] for line in lines[1:]] == [
        ["Alpha", "Поисковая реклама"],
        ["Gamma", "Эл. почта"],
        ["Beta", "Социальные сети"],
        ["Delta", "Поисковая реклама"],
    ]
    sheet = load_workbook(io.BytesIO(xlsx)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert [row[0] for row in rows] == ["Кампания", "Alpha", "Gamma", "Beta", "Delta", "Итого"]
    assert sheet["A6"].font.b
    assert sheet.column_dimensions["B"].width == len("Поисковая реклама") + 2
