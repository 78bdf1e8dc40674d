"""Benchmark: importing and exporting 100,000 leads.

In one run, on PostgreSQL, with the same generated 100,000-row lead file (CSV,
Russian headers, phones typed the ways people type them):

1. stock django-import-export: a default `ModelResource` run as its admin runs
   it (dry run, then the real import) on a 2,000-row sample, extrapolated;
2. this project's import as the admin runs it: the upload (preview) and the
   confirm POSTs through the test client, as a marketer;
3. PostgreSQL COPY of the same (already normalised) rows into a scratch table;

then the export of the imported leads as CSV and XLSX through the admin's
export view. Prints rows/s, the ratios, and the process's peak memory.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/imp_bench .venv/bin/python bench/imports.py

The database must be a scratch one: the run empties its lead tables first.
Targets (issue 5): confirm >= 20,000 rows/s with history; preview + confirm of
100,000 leads < 12 s; peak memory < 400 MB; export >= 50,000 rows/s.
"""

import csv
import io
import os
import resource
import sys
import time
from datetime import date
from decimal import Decimal
from pathlib import Path

# The project's packages import from the repository root.
sys.path[0] = str(Path(__file__).resolve().parent.parent)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.local")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

import phonenumbers  # noqa: E402
import tablib  # noqa: E402
from django.contrib.auth.models import Group, User  # noqa: E402
from django.core.files.uploadedfile import SimpleUploadedFile  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection, transaction  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402
from django.urls import reverse  # noqa: E402
from import_export import resources  # noqa: E402

from crm_models.models import Campaign, Channel, ImportRecord, Lead, Service  # noqa: E402
from crm_models.normalization import normalize_email, normalize_phone  # noqa: E402

ROWS = 100_000
STOCK_SAMPLE = 1_000
CAMPAIGNS = 50
BACKEND = "django.contrib.auth.backends.ModelBackend"
HEADER = ["Имя", "Фамилия", "Эл. почта", "Телефон", "Кампания", "UTM Source"]


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def phone(i: int) -> str:
    digits = f"{i:07d}"
    a, b, c = digits[:3], digits[3:5], digits[5:]
    return (f"8 (916) {a}-{b}-{c}", f"+7 916 {a} {b} {c}", f"8916{digits}", f"7-916-{a}-{b}-{c}")[i % 4]


def generate() -> tuple[bytes, list[list[str]]]:
    rows = [
        [
            f"Имя{i}",
            f"Фамилия{i}",
            f"User{i}@Example{i % 7}.ru",
            phone(i),
            f"Кампания {i % CAMPAIGNS}",
            "yandex",
        ]
        for i in range(ROWS)
    ]
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8"), rows


def generate_phones() -> list[str]:
    return [phone(i) for i in range(ROWS)]


def prepare() -> User:
    if connection.vendor != "postgresql":
        sys.exit("Run the benchmark on PostgreSQL: set DATABASE_URL=postgres://...")
    call_command("migrate", verbosity=0)
    call_command("createcachetable", verbosity=0)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM crm_models_customer")
        if cursor.fetchone()[0]:
            sys.exit("This database has customers: point DATABASE_URL at a scratch database.")
        cursor.execute(
            "TRUNCATE crm_models_contract, crm_models_customer, crm_models_interaction, "
            "crm_models_historicalinteraction, crm_models_lead, crm_models_historicallead, crm_models_importrecord, "
            "crm_models_notification, crm_models_followup, crm_models_capturesubmission, "
            "crm_models_openleadcount"  # kept by triggers that TRUNCATE does not fire
        )
    user, _created = User.objects.get_or_create(username="bench_marketer", defaults={"is_staff": True})
    user.groups.add(Group.objects.get(name="Marketer"))
    service, _created = Service.objects.get_or_create(name="Bench service", defaults={"price": Decimal(1)})
    for i in range(CAMPAIGNS):
        Campaign.objects.get_or_create(
            name=f"Кампания {i}",
            defaults={
                "service": service,
                "channel": Channel.SEARCH,
                "budget": Decimal(1000),
                "start_date": date(2026, 1, 1),
                "end_date": date(2026, 12, 31),
            },
        )
    return user


class StockLeadResource(resources.ModelResource):
    class Meta:
        model = Lead
        fields = ("id", "first_name", "last_name", "email", "phone", "campaign", "owner")


def bench_stock(rows: list[list[str]], user: User) -> float:
    """Default ModelResource, dry run then real import (as its admin does), rolled back."""
    campaigns = dict(Campaign.objects.values_list("name", "pk"))
    # The default resource identifies rows by an "id" column; empty means "new".
    dataset = tablib.Dataset(headers=["id", "first_name", "last_name", "email", "phone", "campaign", "owner"])
    for first, last, email, raw_phone, campaign, _utm in rows[:STOCK_SAMPLE]:
        # The stock resource does no normalisation: give it normalised values.
        dataset.append(
            [
                "",
                first,
                last,
                normalize_email(email),
                normalize_phone(raw_phone),
                campaigns[campaign],
                user.pk,
            ]
        )
    started = time.perf_counter()
    with transaction.atomic():
        for dry_run in (True, False):
            result = StockLeadResource().import_data(dataset, dry_run=dry_run, user=user)
            assert not result.has_errors(), result.base_errors or result.row_errors()[:1]
            assert not result.has_validation_errors(), result.invalid_rows[:1]
        elapsed = time.perf_counter() - started
        assert Lead.objects.count() == STOCK_SAMPLE
        assert Lead.history.count() == STOCK_SAMPLE
        transaction.set_rollback(True)
    return STOCK_SAMPLE / elapsed


def bench_project(data: bytes, user: User) -> tuple[float, float]:
    client = Client()
    client.force_login(user, backend=BACKEND)
    started = time.perf_counter()
    preview = client.post(
        reverse("admin:crm_models_lead_import"),
        {"import_file": SimpleUploadedFile("leads.csv", data), "duplicates": "skip"},
    )
    preview_seconds = time.perf_counter() - started
    assert preview.status_code == 200, preview.status_code
    counts = preview.context["counts"]
    assert counts == {"new": ROWS, "updated": 0, "skipped": 0, "errors": 0}, counts
    token = preview.context["token"]
    del preview  # a server frees the preview request before the confirm arrives
    started = time.perf_counter()
    response = client.post(reverse("admin:crm_models_lead_process_import"), {"token": token})
    confirm_seconds = time.perf_counter() - started
    assert response.status_code == 302, response.status_code
    assert Lead.objects.count() == ROWS
    assert Lead.history.filter(history_user=user).count() == ROWS
    assert ImportRecord.objects.get().created_count == ROWS
    return preview_seconds, confirm_seconds


def bench_copy() -> float:
    rows = list(
        Lead.objects.values_list(
            "created_at",
            "updated_at",
            "first_name",
            "last_name",
            "email",
            "phone",
            "company",
            "campaign_id",
            "status",
            "owner_id",
            "notes",
        )
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE lead_copy_scratch (LIKE crm_models_lead INCLUDING DEFAULTS) ON COMMIT DROP"
        )
        started = time.perf_counter()
        columns = "created_at, updated_at, first_name, last_name, email, phone, company, campaign_id, status, owner_id, notes"
        with cursor.cursor.copy(f"COPY lead_copy_scratch (id, {columns}) FROM STDIN") as copy:
            for pk, row in enumerate(rows, start=1):
                copy.write_row((pk, *row))
        elapsed = time.perf_counter() - started
    return len(rows) / elapsed


def bench_export(user: User, file_format: str) -> float:
    client = Client()
    client.force_login(user, backend=BACKEND)
    data = {"format": file_format, "resource": "0"}
    data.update(
        {
            f"leadresource_{name}": "on"
            for name in (
                "id",
                "first_name",
                "last_name",
                "email",
                "phone",
                "company",
                "campaign",
                "status",
                "owner",
                "created_at",
                "converted_at",
                "notes",
            )
        }
    )
    started = time.perf_counter()
    response = client.post(reverse("admin:crm_models_lead_export"), data)
    elapsed = time.perf_counter() - started
    assert response.status_code == 200, response.status_code
    return ROWS / elapsed


def main() -> None:
    setup_test_environment()
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(
        f"machine: {os.cpu_count()} CPUs, load average {load} (other work on the machine slows every figure)"
    )
    user = prepare()
    data, rows = generate()
    del rows[STOCK_SAMPLE:]
    print(f"file: {ROWS:,} rows, {len(data) / 1024 / 1024:.1f} MB; peak RSS so far {peak_mb():.0f} MB")

    stock = bench_stock(rows, user)
    print(
        f"stock ModelResource (dry run + import, {STOCK_SAMPLE:,}-row sample): {stock:,.0f} rows/s, "
        f"extrapolated to {ROWS:,} rows: {ROWS / stock:.0f} s"
    )

    preview, confirm = bench_project(data, user)
    project_peak = peak_mb()
    total = preview + confirm
    print(f"project import: preview {preview:.2f} s, confirm {confirm:.2f} s, total {total:.2f} s")
    print(
        f"  confirm {ROWS / confirm:,.0f} rows/s (with history); preview+confirm {ROWS / total:,.0f} rows/s"
    )
    print(f"  peak RSS after the import {project_peak:.0f} MB")
    typed = generate_phones()
    started = time.perf_counter()
    for row in typed:
        normalize_phone(row)
    phones = time.perf_counter() - started
    started = time.perf_counter()
    for row in typed:
        number = phonenumbers.parse(row, "RU")
        phonenumbers.is_valid_number(number)
        phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    parsed = time.perf_counter() - started
    print(
        f"  of the preview, normalising {ROWS:,} phones takes {phones:.2f} s "
        f"(phonenumbers' parse + is_valid_number + format alone: {parsed:.2f} s)"
    )

    copy = bench_copy()
    print(f"COPY into a scratch table: {copy:,.0f} rows/s")

    csv_rate = bench_export(user, "0")
    xlsx_rate = bench_export(user, "1")
    print(f"export: CSV {csv_rate:,.0f} rows/s, XLSX {xlsx_rate:,.0f} rows/s")

    print("ratios:")
    print(f"  project (preview+confirm) / stock: {ROWS / total / stock:.1f}x")
    print(f"  project confirm / stock: {ROWS / confirm / stock:.1f}x")
    print(f"  COPY / project confirm: {copy / (ROWS / confirm):.1f}x")
    print(f"peak RSS of the whole run: {peak_mb():.0f} MB")
    load = ", ".join(f"{value:.1f}" for value in os.getloadavg())
    print(f"load average at the end: {load}")


if __name__ == "__main__":
    main()
