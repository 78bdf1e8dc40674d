"""Benchmark: the dashboard (admin index) and the campaign report at scale.

Fills PostgreSQL with 1,000,000 leads, >= 100,000 customers and contracts and
1,000 campaigns (the demo data command's large mode, then campaigns added and
the leads spread over all of them), then times the admin index and the report
for a year-long period with the test client, and prints the server time and the
query count of each page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/dashboard.py

Loading takes a few minutes the first time; later runs reuse the data. Targets
(issue 6): index < 300 ms and <= 12 queries, query count independent of data size.
The last line times the index once more with the figures aggregated from the
base tables instead of the rollup tables, for comparison.

With --spend the run first gives every campaign a row of ad spend for each of
the last 365 days (365,000 rows for 1,000 campaigns), so that the figures
read real spend (issue 21: still < 300 ms and <= 12 queries).
"""

import argparse
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from unittest import mock

# The project's packages import from the repository root.
sys.path[0] = str(Path(__file__).resolve().parent.parent)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.local")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402
from django.utils import timezone  # noqa: E402

from crm_models.models import AdSpend, Campaign, Channel, Contract, Customer, Lead, Service  # noqa: E402

LEADS = 1_000_000
CAMPAIGNS = 1_000
CUSTOMERS = 100_000
RUNS = 7
BACKEND = "django.contrib.auth.backends.ModelBackend"


def load() -> None:
    if connection.vendor != "postgresql":
        sys.exit("Run the benchmark on PostgreSQL: set DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    started = time.perf_counter()
    if Lead.objects.count() < LEADS:
        call_command("demo_data", leads=LEADS, verbosity=1)
    missing = CAMPAIGNS - Campaign.objects.count()
    if missing > 0:
        rng = random.Random(7)
        services = list(Service.objects.all())
        today = timezone.localdate()
        new = []
        for number in range(missing):
            start = today - timedelta(days=rng.randint(0, 720))
            new.append(
                Campaign(
                    name=f"Bench campaign {number:04d}",
                    service=rng.choice(services),
                    channel=rng.choice(Channel.values),
                    budget=Decimal(rng.randint(0, 500) * 1000),
                    start_date=start,
                    end_date=start + timedelta(days=rng.randint(14, 120)),
                )
            )
        Campaign.objects.bulk_create(new, batch_size=1000)
        # Spread the leads over all campaigns, so each campaign has its own figures.
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE crm_models_lead SET campaign_id = c.ids[1 + crm_models_lead.id % cardinality(c.ids)] "
                "FROM (SELECT array_agg(id ORDER BY id) AS ids FROM crm_models_campaign) AS c"
            )
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    print(
        f"data: {Lead.objects.count():,} leads, {Customer.objects.count():,} customers, "
        f"{Contract.objects.count():,} contracts, {Campaign.objects.count():,} campaigns "
        f"(load/check {time.perf_counter() - started:.0f} s)"
    )


def load_spend() -> None:
    """A spend row per campaign and day for the last 365 days (idempotent)."""
    today = timezone.localdate()
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO crm_models_adspend (created_at, updated_at, campaign_id, date, amount, source) "
            "SELECT now(), now(), c.id, d::date, 100 + (c.id * 7 + extract(doy FROM d)::int) %% 900, 'yandex' "
            "FROM crm_models_campaign c, generate_series(%s::date, %s::date, '1 day') AS d "
            "ON CONFLICT DO NOTHING",
            [today - timedelta(days=364), today],
        )
        cursor.execute("VACUUM ANALYZE crm_models_adspend")
    print(f"spend: {AdSpend.objects.count():,} rows of ad spend")


def client_for(username: str) -> Client:
    client = Client()
    client.force_login(User.objects.get(username=username), backend=BACKEND)
    return client


def measure(label: str, client: Client, url: str) -> None:
    """First run with an empty cache (the figures computed from the tables),
    then RUNS warm runs (the figures from the shared cache)."""
    cache.clear()
    timings, db_times, counts = [], [], []
    for _run in range(RUNS + 1):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.get(url)
            elapsed = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code)
        timings.append(elapsed * 1000)
        db_times.append(sum(float(q["time"]) for q in queries.captured_queries) * 1000)
        counts.append(len(queries))
    warm = timings[1:]
    print(
        f"{label:<30} cold {timings[0]:6.0f} ms, {counts[0]:2d} queries (db {db_times[0]:5.0f} ms) | "
        f"warm median {statistics.median(warm):5.0f} ms, best {min(warm):5.0f} ms, {counts[-1]:2d} queries "
        f"(db {statistics.median(db_times[1:]):4.0f} ms)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--spend", action="store_true", help="add a year of daily ad spend per campaign first"
    )
    args = parser.parse_args()
    load()
    if args.spend:
        load_spend()
    today = timezone.localdate()
    year = f"date_from={(today - timedelta(days=364)).isoformat()}&date_to={today.isoformat()}"
    month = f"date_from={today.replace(day=1).isoformat()}&date_to={today.isoformat()}"
    marketer, operator = client_for("marketer"), client_for("operator")
    # A long-running server has compiled its templates and opened its database
    # connection before anyone asks for a period: one index page for another
    # period (whose figures nobody measures) does that here, so that "cold"
    # measures an uncached period, not a fresh process. Its time is printed too.
    cache.clear()
    other = f"date_from={(today - timedelta(days=729)).isoformat()}&date_to={(today - timedelta(days=365)).isoformat()}"
    started = time.perf_counter()
    assert marketer.get(f"/admin/?{other}").status_code == 200
    print(
        f"process warm-up (index, marketer, the year before): {(time.perf_counter() - started) * 1000:.0f} ms"
    )
    print(
        f"cold = empty cache; warm = {RUNS} more runs (figures cached where they are cached: "
        f"not when they come from the rollup tables); year = {year}"
    )
    measure("index, marketer, year", marketer, f"/admin/?{year}")
    measure("index, marketer, this month", marketer, f"/admin/?{month}")
    measure("index, operator, year", operator, f"/admin/?{year}")
    measure("report page, year", marketer, f"/admin/dashboards/campaign-metrics/?{year}")
    measure("report CSV, year", marketer, f"/admin/dashboards/campaign-metrics/?{year}&format=csv")
    measure("report XLSX, year", marketer, f"/admin/dashboards/campaign-metrics/?{year}&format=xlsx")
    # For comparison, on the same machine at the same moment: the figures
    # aggregated from the base tables (and cached), as on SQLite or before the rollups.
    with (
        mock.patch("crm_models.selectors.metrics.reads_rollups", return_value=False),
        mock.patch("dashboards.cache.reads_rollups", return_value=False),
    ):
        measure("index, year, base tables", marketer, f"/admin/?{year}")


if __name__ == "__main__":
    main()
