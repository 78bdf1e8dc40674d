"""Benchmark: converting 500 selected leads through the admin action (issue 4).

Creates LEADS fresh leads on PostgreSQL, logs in a manager with the test client
(in-process: Django + PostgreSQL, no network), posts the `convert_leads` action
from the lead changelist (the intermediate page), then confirms it with the
default contracts, and prints the time and the queries of each step, per lead.

    .venv/bin/python bench/convert_leads.py [--leads 500]

DATABASE_URL chooses the PostgreSQL database (default: crm_bench_convert on
127.0.0.1:5432 as postgres); it is created and migrated if it does not exist; each run adds its
own leads (tagged by run), so it can be repeated. Target: under 5 s for 500
leads, a constant number of queries per lead.
"""

import argparse
import os
import sys
import time
import uuid
from decimal import Decimal
from pathlib import Path
from tempfile import mkdtemp
from urllib.parse import urlsplit

# The project's packages import from the repository root.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.local")
os.environ.setdefault("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/crm_bench_convert")
os.environ["DEBUG"] = "false"
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
os.environ.setdefault("MEDIA_ROOT", mkdtemp(prefix="crm-bench-media-"))
os.environ.setdefault("LOG_LEVEL", "WARNING")

TARGET_SECONDS = 5.0


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = parts._replace(path="/postgres").geturl()
    with psycopg.connect(admin_url, autocommit=True) as connection:
        exists = connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            connection.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=500)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith("postgres"):
        sys.exit("DATABASE_URL must name a PostgreSQL database (postgres://...); it is created if missing.")
    ensure_database(url)

    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    run(args.leads)


def run(count: int) -> None:
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
    from django.contrib.auth.models import Group, User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from django.urls import reverse
    from django.utils import timezone

    from crm_models.admin.conversion_forms import CONTRACTS_PREFIX, ConversionTermsForm, contract_rows_initial
    from crm_models.models import Campaign, Channel, Customer, Lead, Service
    from crm_models.roles import Role

    tag = uuid.uuid4().hex[:8]
    manager = User.objects.create_user(f"bench_manager_{tag}", is_staff=True)
    manager.groups.add(Group.objects.get(name=Role.MANAGER))
    owner = User.objects.create_user(f"bench_operator_{tag}", is_staff=True)
    service = Service.objects.create(name=f"Bench service {tag}", price=Decimal("990.00"))
    today = timezone.localdate()
    campaign = Campaign.objects.create(
        name=f"Bench campaign {tag}",
        service=service,
        channel=Channel.SEARCH,
        budget=Decimal("10000"),
        start_date=today,
        end_date=today,
    )
    phone_base = int(uuid.uuid4().int % 10**6) * 1000
    leads = Lead.objects.bulk_create(
        Lead(
            first_name="Bench",
            last_name=f"Lead {i}",
            email=f"bench-{tag}-{i}@bench.example",
            phone=f"+7900{(phone_base + i) % 10**7:07d}",
            campaign=campaign,
            owner=owner,
        )
        for i in range(count)
    )
    leads = list(Lead.objects.filter(pk__in=[lead.pk for lead in leads]).select_related("campaign__service"))

    client = Client()
    client.force_login(manager, backend="django.contrib.auth.backends.ModelBackend")
    changelist = reverse("admin:crm_models_lead_changelist")
    ids = [lead.pk for lead in leads]
    client.get(changelist)  # first request of the process: lazy imports, template loading

    with CaptureQueriesContext(connection) as page_queries:
        started = time.perf_counter()
        page = client.post(changelist, {"action": "convert_leads", ACTION_CHECKBOX_NAME: ids, "index": "0"})
        page_seconds = time.perf_counter() - started
    assert page.status_code == 200, page.status_code

    data: dict[str, object] = {"convert": "1", "action": "convert_leads", ACTION_CHECKBOX_NAME: ids}
    data.update({name: value.isoformat() for name, value in ConversionTermsForm.initial_for(today).items()})
    rows = contract_rows_initial(leads)
    data.update(
        {
            f"{CONTRACTS_PREFIX}-TOTAL_FORMS": len(rows),
            f"{CONTRACTS_PREFIX}-INITIAL_FORMS": len(rows),
            f"{CONTRACTS_PREFIX}-MIN_NUM_FORMS": 0,
            f"{CONTRACTS_PREFIX}-MAX_NUM_FORMS": 10_000,
        }
    )
    for index, row in enumerate(rows):
        for name, value in row.items():
            data[f"{CONTRACTS_PREFIX}-{index}-{name}"] = value

    profiler = None
    if os.environ.get("BENCH_PROFILE"):
        import cProfile

        profiler = cProfile.Profile()
        profiler.enable()
    with CaptureQueriesContext(connection) as confirm_queries:
        started = time.perf_counter()
        response = client.post(changelist, data)
        confirm_seconds = time.perf_counter() - started
    if profiler is not None:
        import pstats

        profiler.disable()
        pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_PROFILE_SORT", "tottime")).print_stats(
            int(os.environ.get("BENCH_PROFILE_LINES", "25"))
        )
    assert response.status_code == 302, response.status_code
    converted = Customer.objects.filter(lead_id__in=ids, account_manager=manager).count()
    assert converted == count, f"{converted} of {count} converted"

    total = page_seconds + confirm_seconds
    in_database = sum(float(query["time"]) for query in confirm_queries.captured_queries)
    if os.environ.get("BENCH_QUERY_BREAKDOWN"):
        breakdown: dict[str, list[float]] = {}
        for query in confirm_queries.captured_queries:
            key = " ".join(query["sql"].split()[:6])[:72]
            breakdown.setdefault(key, []).append(float(query["time"]))
        for key, times in sorted(breakdown.items(), key=lambda item: -sum(item[1])):
            print(f"  {sum(times):7.2f} s  {len(times):5d} x  {key}")
    print(f"leads converted:          {converted}")
    print(f"intermediate page:        {page_seconds:.2f} s, {len(page_queries)} queries")
    print(
        f"confirm (conversion):     {confirm_seconds:.2f} s, {len(confirm_queries)} queries "
        f"({1000 * confirm_seconds / count:.2f} ms and {len(confirm_queries) / count:.2f} queries per lead)"
    )
    print(f"  of which in queries:    {in_database:.2f} s (time from sending each query to its result)")
    print(f"total:                    {total:.2f} s ({1000 * total / count:.2f} ms per lead)")
    print(
        f"target:                   < {TARGET_SECONDS:.0f} s -> {'met' if total < TARGET_SECONDS else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
