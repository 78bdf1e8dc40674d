"""Benchmark: "My day" and the lead list's follow-up filters at 1,000,000 leads
and 1,000,000 follow-ups.

Builds (or reuses) two PostgreSQL databases with the demo data command (as
bench/changelists.py does), then adds one follow-up per lead through COPY:
seven in ten open, due from 30 days ago to 30 days ahead, the rest done; the
assignee is the lead's owner, or its customer's account manager once
converted. Each lead's next step (`next_follow_up_at`) is then set from its
open steps, as the follow-up service keeps it.

Each page is requested with the test client (in-process: Django and
PostgreSQL, no network). Two worker processes, one per database, are asked for
the same page in turn, request by request, so that the growth ratio (1M / 10k)
compares requests made seconds apart on this shared machine. Prints the median
of RUNS requests, the query count and the ratio.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_followups_big \\
    SMALL_DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_followups_small \\
        .venv/bin/python bench/followups.py [--leads 1000000] [--runs 7]

Targets: every page under 75 ms at 1M and at most 1.5x its 10k time (pages
under 10 ms pass whatever their growth).
"""

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from changelists import Worker, load, log, setup_django, short

ROOT = Path(__file__).resolve().parent.parent
TARGET_MS = 75.0
MAX_GROWTH = 1.5
OPEN_SHARE = 0.7
SPREAD_DAYS = 30
COPY_CHUNK = 100_000


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--leads", type=int, default=1_000_000)
    parser.add_argument("--small-leads", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--serve", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.leads)
        return
    big_url = os.environ.get("DATABASE_URL", "")
    small_url = os.environ.get("SMALL_DATABASE_URL", "")
    if not big_url.startswith("postgres") or not small_url.startswith("postgres"):
        sys.exit("Set DATABASE_URL and SMALL_DATABASE_URL to two PostgreSQL databases (postgres://...).")
    big = Worker(big_url, ["--leads", str(args.leads)], script=__file__)
    small = Worker(small_url, ["--leads", str(args.small_leads)], script=__file__)
    results: dict[str, dict[str, Any]] = {}
    for name in big.pages:
        for worker in (big, small):
            worker.ask("warm", name)
        timings: dict[Worker, list[list[float]]] = {big: [], small: []}
        for _ in range(args.runs):
            for worker in (big, small):
                timings[worker].append(worker.ask("time", name))
        results[name] = {
            "big_ms": statistics.median(page for page, _sql in timings[big]),
            "small_ms": statistics.median(page for page, _sql in timings[small]),
            "big_sql": statistics.median(sql for _page, sql in timings[big]),
            "small_sql": statistics.median(sql for _page, sql in timings[small]),
            "big": big.ask("queries", name),
            "small": small.ask("queries", name),
        }
        log(
            f"  {name}: {results[name]['big_ms']:.1f} ms (SQL {results[name]['big_sql']:.1f}) / "
            f"{results[name]['small_ms']:.1f} ms (SQL {results[name]['small_sql']:.1f})"
        )
    report(results, (big.close(), small.close()), args.leads, args.small_leads)


def report(
    results: dict[str, dict[str, Any]], load_average: tuple[float, float], leads: int, small: int
) -> None:
    big_name, small_name = short(leads), short(small)
    header = (
        f"{'page':40} {big_name + ' ms':>8} {'SQL':>6} {'q':>3} {small_name + ' ms':>8} {'SQL':>6} {'q':>3} "
        f"{'ratio':>6} {'SQL ratio':>9} {'rows':>9}  ok"
    )
    print(
        f'\n"My day" and follow-up filters at {leads:,} leads and follow-ups (median of runs; in-process)\n'
    )
    print(header)
    print("-" * len(header))
    failures = 0
    for name, row in results.items():
        ratio = row["big_ms"] / row["small_ms"]
        sql_ratio = row["big_sql"] / row["small_sql"] if row["small_sql"] else float("nan")
        ok = row["big_sql"] < TARGET_MS and (ratio <= MAX_GROWTH or row["big_ms"] < 10)
        failures += not ok
        print(
            f"{name:40} {row['big_ms']:8.1f} {row['big_sql']:6.1f} {row['big'][0]:3d} "
            f"{row['small_ms']:8.1f} {row['small_sql']:6.1f} {row['small'][0]:3d} "
            f"{ratio:5.2f}x {sql_ratio:8.2f}x {str(row['big'][1]) + '/' + str(row['small'][1]):>9}  "
            f"{'yes' if ok else 'NO'}"
        )
    print(
        f"\nms = the whole page, in-process (Django, template, PostgreSQL); SQL = the part spent in "
        f"PostgreSQL (the page's queries); ratio = page time at {big_name} / at {small_name} (target at most "
        f"{MAX_GROWTH}x; pages under 10 ms pass whatever their ratio); target: the queries under "
        f"{TARGET_MS:.0f} ms at {big_name}; rows = rows listed at {big_name} / at {small_name}. "
        f"{'All pages on target.' if not failures else f'{failures} page(s) off target.'}"
        f"\nLoad average during the runs: {load_average[0]:.1f} / {load_average[1]:.1f} on {os.cpu_count()} CPUs."
    )


# --------------------------------------------------------------------------- worker


def load_follow_ups() -> None:
    """One follow-up per lead through COPY (those the demo data planned kept),
    then every lead's next step from its open ones."""
    from django.db import connection, transaction
    from django.utils import timezone

    from crm_models.management.commands.demo_data import copy_text, skip_foreign_key_checks
    from crm_models.models import Lead
    from crm_models.workflow_models import FollowUp

    leads = Lead.objects.count()
    if FollowUp.objects.count() >= leads:
        return
    log(f"loading {leads:,} follow-ups...")
    started = time.perf_counter()
    rng = random.Random(7)
    now = timezone.now()
    spread = SPREAD_DAYS * 24 * 3600
    columns = [
        "created_at", "updated_at", "lead_id", "kind", "due_at", "assignee_id", "note", "done_at",
        "created_by_id", "remind_at", "reminded_at",
    ]  # fmt: skip
    table = FollowUp._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT l.id, COALESCE(c.account_manager_id, l.owner_id), l.created_at "
            f"FROM {Lead._meta.db_table} l LEFT JOIN crm_models_customer c ON c.lead_id = l.id "
            "WHERE NOT EXISTS (SELECT 1 FROM crm_models_followup f WHERE f.lead_id = l.id) ORDER BY l.id"
        )
        rows = cursor.fetchall()
    fallback = Lead.objects.filter(owner__isnull=False).values_list("owner_id", flat=True).first()
    for offset in range(0, len(rows), COPY_CHUNK):
        lines = []
        for lead_id, assignee_id, lead_created in rows[offset : offset + COPY_CHUNK]:
            due = now + timedelta(seconds=rng.uniform(-spread, spread))
            open_step = rng.random() < OPEN_SHARE
            created = min(max(lead_created, due - timedelta(days=3)), now)
            done = None if open_step else min(max(due, created), now)
            remind = due - timedelta(minutes=15)
            values = [
                created, created, lead_id, rng.choice(("call", "call", "email", "meeting")), due,
                assignee_id or fallback, "", done, assignee_id or fallback, remind, remind if remind < now else None,
            ]  # fmt: skip
            lines.append("\t".join(map(copy_text, values)))
        with transaction.atomic():
            skip_foreign_key_checks()
            with (
                connection.cursor() as cursor,
                cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy,
            ):
                for start in range(0, len(lines), 10_000):
                    copy.write("\n".join(lines[start : start + 10_000]) + "\n")
        log(f"  {min(offset + COPY_CHUNK, len(rows)):,} / {len(rows):,}")
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Lead._meta.db_table} l SET next_follow_up_at = f.due "
            f"FROM (SELECT lead_id, MIN(due_at) AS due FROM {table} WHERE done_at IS NULL GROUP BY lead_id) f "
            "WHERE l.id = f.lead_id AND l.next_follow_up_at IS DISTINCT FROM f.due"
        )
        for name in (table, Lead._meta.db_table):
            cursor.execute(f"VACUUM ANALYZE {name}")
    log(f"loaded in {time.perf_counter() - started:.0f} s")


def cases() -> list[tuple[str, str, str, dict[str, str]]]:
    """(name, username, url, params) of every page measured."""
    from django.urls import reverse

    my_day = reverse("admin:crm_models_my_day")
    leads = reverse("admin:crm_models_lead_changelist")
    pages: list[tuple[str, str, str, dict[str, str]]] = [
        ("my day (operator)", "operator", my_day, {}),
        ("my day (manager)", "manager", my_day, {}),
    ]
    for username, role in (("admin", "admin"), ("operator", "operator")):
        for state in ("overdue", "today", "planned", "none"):
            pages.append((f"lead: follow-up {state} ({role})", username, leads, {"follow_up": state}))
        pages.append((f"lead: stale ({role})", username, leads, {"stale": "yes"}))
    return pages


class SqlTimer:
    """A database execute wrapper adding up the time spent in the database."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        begun = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.seconds += time.perf_counter() - begun


def serve(leads: int) -> None:
    """The worker: loads the data, then answers the driver's commands."""
    setup_django()
    load(leads)
    load_follow_ups()
    from django.contrib.auth.models import User
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    pages = {name: (username, url, params) for name, username, url, params in cases()}
    clients: dict[str, Client] = {}

    def client(username: str) -> Client:
        if username not in clients:
            clients[username] = Client()
            clients[username].force_login(User.objects.get(username=username))
        return clients[username]

    def get(name: str) -> Any:
        username, url, params = pages[name]
        response = client(username).get(url, params)
        assert response.status_code == 200, (name, response.status_code)
        return response

    def rows(response: Any) -> int:
        # The test client records no template context outside tests: the rows
        # are counted in the HTML (unfold's list rows, My day's steps).
        return response.content.count(b'<tr class="data-row') + response.content.count(b"data-follow-up=")

    print(json.dumps(list(pages)), flush=True)
    for line in sys.stdin:
        command, name = json.loads(line)
        if command == "warm":
            get(name)
            answer: Any = None
        elif command == "time":
            timer = SqlTimer()
            started = time.perf_counter()
            with connection.execute_wrapper(timer):
                get(name)
            answer = [(time.perf_counter() - started) * 1000, timer.seconds * 1000]
        else:
            with CaptureQueriesContext(connection) as queries:
                response = get(name)
            answer = [len(queries), rows(response)]
        print(json.dumps(answer), flush=True)
    print(json.dumps(os.getloadavg()[0]), flush=True)


if __name__ == "__main__":
    main()
