"""Benchmark: importing 100,000 rows of ad spend (issue 21).

Generates one Yandex Direct daily report (UTF-8 with BOM, ";", Russian
headers, a title line above the header and a totals row, amounts typed as
"4 520,50") of 100,000 rows: 1,000 campaigns x 100 days, half of the
campaigns named by their name, half by their utm_campaign. Then runs the
import as the admin runs it, as a marketer: the upload (preview) and the
confirm POSTs through the test client. Prints each step's time, rows/s and
the process's peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/spend_bench .venv/bin/python bench/spend.py

The database must be a scratch one: the run empties its spend tables first.
Target: preview + confirm of 100,000 rows under 10 s.
"""

import os
import resource
import sys
import time
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

# The project's packages import from the repository root.
sys.path[0] = str(Path(__file__).resolve().parent.parent)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.local")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402

from crm_models.capture_models import AdSpend  # noqa: E402
from crm_models.models import Campaign, Channel, ImportRecord, Service  # noqa: E402

CAMPAIGNS = 1_000
DAYS = 100
ROWS = CAMPAIGNS * DAYS
TARGET_SECONDS = 10.0
BACKEND = "django.contrib.auth.backends.ModelBackend"
FIRST_DAY = date(2026, 1, 1)


def prepare() -> User:
    if connection.vendor != "postgresql":
        sys.exit("Run the benchmark on PostgreSQL: set DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE crm_models_adspend, crm_models_historicaladspend, crm_models_importrecord")
    user, _created = User.objects.get_or_create(username="bench_marketer", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="Marketer"))
    service, _created = Service.objects.get_or_create(name="Bench service", defaults={"price": Decimal(1)})
    existing = set(Campaign.objects.filter(name__startswith="Кампания ").values_list("name", flat=True))
    Campaign.objects.bulk_create(
        [
            Campaign(
                name=f"Кампания {i}",
                utm_campaign=f"bench_{i}",
                service=service,
                channel=Channel.SEARCH,
                budget=Decimal(100_000),
                start_date=FIRST_DAY,
                end_date=FIRST_DAY + timedelta(days=DAYS),
            )
            for i in range(CAMPAIGNS)
            if f"Кампания {i}" not in existing
        ]
    )
    return user


def report() -> bytes:
    """A Yandex Direct "statistics by day" export as people download it."""
    last = FIRST_DAY + timedelta(days=DAYS - 1)
    lines = [
        f"Статистика по дням: {FIRST_DAY:%d.%m.%Y} - {last:%d.%m.%Y}",
        "Дата;Кампания;№ Кампании;Показы;Клики;CTR (%);Расход (руб.);Ср. цена клика (руб.)",
    ]
    for day_number in range(DAYS):
        day = FIRST_DAY + timedelta(days=day_number)
        for i in range(CAMPAIGNS):
            campaign = f"Кампания {i}" if i % 2 else f"bench_{i}"
            rubles = 1000 + (i * 37 + day_number * 11) % 9000
            amount = f"{rubles // 1000} {rubles % 1000:03d},50"  # "4 520,50", as Excel shows it
            lines.append(f"{day:%d.%m.%Y};{campaign};{70_000_000 + i};12 500;310;2,48;{amount};14,58")
    lines.append("Итого;;;;;;;")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode("utf-8")


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    setup_test_environment()
    user = prepare()
    data = report()
    client = Client()
    client.force_login(user, backend=BACKEND)
    print(f"file: {ROWS:,} rows, {len(data) / 1e6:.1f} MB (Yandex Direct report, UTF-8 with BOM, ';')")
    started = time.perf_counter()
    preview = client.post(
        reverse("admin:crm_models_adspend_import"),
        {"import_file": SimpleUploadedFile("yandex-direct.csv", data), "duplicates": "skip"},
    )
    preview_seconds = time.perf_counter() - started
    assert preview.status_code == 200, preview.status_code
    counts = preview.context["counts"]
    assert counts == {"new": ROWS, "updated": 0, "skipped": 0, "errors": 0}, counts
    token = preview.context["token"]
    del preview
    started = time.perf_counter()
    response = client.post(
        reverse("admin:crm_models_adspend_process_import"), {"token": token, "rows": "all"}
    )
    confirm_seconds = time.perf_counter() - started
    assert response.status_code == 302, response.status_code
    assert AdSpend.objects.count() == ROWS
    assert AdSpend.history.filter(history_user=user).count() == ROWS
    assert ImportRecord.objects.get().created_count == ROWS
    total = preview_seconds + confirm_seconds
    print(f"preview  {preview_seconds:6.2f} s")
    print(f"confirm  {confirm_seconds:6.2f} s ({ROWS / confirm_seconds:,.0f} rows/s, with history)")
    print(
        f"total    {total:6.2f} s, target < {TARGET_SECONDS:.0f} s: {'yes' if total < TARGET_SECONDS else 'NO'}; "
        f"peak memory {peak_mb():.0f} MB; load average {os.getloadavg()[0]:.1f}"
    )


if __name__ == "__main__":
    main()
