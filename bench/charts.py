"""Benchmark: the admin-charts chart data (JSON) and CSV at 1,000,000 leads.

Uses the data set of bench/dashboard.py (1,000,000 leads over 1,000 campaigns,
>= 100,000 contracts), then times every shipped chart at the largest requests
the bounds let through (dashboards/charts.py: at most MAX_PERIOD_DAYS days and
MAX_CHART_POINTS points): ten years by month, a year by day, seven years by
week, each split into series and not, as JSON and CSV. Prints the cold time
(empty cache) and the median of the warm runs, the refused requests' times,
and the machine's load average before and after.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python bench/charts.py

Target (issue 18, item 4): every bounded request under a second.
"""

import os
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parent.parent)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.local")
os.environ.setdefault("DEBUG", "false")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from admin_tools_stats.models import DashboardStats  # noqa: E402
from django.core.cache import cache  # noqa: E402
from django.utils import timezone  # noqa: E402

from bench.dashboard import client_for, load  # noqa: E402

RUNS = 5


def timed(client, url: str) -> tuple[float, int, int]:
    started = time.perf_counter()
    response = client.get(url)
    return (time.perf_counter() - started) * 1000, response.status_code, len(response.content)


def main() -> None:
    load()
    print("load average: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    marketer = client_for("marketer")
    today = timezone.localdate()
    spans = {
        "days": today - timedelta(days=365),
        "weeks": today - timedelta(days=7 * 390),
        "months": today - timedelta(days=3650),
        "quarters": today - timedelta(days=3650),
        "years": today - timedelta(days=3650),
    }
    print(f"{'request':<62} {'cold':>8} {'warm':>8}  size")
    slowest = 0.0
    for chart in DashboardStats.objects.order_by("graph_key"):
        splits = [""] + [str(m2m.pk) for m2m in chart.criteriatostatsm2m_set.filter(use_as="multiple_series")]
        for interval in chart.allowed_time_scales:
            since = spans[interval]
            for split in splits:
                for view in ("chart_data", "chart_csv"):
                    url = (
                        f"/admin/charts/{view}/{chart.graph_key}/?time_since={since.isoformat()}"
                        f"&time_until={today.isoformat()}&select_box_interval={interval}"
                        f"&select_box_multiple_series={split}"
                    )
                    cache.clear()
                    runs = [timed(marketer, url) for _run in range(RUNS + 1)]
                    assert all(status == 200 for _ms, status, _size in runs), (url, runs[0])
                    cold, warm = runs[0][0], statistics.median(ms for ms, _s, _b in runs[1:])
                    slowest = max(slowest, cold, warm)
                    label = f"{view} {chart.graph_key} {interval} {(today - since).days + 1}d split={split or '-'}"
                    print(f"{label:<62} {cold:6.0f}ms {warm:6.0f}ms  {runs[0][2]:,} B")
    refused = "/admin/charts/chart_data/leads_by_channel/?time_since=1900-01-01&time_until=2999-12-31&select_box_interval=days"
    ms, status, _size = timed(marketer, refused)
    print(f"1900-2999 by days: {status} in {ms:.0f} ms")
    print(f"slowest bounded request: {slowest:.0f} ms")
    print("load average: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    main()
