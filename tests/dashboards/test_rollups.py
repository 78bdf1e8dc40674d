"""The rollup tables stay equal to a recomputation from the base tables after
every write path, and the selector reads the same figures from them as from the
base tables (PostgreSQL only: the triggers are PostgreSQL's)."""

import io
import random
from collections import defaultdict
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Sum
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from crm_models.models import Campaign, Contract, Customer, Lead, LeadStatus
from crm_models.selectors.metrics import campaign_metrics, lead_timeseries, reads_rollups
from crm_models.services.conversion import ContractData, lead_convert
from dashboards import rollups
from dashboards.apps import DashboardsConfig
from dashboards.models import ALL_CAMPAIGNS, ConversionRollup, LeadRollup, RevenueRollup
from tests.crm_models.import_helpers import confirm, csv_bytes, upload
from tests.crm_models.test_lead_form import lead_payload
from tests.crm_models.test_metrics import MARCH, DataSet, at
from tests.factories import CampaignFactory, ContractFactory, CustomerFactory, LeadFactory, ServiceFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the rollup triggers are PostgreSQL's"),
]

Key = tuple[str, str, date, int, str]
# The test's own transaction holds the deferred foreign-key checks of the rows
# it wrote, and PostgreSQL refuses ALTER TABLE (trigger DDL) while any are
# pending; `migrate` and the rebuild command run in transactions of their own.
PENDING_CHECKS_NOW = "SET CONSTRAINTS ALL IMMEDIATE"


def _month(day: date) -> date:
    return day.replace(day=1)


def recomputed() -> dict[Key, int | Decimal]:
    """Every rollup row, summed in Python from the base tables (zeros left out)."""
    zone = ZoneInfo(DashboardsConfig.rollup_time_zone)
    rows: dict[Key, int | Decimal] = defaultdict(int)

    def add(
        figure: str, campaign_id: int, source: str, day: date, amount: int | Decimal, *, totals: bool = True
    ) -> None:
        rows[(figure, "day", day, campaign_id, "")] += amount
        rows[(figure, "month", _month(day), campaign_id, "")] += amount
        rows[(figure, "source_day", day, ALL_CAMPAIGNS, source)] += amount
        rows[(figure, "source_month", _month(day), ALL_CAMPAIGNS, source)] += amount
        if totals:
            rows[(figure, "total", day, ALL_CAMPAIGNS, "")] += amount

    for campaign_id, source, created_at in Lead.objects.values_list(
        "campaign_id", "utm_source", "created_at"
    ):
        add("leads", campaign_id, source, created_at.astimezone(zone).date(), 1)
    for campaign_id, source, converted_at in Customer.objects.filter(
        lead__converted_at__isnull=False
    ).values_list("lead__campaign_id", "lead__utm_source", "lead__converted_at"):
        add("customers", campaign_id, source, converted_at.astimezone(zone).date(), 1)
    for campaign_id, source, signed_at, amount in Contract.objects.values_list(
        "customer__lead__campaign_id", "customer__lead__utm_source", "signed_at", "amount"
    ):
        add("revenue", campaign_id, source, signed_at, amount, totals=False)
    return {key: value for key, value in rows.items() if value}


def stored() -> dict[Key, int | Decimal]:
    rows: dict[Key, int | Decimal] = {}
    for model, column in ((LeadRollup, "leads"), (ConversionRollup, "customers"), (RevenueRollup, "revenue")):
        for grain, day, campaign_id, source, value in model.objects.values_list(
            "grain", "day", "campaign_id", "utm_source", column
        ):
            if value:
                rows[(column, grain, day, campaign_id, source)] = value
    return rows


def assert_rollups_exact() -> None:
    expected = recomputed()
    assert stored() == expected
    assert expected  # the test wrote something to count


def test_hand_built_data_set_is_rolled_up_exactly(dataset: DataSet) -> None:
    assert_rollups_exact()
    assert stored()[("revenue", "month", date(2025, 3, 1), dataset.alpha.pk, "")] == Decimal("4500.00")
    # created 00:10 Moscow time on 1 March = 21:10 UTC on 28 February: a March lead
    assert stored()[("leads", "day", date(2025, 3, 1), dataset.alpha.pk, "")] == 1


def test_admin_lead_form_add_and_change(operator: User, client_for: Callable[[User], Client]) -> None:
    first, second = CampaignFactory(), CampaignFactory()
    client = client_for(operator)
    response = client.post(reverse("admin:crm_models_lead_add"), lead_payload(first, email="a@example.com"))
    assert response.status_code == 302
    assert_rollups_exact()

    lead = Lead.objects.get()
    response = client.post(
        reverse("admin:crm_models_lead_change", args=[lead.pk]),
        lead_payload(second, email="a@example.com"),
    )
    assert response.status_code == 302
    assert Lead.objects.get().campaign == second
    assert_rollups_exact()
    assert stored()[("leads", "day", timezone.localdate(lead.created_at), second.pk, "")] == 1


def test_csv_import_by_copy_and_update(
    marketer: User, administrator: User, client_for: Callable[[User], Client]
) -> None:
    service = ServiceFactory()
    CampaignFactory(name="Spring", service=service)
    CampaignFactory(name="Autumn", service=service)
    client = client_for(marketer)
    header = ["First name", "Last name", "E-mail", "Phone", "Campaign"]
    rows = [[f"Name{n}", "X", f"p{n}@example.com", "", "Spring"] for n in range(30)]
    preview = upload(client, "lead", "leads.csv", csv_bytes([header, *rows]))
    assert preview.context["counts"]["new"] == 30
    confirm(client, "lead", preview.context["token"])
    assert Lead.objects.count() == 30
    assert_rollups_exact()

    # the same people again, ten of them now from another campaign: updated in
    # place (by an administrator: updating leads needs their change permission)
    client = client_for(administrator)
    moved = [[*row[:4], "Autumn"] for row in rows[:10]]
    preview = upload(client, "lead", "again.csv", csv_bytes([header, *moved]), duplicates="update")
    assert preview.context["counts"]["updated"] == 10
    confirm(client, "lead", preview.context["token"])
    assert Lead.objects.filter(campaign__name="Autumn").count() == 10
    assert_rollups_exact()


def test_raw_copy_into_the_lead_table(operator: User) -> None:
    campaign = CampaignFactory()
    now = timezone.now()
    with connection.cursor() as cursor:
        columns = "first_name, last_name, email, phone, company, campaign_id, status, owner_id, notes, created_at, updated_at"
        with cursor.cursor.copy(f"COPY crm_models_lead ({columns}) FROM STDIN") as copy:
            for n in range(50):
                created = now - timedelta(days=n * 3, hours=n)
                copy.write_row(
                    (
                        f"N{n}",
                        "",
                        f"c{n}@example.com",
                        "",
                        "",
                        campaign.pk,
                        "new",
                        operator.pk,
                        "",
                        created,
                        now,
                    )
                )
    assert Lead.objects.count() == 50
    assert_rollups_exact()


def test_lead_conversion_service(manager: User) -> None:
    service = ServiceFactory(price=Decimal("1500.00"))
    lead = LeadFactory(campaign__service=service, created_at=timezone.now() - timedelta(days=40))
    today = timezone.localdate()
    outcome = lead_convert(
        lead_id=lead.pk,
        acting_user=manager,
        contract=ContractData(
            service=service,
            name="Audit",
            amount=Decimal("1500.00"),
            start_date=today,
            end_date=today + timedelta(days=365),
            signed_at=today,
        ),
    )
    assert outcome.customer is not None
    assert_rollups_exact()
    assert stored()[("customers", "total", today, ALL_CAMPAIGNS, "")] == 1
    assert stored()[("revenue", "day", today, lead.campaign_id, "")] == Decimal("1500.00")


def test_lead_moved_to_another_campaign_takes_its_customer_and_revenue(dataset: DataSet) -> None:
    lead = Customer.objects.get(contracts__amount=Decimal("3000.00")).lead
    lead.campaign = dataset.gamma
    lead.save()
    assert_rollups_exact()
    Lead.objects.filter(campaign=dataset.beta).update(campaign=dataset.delta)
    assert_rollups_exact()
    Lead.objects.filter(campaign=dataset.alpha).update(
        created_at=at("2025-05-05"), converted_at=at("2025-05-06")
    )
    assert_rollups_exact()


def test_a_leads_source_moves_its_figures_between_sources(dataset: DataSet) -> None:
    converted = Lead.objects.filter(customer__isnull=False).order_by("pk").first()
    assert converted is not None
    Lead.objects.filter(pk=converted.pk).update(utm_source="yandex")
    assert_rollups_exact()
    converted.refresh_from_db()
    day = timezone.localdate(converted.created_at)
    assert stored()[("leads", "source_day", day, ALL_CAMPAIGNS, "yandex")] == 1
    revenue = Contract.objects.filter(customer__lead=converted).aggregate(total=Sum("amount"))["total"]
    assert revenue
    assert (
        sum(
            value
            for key, value in stored().items()
            if key[0] == "revenue" and key[1:2] == ("source_month",) and key[4] == "yandex"
        )
        == revenue
    )

    Lead.objects.filter(pk=converted.pk).update(utm_source="vk")
    assert_rollups_exact()
    assert not any(key[4] == "yandex" for key in stored())


def test_contract_edits(dataset: DataSet) -> None:
    contract = Contract.objects.get(amount=Decimal("3000.00"))
    contract.amount = Decimal("3333.33")
    contract.signed_at = date(2025, 6, 1)
    contract.save()
    assert_rollups_exact()
    contract.customer = Customer.objects.get(lead__campaign=dataset.beta)
    contract.save()
    assert_rollups_exact()
    Contract.objects.update(amount=Decimal("10.00"))
    assert_rollups_exact()


def test_customer_moved_to_another_lead(dataset: DataSet) -> None:
    customer = Customer.objects.get(lead__campaign=dataset.beta)
    other = LeadFactory(campaign=dataset.gamma, converted_at=at("2025-03-25"), status=LeadStatus.CONVERTED)
    customer.lead = other
    customer.save()
    assert_rollups_exact()


def test_deletes_in_either_order(dataset: DataSet) -> None:
    # contracts first, then their customer, then the lead (the order Django's PROTECT asks for)
    customer = Customer.objects.get(lead__campaign=dataset.beta)
    lead = customer.lead
    customer.contracts.all().delete()
    assert_rollups_exact()
    customer.delete()
    assert_rollups_exact()
    lead.delete()
    assert_rollups_exact()

    # the other way round, which the deferred foreign keys allow within one transaction
    customer = Customer.objects.filter(lead__campaign=dataset.alpha).first()
    assert customer is not None
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM crm_models_lead WHERE id = %s", [customer.lead_id])
        assert_rollups_exact_without_orphans()
        cursor.execute("DELETE FROM crm_models_customer WHERE id = %s", [customer.pk])
        cursor.execute("DELETE FROM crm_models_contract WHERE customer_id = %s", [customer.pk])
    assert_rollups_exact()


def assert_rollups_exact_without_orphans() -> None:
    """Mid-transaction, a customer may point to a lead already deleted: such a
    customer's figures have left the rollups with its lead (recomputed() joins
    through the lead, so it leaves them out too)."""
    assert stored() == recomputed()


def test_customer_and_contract_inserted_before_their_lead(operator: User, manager: User) -> None:
    """The deferred foreign keys let a transaction insert a customer before its
    lead; the lead's trigger then brings in the conversion and the revenue."""
    LeadFactory()  # an older lead, so the new lead's id is not the first
    campaign, service = CampaignFactory(), ServiceFactory()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT nextval(pg_get_serial_sequence('crm_models_lead', 'id'))")
        lead_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO crm_models_customer (lead_id, account_manager_id, created_at, updated_at) "
            "VALUES (%s, %s, now(), now()) RETURNING id",
            [lead_id, manager.pk],
        )
        customer_id = cursor.fetchone()[0]
        cursor.execute(
            "INSERT INTO crm_models_contract (name, customer_id, service_id, document, start_date, end_date, "
            "amount, signed_at, created_at, updated_at) "
            "VALUES ('C', %s, %s, '', '2025-03-01', '2026-02-28', 1234.50, '2025-03-02', now(), now())",
            [customer_id, service.pk],
        )
        cursor.execute(
            "INSERT INTO crm_models_lead (id, first_name, last_name, email, phone, company, campaign_id, status, "
            "owner_id, notes, created_at, updated_at, converted_at) "
            "VALUES (%s, 'A', '', 'a@example.com', '', '', %s, 'converted', %s, '', %s, now(), %s)",
            [lead_id, campaign.pk, operator.pk, at("2025-02-01"), at("2025-03-01", 1)],
        )
    assert_rollups_exact()
    assert stored()[("customers", "day", date(2025, 3, 1), campaign.pk, "")] == 1
    assert stored()[("revenue", "month", date(2025, 3, 1), campaign.pk, "")] == Decimal("1234.50")


def test_plain_lead_delete_and_bulk_delete() -> None:
    leads = LeadFactory.create_batch(5)
    leads[0].delete()
    assert_rollups_exact()
    Lead.objects.filter(pk__in=[lead.pk for lead in leads[1:3]]).delete()
    assert_rollups_exact()


def test_rebuild_gives_the_same_rows(dataset: DataSet) -> None:
    before = stored()
    rollups.execute(connection, rollups.rebuild_statements())
    assert stored() == before == recomputed()


def test_a_changed_time_zone_or_trigger_code_is_rebuilt(dataset: DataSet) -> None:
    with connection.cursor() as cursor:
        cursor.execute(PENDING_CHECKS_NOW)
    zone = DashboardsConfig.rollup_time_zone
    assert rollups.installed_signature(connection) == rollups.signature(zone)
    assert not rollups.sync(connection, zone)

    assert rollups.sync(connection, "UTC")
    # 00:10 on 1 March in Moscow is still 28 February in UTC
    assert stored()[("leads", "day", date(2025, 2, 28), dataset.alpha.pk, "")] == 2
    assert rollups.sync(connection, zone)
    assert_rollups_exact()

    # rollups built by older trigger code: rebuilt
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE OR REPLACE FUNCTION dashboards_rollup_signature() RETURNS text AS $$ SELECT 'old' $$ LANGUAGE sql"
        )
        cursor.execute("UPDATE dashboards_leadrollup SET leads = leads + 1")
    assert rollups.sync(connection, zone)
    assert_rollups_exact()


def test_another_time_zone_reads_the_base_tables(dataset: DataSet, marketer: User, settings) -> None:
    assert reads_rollups(marketer)
    settings.TIME_ZONE = "UTC"
    assert not reads_rollups(marketer)
    result = campaign_metrics(user=marketer, date_from=MARCH[0], date_to=MARCH[1])
    # in UTC the lead of 00:10 on 1 March (Moscow) belongs to February, and the
    # one of 00:30 on 1 April to March
    assert result.totals.leads == 6
    assert result.previous_totals.leads == 3


@pytest.fixture
def random_data(operator: User, manager: User) -> None:
    """Leads, conversions and contracts scattered over three years, with local
    midnights, month ends and a leap day among the moments."""
    rng = random.Random(6)
    sources = random.Random(7)  # apart: the moments stay those rng has always drawn
    zone = timezone.get_current_timezone()
    campaigns = CampaignFactory.create_batch(6)
    start = date(2023, 11, 1)
    for n in range(400):
        day = start + timedelta(days=rng.randint(0, 900))
        created = timezone.make_aware(datetime.combine(day, time.min), zone) + timedelta(
            minutes=rng.choice([0, 5, 719, 1439])
        )
        lead = LeadFactory(
            campaign=rng.choice(campaigns),
            owner=operator,
            created_at=created,
            utm_source=sources.choice(["", "yandex", "vk", "google"]),
        )
        if n % 3 == 0:
            lead.converted_at = created + timedelta(days=rng.randint(0, 60), minutes=rng.randint(0, 1439))
            lead.status = LeadStatus.CONVERTED
            lead.save()
            customer = CustomerFactory(lead=lead, account_manager=manager)
            for _contract in range(rng.randint(0, 2)):
                ContractFactory(
                    customer=customer,
                    amount=Decimal(rng.randint(0, 100_000)) / 100,
                    signed_at=timezone.localdate(lead.converted_at) + timedelta(days=rng.randint(0, 90)),
                )


PERIODS = [
    (date(2024, 1, 1), date(2024, 12, 31)),
    (date(2024, 2, 29), date(2025, 2, 28)),
    (date(2024, 3, 15), date(2024, 4, 14)),
    (date(2024, 6, 1), date(2024, 6, 30)),
    (date(2024, 6, 2), date(2024, 6, 2)),
    (date(2024, 7, 31), date(2024, 9, 1)),
    (date(2024, 11, 27), date(2025, 11, 26)),
    (date(2025, 1, 1), date(2025, 3, 31)),
]


@pytest.mark.parametrize(("date_from", "date_to"), PERIODS)
def test_selector_reads_the_same_figures_from_rollups_and_base_tables(
    random_data: None, marketer: User, monkeypatch: pytest.MonkeyPatch, date_from: date, date_to: date
) -> None:
    assert_rollups_exact()
    period = {"user": marketer, "date_from": date_from, "date_to": date_to}
    from_rollups = (campaign_metrics(**period), lead_timeseries(**period))
    monkeypatch.setattr("crm_models.selectors.metrics.reads_rollups", lambda user: False)
    from_tables = (campaign_metrics(**period), lead_timeseries(**period))

    assert from_rollups == from_tables
    assert from_rollups[0].totals.leads > 0
    assert sum(group.leads for group in from_rollups[0].by_source) == from_rollups[0].totals.leads
    assert sum(point.leads for point in from_rollups[1]) == from_rollups[0].totals.leads
    assert Campaign.objects.count() == len(from_rollups[0].rows)


def test_triggers_fire_in_replica_mode_too(dataset: DataSet) -> None:
    """demo_data's COPY loads with `session_replication_role = replica` to skip
    the foreign-key checks: the rollup triggers still run."""
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE crm_models_lead SET campaign_id = %s", [dataset.gamma.pk])
        cursor.execute("SET session_replication_role = DEFAULT")
    assert_rollups_exact()


def test_rebuild_command_repairs_rollups_after_a_load_without_triggers(dataset: DataSet) -> None:
    with connection.cursor() as cursor:
        cursor.execute(PENDING_CHECKS_NOW)
        cursor.execute("ALTER TABLE crm_models_lead DISABLE TRIGGER USER")  # as pg_restore --disable-triggers
        cursor.execute("UPDATE crm_models_lead SET campaign_id = %s", [dataset.gamma.pk])
        cursor.execute(PENDING_CHECKS_NOW)
    assert stored() != recomputed()

    out = io.StringIO()
    call_command("rebuild_rollups", stdout=out)

    assert_rollups_exact()
    assert out.getvalue().startswith("Rebuilt the rollups: ")
    assert out.getvalue().endswith(" lead rows, and the open leads of each owner.\n")
    with connection.cursor() as cursor:  # and the triggers it found disabled run again, always
        cursor.execute("SELECT DISTINCT tgenabled FROM pg_trigger WHERE tgname LIKE 'dashboards_rollup_%%'")
        assert cursor.fetchall() == [("A",)]
