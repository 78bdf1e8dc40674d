"""Load test: the project under gunicorn with production settings, 8 logged-in
clients for 60 s on loopback.

Collects static files into a temporary STATIC_ROOT (production uses the
manifest storage), starts gunicorn on 127.0.0.1 with a generated SECRET_KEY, logs
in through the real login form (django-axes active) as admin, operator, manager
and marketer, then each connection issues a weighted mix of changelists
(filters, the channel filter, sorts by date and by other columns, deep
pages), searches, change pages and the dashboard until the time is up. Prints requests/s, p50/p99 latency and the error count (any answer
other than 200, or a failed connection). Target: zero errors.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_big .venv/bin/python bench/loadtest.py \\
        [--duration 60] [--connections 8] [--port 8024] [--workers 4 --threads 2]

Use the database bench/changelists.py built (1,000,000 leads), but not while that
benchmark runs: it drops indexes inside a transaction, which locks the tables.
"""

import argparse
import http.client
import os
import random
import re
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlparse

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"
USERS = ["admin", "operator", "manager", "marketer"]
PASSWORD = "demo"  # the demo logins of the demo data command


@dataclass
class Stats:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies.setdefault(kind, []).append(seconds * 1000)
            if error:
                self.errors.append(error)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


class Session:
    """One keep-alive connection with its own cookies."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.connection = http.client.HTTPConnection(HOST, port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, body: str | None = None) -> tuple[int, str, str]:
        headers = {"Host": f"{HOST}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            reused = self.connection.sock is not None
            try:
                self.connection.request(method, path, body=body, headers=headers)
                response = self.connection.getresponse()
                text = response.read().decode("utf-8", "replace")
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # The server may close an idle keep-alive connection just as a
                # request goes out; like any HTTP client, retry once on a new one.
                self.connection.close()
                if not reused or attempt == 2:
                    raise
            except (http.client.HTTPException, OSError):
                self.connection.close()
                raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            self.connection.close()
        return response.status, response.getheader("Location", ""), text

    def login(self, username: str) -> None:
        status, _, page = self.request("GET", "/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        if status != 200 or token is None:
            raise SystemExit(f"login page: HTTP {status}")
        body = urlencode(
            {
                "csrfmiddlewaretoken": token.group(1),
                "username": username,
                "password": PASSWORD,
                "next": "/admin/",
            }
        )
        status, location, _ = self.request("POST", "/admin/login/", body)
        if status != 302 or "sessionid" not in self.cookies:
            raise SystemExit(f"login as {username} failed: HTTP {status} {location}")


def sample_ids(database_url: str) -> dict[str, list[int]]:
    """Lead ids each user may open, and search terms that match real rows."""
    import psycopg

    with psycopg.connect(database_url) as connection, connection.cursor() as cursor:
        ids: dict[str, list[int]] = {}
        cursor.execute(
            "SELECT l.id FROM crm_models_lead l JOIN auth_user u ON u.id = l.owner_id "
            "WHERE u.username = 'operator' ORDER BY l.id DESC LIMIT 500"
        )
        ids["operator"] = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT id FROM crm_models_lead TABLESAMPLE SYSTEM (1) LIMIT 2000")
        ids["all"] = [row[0] for row in cursor.fetchall()]
        cursor.execute("SELECT email, phone FROM crm_models_lead TABLESAMPLE SYSTEM (1) LIMIT 500")
        ids["contacts"] = cursor.fetchall()  # type: ignore[assignment]
        cursor.execute(
            "SELECT c.id FROM crm_models_customer c JOIN auth_user u ON u.id = c.account_manager_id "
            "WHERE u.username = 'manager' ORDER BY c.id DESC LIMIT 500"
        )
        ids["manager_customers"] = [row[0] for row in cursor.fetchall()]
    if not ids["operator"] or not ids["contacts"]:
        raise SystemExit("No demo data: run bench/changelists.py (or demo_data --leads 1000000) first.")
    return ids


def next_request(rng: random.Random, username: str, data: dict) -> tuple[str, str]:
    """(kind, path) of the next request for this user, weighted like a working day."""
    statuses = ["new", "in_progress", "qualified", "converted", "lost"]
    channels = ["search", "social", "email", "display", "offline", "referral", "other"]
    roll = rng.random()
    if roll < 0.40:
        model = "lead"
        if username == "manager" and rng.random() < 0.5:
            model = rng.choice(["customer", "contract", "interaction"])
        params = rng.choice(
            [
                {},
                {"status__exact": rng.choice(statuses)},
                {"p": str(rng.randint(2, 40))},
                {"o": "-7"},
                {"status__exact": rng.choice(statuses), "o": "7"},
                # Sorted by name, e-mail, campaign or status, either way.
                {"o": rng.choice(["1", "-1", "2", "-2", "4", "-4", "5", "-5"])},
                {"campaign__channel__exact": rng.choice(channels)},
            ]
        )
        if model != "lead":
            params = {}
        return "changelist", f"/admin/crm_models/{model}/?{urlencode(params)}"
    if roll < 0.60:
        email, phone = rng.choice(data["contacts"])
        term = rng.choice(
            [
                email[: rng.randint(4, 12)],
                phone,
                phone[-rng.randint(4, 7) :],  # the number's last digits
                rng.choice(["Ivan", "Анна", "Smith Emma", "Zorro", "Смирнова Анна", "ромашка"]),
            ]
        )
        return "search", f"/admin/crm_models/lead/?{urlencode({'q': term})}"
    if roll < 0.85:
        if username == "manager" and data["manager_customers"]:
            return "change", f"/admin/crm_models/customer/{rng.choice(data['manager_customers'])}/change/"
        pool = data["operator"] if username == "operator" else data["all"]
        return "change", f"/admin/crm_models/lead/{rng.choice(pool)}/change/"
    return "dashboard", "/admin/"


def client(session: Session, username: str, data: dict, deadline: float, stats: Stats, seed: int) -> None:
    rng = random.Random(seed)
    while time.monotonic() < deadline:
        kind, path = next_request(rng, username, data)
        started = time.perf_counter()
        error = None
        try:
            status, location, _ = session.request("GET", path)
            if status != 200:
                error = f"{username} {path}: HTTP {status} {location}"
        except (http.client.HTTPException, OSError) as exc:
            error = f"{username} {path}: {exc!r}"
        stats.record(kind, time.perf_counter() - started, error)


def start_server(args: argparse.Namespace, workdir: Path) -> tuple[subprocess.Popen, Path]:
    static_root = workdir / "static"
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "False",
        "STATIC_ROOT": str(static_root),
        "LOG_LEVEL": "WARNING",
    }
    print("collecting static files...", file=sys.stderr)
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    log = workdir / "gunicorn.log"
    gunicorn = Path(sys.executable).with_name("gunicorn")
    server = subprocess.Popen(
        [
            str(gunicorn),
            "backoffice.wsgi:application",
            "--bind",
            f"{HOST}:{args.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
            "--timeout",
            "60",
            "--error-logfile",
            str(log),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    for _ in range(120):
        try:
            connection = http.client.HTTPConnection(HOST, args.port, timeout=5)
            connection.request("GET", "/admin/login/", headers={"Host": HOST})
            if connection.getresponse().status == 200:
                return server, log
        except OSError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {log}")
        time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer; see {log}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--port", type=int, default=8024)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    database_url = os.environ.get("DATABASE_URL", "")
    if urlparse(database_url).scheme not in {"postgres", "postgresql"}:
        sys.exit("Set DATABASE_URL to the PostgreSQL benchmark database.")
    data = sample_ids(database_url)
    workdir = Path(tempfile.mkdtemp(prefix="crm-loadtest-"))
    server = None
    try:
        server, log = start_server(args, workdir)
        stats = Stats()
        print(f"gunicorn on {HOST}:{args.port}; {args.connections} connections for {args.duration:.0f} s...")
        # Log in first (through the form, with django-axes watching), then start the clock.
        sessions = []
        for index in range(args.connections):
            sessions.append(Session(args.port))
            sessions[-1].login(USERS[index % len(USERS)])
        deadline = time.monotonic() + args.duration
        started = time.monotonic()
        threads = [
            threading.Thread(
                target=client, args=(session, USERS[index % len(USERS)], data, deadline, stats, index)
            )
            for index, session in enumerate(sessions)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started
        report(stats, elapsed, args, log)
    finally:
        if server is not None and server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()
        shutil.rmtree(workdir, ignore_errors=True)


def report(stats: Stats, elapsed: float, args: argparse.Namespace, log: Path) -> None:
    everything = [value for values in stats.latencies.values() for value in values]
    print(
        f"\n{len(everything)} requests in {elapsed:.1f} s over {args.connections} connections "
        f"(gunicorn {args.workers} workers x {args.threads} threads, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f})"
    )
    print(f"{'kind':12} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'max ms':>8}")
    if not everything:
        print("no requests completed")
        return
    for kind, values in [*sorted(stats.latencies.items()), ("all", everything)]:
        print(
            f"{kind:12} {len(values):8d} {statistics.median(values):8.1f} "
            f"{percentile(values, 0.99):8.1f} {max(values):8.1f}"
        )
    print(f"\nrequests/s: {len(everything) / elapsed:.1f}   errors: {len(stats.errors)}")
    for error in stats.errors[:10]:
        print(f"  {error}")
    if stats.errors and log.exists():
        print(log.read_text()[-2000:])


if __name__ == "__main__":
    main()
