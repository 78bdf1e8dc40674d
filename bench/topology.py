"""The production topology on one machine: two app servers, shared services.

Starts an S3-compatible server (moto's server mode) on 127.0.0.1, two gunicorn
app servers (A and B) on two ports with production settings, and, once the
one background worker; PostgreSQL and Redis must already run.
Then proves that the app servers share every piece of state:

  1. a session started on A works on B;
  2. a contract document uploaded on A is stored in the bucket (private) and
     downloads on B, only through the permission-checked view;
  3. an import previewed on A is confirmed on B;
  4. login failures on A and B count towards one lockout;
  5. a job enqueued on A runs on the worker (its result read on B, its JSON
     log line written), and the capture rate limit counts across both servers;
  6. a load over both servers (the mixed workload of bench/loadtest.py plus
     lead creation through the admin form) ends with 0 errors;
  7. server A is killed during a second load: B answers every request, and
     every lead whose creation was acknowledged is in the database.

Prints each step and the figures; exits non-zero if any step fails.

    .venv/bin/python bench/topology.py [--duration 60] [--connections 16]
    .venv/bin/python bench/topology.py --quick        # the CI form (tests/test_topology.py)

By default a database named crm_topology_<pid> is created next to the one in
DATABASE_URL (or postgres://postgres@127.0.0.1:5432/), migrated, filled with
demo data and dropped at the end; --database-url uses an existing one instead
(demo data and logins already there). Redis keys go under a random prefix in
REDIS_URL's database (default redis://127.0.0.1:6379/5) and are removed at the end.
"""

import argparse
import html.parser
import http.client
import json
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlencode, urlparse, urlunparse

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "bench"))

from loadtest import next_request, percentile  # noqa: E402

HOST = "127.0.0.1"
PASSWORD = "demo"  # the demo logins of the demo data command
LOAD_USERS = ["admin", "operator", "manager", "marketer"]
BUCKET = "crm-topology"
PDF = (
    b"%PDF-1.4\n1 0 obj<<>>endobj\n% topology check "
    + secrets.token_bytes(16).hex().encode()
    + b"\ntrailer<<>>\n%%EOF\n"
)


FAILED_PAGES: list[str] = []


class StepFailed(Exception):
    pass


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise StepFailed(message)


# --- HTTP client ------------------------------------------------------------------


class Browser:
    """Cookies shared across servers, one keep-alive connection per server:
    what a browser behind a load balancer looks like to the app servers."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.cookies: dict[str, str] = {}
        self.connections: dict[int, http.client.HTTPConnection] = {}

    def on(self, port: int) -> "Browser":
        self.port = port
        return self

    def _connection(self) -> http.client.HTTPConnection:
        if self.port not in self.connections:
            self.connections[self.port] = http.client.HTTPConnection(HOST, self.port, timeout=30)
        return self.connections[self.port]

    def request(
        self, method: str, path: str, body: str | bytes | None = None, content_type: str | None = None
    ) -> tuple[int, str, str]:
        status, location, data = self.request_bytes(method, path, body, content_type)
        return status, location, data.decode("utf-8", "replace")

    def request_bytes(
        self, method: str, path: str, body: str | bytes | None = None, content_type: str | None = None
    ) -> tuple[int, str, bytes]:
        headers = {"Host": f"{HOST}:{self.port}"}
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if body is not None:
            headers["Content-Type"] = content_type or "application/x-www-form-urlencoded"
        for attempt in (1, 2):
            connection = self._connection()
            reused = connection.sock is not None
            try:
                connection.request(method, path, body=body, headers=headers)
                response = connection.getresponse()
                data = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                # An idle keep-alive connection closed by the server: retry once.
                connection.close()
                if not reused or attempt == 2:
                    raise
            except (http.client.HTTPException, OSError):
                connection.close()
                raise
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        if response.getheader("Connection", "").lower() == "close":
            connection.close()
        return response.status, response.getheader("Location", ""), data

    def login(self, username: str, password: str = PASSWORD) -> int:
        status, _, page = self.request("GET", "/admin/login/")
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
        expect(status == 200 and token is not None, f"login page: HTTP {status}")
        assert token is not None
        body = urlencode(
            {
                "csrfmiddlewaretoken": token.group(1),
                "username": username,
                "password": password,
                "next": "/admin/",
            }
        )
        status, _, _ = self.request("POST", "/admin/login/", body)
        return status

    def close(self) -> None:
        for connection in self.connections.values():
            connection.close()


class FormParser(html.parser.HTMLParser):
    """The fields of the admin's change form (`<form id="..._form">`) with
    their current values, as a browser would submit them."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.in_form = False
        self.fields: list[tuple[str, str]] = []
        self.select: str | None = None
        self.textarea: str | None = None
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = {k: v or "" for k, v in attrs}
        if tag == "form" and attributes.get("id", "").endswith("_form"):
            self.in_form = True
        if not self.in_form:
            return
        name = attributes.get("name")
        if tag == "input" and name and "disabled" not in attributes:
            kind = attributes.get("type", "text")
            if kind in {"checkbox", "radio"} and "checked" not in attributes:
                return
            if kind not in {"file", "submit", "button", "image"}:
                self.fields.append((name, attributes.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "select" and name:
            self.select = name
        elif tag == "option" and self.select and "selected" in attributes:
            self.fields.append((self.select, attributes.get("value", "")))
        elif tag == "textarea" and name:
            self.textarea, self.text = name, []

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_form = False
        elif tag == "select":
            self.select = None
        elif tag == "textarea" and self.textarea:
            self.fields.append((self.textarea, "".join(self.text).removeprefix("\n")))
            self.textarea = None

    def handle_data(self, data: str) -> None:
        if self.textarea:
            self.text.append(data)


def form_fields(page: str) -> dict[str, str]:
    parser = FormParser()
    parser.feed(page)
    return dict(parser.fields)


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    parts: list[bytes] = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, content, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; filename="{filename}"\r\n'
            f"Content-Type: {content_type}\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# --- processes --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def wait_for_http(port: int, path: str, process: subprocess.Popen, log: Path, seconds: float = 120) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection(HOST, port, timeout=5)
            connection.request("GET", path, headers={"Host": HOST})
            if connection.getresponse().status == 200:
                return
        except OSError:
            pass
        if process.poll() is not None:
            raise StepFailed(f"process on port {port} exited; see {log}")
        time.sleep(0.3)
    raise StepFailed(f"nothing answered {path} on port {port}; see {log}")


@dataclass
class Processes:
    running: dict[str, subprocess.Popen] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    def start(self, name: str, command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen:
        handle = log.open("wb")
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True
        )
        handle.close()
        self.running[name] = process
        self.logs[name] = log
        return process

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        process = self.running.get(name)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, sig)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def stop_all(self) -> None:
        for name in list(self.running):
            self.kill(name, signal.SIGTERM)


# --- the environment of the app servers ----------------------------------------


@dataclass
class Topology:
    args: argparse.Namespace
    workdir: Path
    database_url: str
    redis_url: str
    s3_port: int
    ports: dict[str, int]
    cache_prefix: str = field(default_factory=lambda: f"topology-{secrets.token_hex(4)}")
    processes: Processes = field(default_factory=Processes)

    def env(self) -> dict[str, str]:
        return {
            **{
                k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "S3_", "STORAGE_", "CACHE_"))
            },
            "PYTHONPATH": str(ROOT),
            "DJANGO_SETTINGS_MODULE": "backoffice.settings.production",
            "SECRET_KEY": self.secret_key,
            "ALLOWED_HOSTS": HOST,
            # Plain HTTP on loopback; production keeps the redirect on.
            "SECURE_SSL_REDIRECT": "False",
            "STATIC_ROOT": str(self.workdir / "static"),
            # Nothing may land here: the servers share only the bucket.
            "MEDIA_ROOT": str(self.workdir / "local-media"),
            "DATABASE_URL": self.database_url,
            "DATABASE_POOL_MAX_SIZE": str(self.args.threads),
            "REDIS_URL": self.redis_url,
            "CACHE_KEY_PREFIX": self.cache_prefix,
            "STORAGE_URL": f"s3://{BUCKET}/media?endpoint_url=http://{HOST}:{self.s3_port}&region_name=us-east-1",
            "AWS_ACCESS_KEY_ID": "topology",
            "AWS_SECRET_ACCESS_KEY": "topology-secret",
            "LOG_FORMAT": "json",
            # Reminder e-mails as files, one per message (step 5a counts them).
            "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
            "EMAIL_FILE_PATH": str(self.workdir / "mail"),
            "LOG_LEVEL": "INFO",
            # Capture (once the project has it): a low per-client limit to
            # reach, clients told apart by the address a proxy would add.
            "CAPTURE_RATE_PER_CLIENT": f"{CAPTURE_RATE}/m",
            "BEHIND_REVERSE_PROXY": "True",
        }

    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(64))

    def start_server(self, name: str) -> None:
        gunicorn = Path(sys.executable).with_name("gunicorn")
        port = self.ports[name]
        log = self.workdir / f"server-{name}.log"
        process = self.processes.start(
            f"server {name}",
            [
                str(gunicorn),
                "backoffice.wsgi:application",
                "--bind",
                f"{HOST}:{port}",
                "--workers",
                str(self.args.workers),
                "--worker-class",
                "gthread",
                "--threads",
                str(self.args.threads),
                "--timeout",
                "60",
            ],
            self.env(),
            log,
        )
        wait_for_http(port, "/readyz", process, log)


# --- database ---------------------------------------------------------------------


def with_database_name(url: str, name: str) -> str:
    parts = urlparse(url)
    return urlunparse(parts._replace(path=f"/{name}"))


def psql_admin(url: str, statement: str) -> None:
    import psycopg

    with psycopg.connect(with_database_name(url, "postgres"), autocommit=True) as connection:
        connection.execute(statement)  # type: ignore[arg-type]


def manage(url: str, *command: str) -> None:
    env = {**os.environ, "DATABASE_URL": url, "DJANGO_SETTINGS_MODULE": "backoffice.settings.local"}
    subprocess.run(
        [sys.executable, "manage.py", *command], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL
    )


@contextmanager
def database(args: argparse.Namespace) -> Iterator[str]:
    if args.database_url:
        yield args.database_url
        return
    base = os.environ.get("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/postgres")
    if urlparse(base).scheme not in {"postgres", "postgresql"}:
        base = "postgres://postgres@127.0.0.1:5432/postgres"
    name = f"crm_topology_{os.getpid()}"
    url = with_database_name(base, name)
    psql_admin(url, f'CREATE DATABASE "{name}"')
    try:
        started = time.monotonic()
        manage(url, "migrate", "--noinput", "-v0")
        manage(url, "createcachetable")
        manage(url, "demo_data", "--leads", str(args.leads))
        print(f"database {name}: migrated, {args.leads} demo leads ({time.monotonic() - started:.0f} s)")
        yield url
    finally:
        psql_admin(url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def query(url: str, sql: str, params: tuple = ()) -> list[tuple]:
    import psycopg

    with psycopg.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(sql, params)  # type: ignore[arg-type]
        return cursor.fetchall() if cursor.description else []


def sample_data(url: str) -> dict:
    data: dict = {
        "operator": [
            r[0]
            for r in query(
                url,
                "SELECT l.id FROM crm_models_lead l JOIN auth_user u ON u.id = l.owner_id "
                "WHERE u.username = 'operator' ORDER BY l.id DESC LIMIT 300",
            )
        ],
        "all": [r[0] for r in query(url, "SELECT id FROM crm_models_lead ORDER BY random() LIMIT 1000")],
        "contacts": query(url, "SELECT email, phone FROM crm_models_lead ORDER BY random() LIMIT 300"),
        "manager_customers": [
            r[0]
            for r in query(
                url,
                "SELECT c.id FROM crm_models_customer c JOIN auth_user u ON u.id = c.account_manager_id "
                "WHERE u.username = 'manager' ORDER BY c.id DESC LIMIT 300",
            )
        ],
        "campaign": query(url, "SELECT id, name FROM crm_models_campaign ORDER BY id LIMIT 1")[0],
        # Lead list pages (50 a page) each user has: loadtest.py asks for pages
        # up to 40, written for a million leads.
        "pages": {
            "operator": query(
                url,
                "SELECT count(*) / 50 FROM crm_models_lead l LEFT JOIN auth_user u ON u.id = l.owner_id "
                "WHERE u.username = 'operator' OR l.owner_id IS NULL",
            )[0][0],
            "all": query(url, "SELECT count(*) / 50 FROM crm_models_lead")[0][0],
        },
    }
    expect(bool(data["operator"]) and bool(data["contacts"]), "no demo data in the database")
    return data


# --- the checks -------------------------------------------------------------------


def check_session(topology: Topology) -> None:
    a, b = topology.ports["A"], topology.ports["B"]
    browser = Browser(a)
    expect(browser.login("manager") == 302, "login on A failed")
    status, location, page = browser.on(b).request("GET", "/admin/crm_models/contract/")
    expect(
        status == 200 and 'name="password"' not in page,
        f"the session from A is not accepted on B: HTTP {status} {location}",
    )
    status, _, _ = browser.on(a).request("GET", "/admin/")
    expect(status == 200, f"A after B: HTTP {status}")
    print("  ok: logged in on A, working on B with the same session")


def s3_client(topology: Topology):  # type: ignore[no-untyped-def]
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=f"http://{HOST}:{topology.s3_port}",
        aws_access_key_id="topology",
        aws_secret_access_key="topology-secret",
        region_name="us-east-1",
    )


def check_document(topology: Topology) -> None:
    a, b = topology.ports["A"], topology.ports["B"]
    [(contract_id,)] = query(
        topology.database_url,
        "SELECT c.id FROM crm_models_contract c JOIN crm_models_customer cu ON cu.id = c.customer_id "
        "JOIN auth_user u ON u.id = cu.account_manager_id WHERE u.username = 'manager' ORDER BY c.id LIMIT 1",
    )
    browser = Browser(a)
    expect(browser.login("manager") == 302, "manager login failed")
    change = f"/admin/crm_models/contract/{contract_id}/change/"
    status, _, page = browser.request("GET", change)
    expect(status == 200, f"contract change page on A: HTTP {status}")
    fields = form_fields(page)
    fields["_save"] = "Save"
    body, content_type = multipart(fields, {"document": ("topology.pdf", PDF, "application/pdf")})
    status, location, page = browser.request("POST", change, body, content_type)
    expect(status == 302, f"upload on A: HTTP {status} {re.findall(r'errorlist[^>]*>(.*?)</', page)[:3]}")
    [(name,)] = query(
        topology.database_url, "SELECT document FROM crm_models_contract WHERE id = %s", (contract_id,)
    )
    s3 = s3_client(topology)
    key = f"media/{name}"
    expect(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read() == PDF, "the document is not in the bucket")
    grants = s3.get_object_acl(Bucket=BUCKET, Key=key)["Grants"]
    expect([g["Permission"] for g in grants] == ["FULL_CONTROL"], f"the object is not private: {grants}")
    local = topology.workdir / "local-media"
    expect(
        not local.exists() or not any(p.is_file() for p in local.rglob("*")), "a file landed on local disk"
    )

    download = f"/admin/crm_models/contract/{contract_id}/document/"
    status, _, content = browser.on(b).request_bytes("GET", download)
    expect(status == 200 and content == PDF, f"download on B: HTTP {status}, {len(content)} bytes")
    expect(
        f"{BUCKET}".encode() not in browser.on(b).request_bytes("GET", change)[2], "the page names the bucket"
    )
    for username, expected in [("manager2", 404), ("operator", 403)]:
        other = Browser(b)
        expect(other.login(username) == 302, f"{username} login failed")
        status, _, _ = other.request_bytes("GET", download)
        expect(status == expected, f"{username} downloading on B: HTTP {status}, expected {expected}")
    status, location, _ = Browser(b).request_bytes("GET", download)
    expect(status == 302 and "/admin/login/" in location, f"anonymous download on B: HTTP {status}")
    print(
        "  ok: document uploaded on A, in the bucket (private ACL, no local file), downloaded on B; "
        "manager2 404, operator 403, anonymous to login"
    )


def check_import(topology: Topology, data: dict) -> None:
    a, b = topology.ports["A"], topology.ports["B"]
    browser = Browser(a)
    expect(browser.login("marketer") == 302, "marketer login failed")
    status, _, template = browser.request("GET", "/admin/crm_models/lead/import/template.csv")
    expect(status == 200, f"import template: HTTP {status}")
    headers = template.lstrip("\ufeff").splitlines()[0]
    tag = secrets.token_hex(3)
    emails = [f"topology-{tag}-{n}@example.org" for n in range(3)]
    rows = [
        ",".join(["Topology", f"Import{n}", email, "", "", data["campaign"][1], "", ""])
        for n, email in enumerate(emails)
    ]
    csv = "\n".join([headers, *rows]).encode()
    status, _, page = browser.request("GET", "/admin/crm_models/lead/import/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    expect(status == 200 and token is not None, f"import page on A: HTTP {status}")
    assert token is not None
    body, content_type = multipart(
        {"csrfmiddlewaretoken": token.group(1), "duplicates": "skip"},
        {"import_file": ("leads.csv", csv, "text/csv")},
    )
    status, _, page = browser.request("POST", "/admin/crm_models/lead/import/", body, content_type)
    preview = re.search(r'name="token" value="([0-9a-f]{32})"', page)
    expect(status == 200 and preview is not None, f"preview on A: HTTP {status}, no confirmation token")
    assert preview is not None
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert csrf is not None
    key = f"media/django-import-export/{preview.group(1)}"
    s3 = s3_client(topology)
    expect(s3.head_object(Bucket=BUCKET, Key=key)["ContentLength"] > 0, "the preview is not in the bucket")
    status, location, _ = browser.on(b).request(
        "POST",
        "/admin/crm_models/lead/process_import/",
        urlencode({"csrfmiddlewaretoken": csrf.group(1), "token": preview.group(1)}),
    )
    expect(
        status == 302 and location.endswith("/admin/crm_models/lead/"),
        f"confirm on B: HTTP {status} {location}",
    )
    found = query(topology.database_url, "SELECT email FROM crm_models_lead WHERE email = ANY(%s)", (emails,))
    expect(sorted(r[0] for r in found) == sorted(emails), f"imported {len(found)} of {len(emails)} leads")
    expect(s3.list_objects_v2(Bucket=BUCKET, Prefix=key)["KeyCount"] == 0, "the confirmed preview was kept")
    print("  ok: import previewed on A (preview kept in the bucket), confirmed on B: 3 leads created")


def check_lockout(topology: Topology, limit: int = 5) -> None:
    a, b = topology.ports["A"], topology.ports["B"]
    statuses = []
    for attempt in range(limit):
        statuses.append(Browser(a if attempt % 2 == 0 else b).login("operator2", "wrong-password"))
    expect(statuses == [200] * (limit - 1) + [429], f"failed logins alternating A/B answered {statuses}")
    for name, port in [("A", a), ("B", b)]:
        status = Browser(port).login("operator2")
        expect(status == 429, f"the right password on {name} after the lockout: HTTP {status}")
    query(topology.database_url, "DELETE FROM axes_accessattempt WHERE username = 'operator2'")
    print(f"  ok: {limit} failed logins alternating A and B lock the account out on both (HTTP 429)")


def worker_command() -> list[str]:
    """How a worker of the project's task queue starts (the same command on
    the database and the Redis queue: crm_models/management/commands/worker.py)."""
    return [sys.executable, "manage.py", "worker"]


JOB_USER = "manager2"  # not one whose login step 4 locks out


def check_job(topology: Topology) -> None:
    """A job enqueued by app server A runs on the worker: on A, a user takes a
    longer reminder offset, which makes a follow-up's reminder due at once, so
    A enqueues the reminder sweep (crm_models.services.reminders). The worker
    makes the notification; the user reads it on B."""
    url = topology.database_url
    (user_id,) = query(url, "SELECT id FROM auth_user WHERE username = %s", (JOB_USER,))[0]
    (lead_id,) = query(url, "SELECT id FROM crm_models_lead ORDER BY id LIMIT 1")[0]
    (follow_up_id,) = query(
        url,
        "INSERT INTO crm_models_followup (created_at, updated_at, kind, due_at, note, remind_at, assignee_id, lead_id) "
        "VALUES (now(), now(), 'call', now() + interval '30 minutes', 'topology', "
        "now() + interval '15 minutes', %s, %s) RETURNING id",
        (user_id, lead_id),
    )[0]
    browser = Browser(topology.ports["A"])
    expect(browser.login(JOB_USER) == 302, f"login of {JOB_USER} on A failed")
    status, _, page = browser.request("GET", "/admin/preferences/")
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    expect(status == 200 and token is not None, f"preferences on A: HTTP {status}")
    assert token is not None
    started = time.monotonic()
    body = urlencode({"csrfmiddlewaretoken": token.group(1), "reminder_offset_minutes": "45"})
    status, location, _ = browser.request("POST", "/admin/preferences/", body)
    expect(status == 302, f"saving preferences on A: HTTP {status} {location}")
    sent: list[tuple] = []
    while time.monotonic() - started < 60 and not sent:
        time.sleep(0.2)
        sent = query(url, "SELECT id FROM crm_models_notification WHERE follow_up_id = %s", (follow_up_id,))
    expect(
        len(sent) == 1,
        f"no notification 60 s after the job was enqueued on A (see {topology.processes.logs['worker']})",
    )
    elapsed = time.monotonic() - started
    status, _, data = browser.on(topology.ports["B"]).request("GET", "/admin/notifications/unread/")
    expect(
        status == 200 and json.loads(data).get("unread", 0) >= 1, f"unread count on B: HTTP {status} {data}"
    )
    status, _, page = browser.request("GET", "/admin/notifications/")
    expect(
        status == 200 and f"/admin/notifications/{sent[0][0]}/read/" in page,
        "the notification is not listed on B",
    )
    jobs = [
        line
        for line in json_lines(topology.processes.logs["worker"])
        if line.get("event") == "job" and line.get("task") == "send_due_reminders"
    ]
    expect(any(line.get("status") == "successful" for line in jobs), "no JSON job line from the worker")
    mails: list[Path] = []
    while time.monotonic() - started < 60 and not mails:  # the outbox is a job of its own
        time.sleep(0.2)
        mails = [
            path
            for path in (topology.workdir / "mail").glob("*.log")
            if f"X-CRM-Notification: {sent[0][0]}" in path.read_text(errors="replace")
        ]
    expect(len(mails) == 1, f"the reminder's e-mail was written {len(mails)} times, not once")
    expect(
        all({"task", "task_id", "status", "duration_ms"} <= set(line) for line in jobs),
        "a job line lacks a field",
    )
    print(
        f"  ok: a job enqueued on A ran on the worker; its notification arrived in {elapsed:.1f} s "
        f"and reads on B; e-mailed once; the worker logged it as JSON ({len(jobs)} line(s))"
    )


def json_lines(path: Path) -> list[dict]:
    lines = []
    for raw in path.read_text(errors="replace").splitlines():
        if raw.startswith("{"):
            try:
                lines.append(json.loads(raw))
            except json.JSONDecodeError:
                continue
    return lines


CAPTURE_KEY = "lf_demo-landing-page"  # the demo web form's key (demo_data)
CAPTURE_RATE = 5  # per client and minute on the topology's servers (CAPTURE_RATE_PER_CLIENT)


def capture_available(topology: Topology) -> bool:
    return bool(query(topology.database_url, "SELECT to_regclass('crm_models_leadform') IS NOT NULL")[0][0])


def capture_post(browser: Browser, client_address: str, email: str) -> tuple[int, str]:
    """A web form's submission as the capture endpoint's client at
    `client_address` (the servers trust X-Forwarded-For: BEHIND_REVERSE_PROXY)."""
    body = json.dumps(
        {"first_name": "Web", "last_name": "Topology", "email": email, "utm_source": "topology"}
    )
    connection = http.client.HTTPConnection(HOST, browser.port, timeout=30)
    try:
        connection.request(
            "POST",
            f"/capture/{CAPTURE_KEY}/",
            body=body,
            headers={
                "Host": f"{HOST}:{browser.port}",
                "Content-Type": "application/json",
                "Accept": "application/json",
                "X-Forwarded-For": client_address,
            },
        )
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def check_capture_limit(topology: Topology) -> None:
    if not capture_available(topology):
        print("  not available yet: capture rate limit (issue 21)")
        return
    address = f"198.51.100.{secrets.randbelow(250) + 1}"
    statuses = []
    for attempt in range(CAPTURE_RATE + 1):
        server = topology.ports["A" if attempt % 2 == 0 else "B"]
        statuses.append(capture_post(Browser(server), address, f"web-{secrets.token_hex(4)}@example.org")[0])
    expect(
        statuses == [201] * CAPTURE_RATE + [429],
        f"{CAPTURE_RATE + 1} submissions from one client alternating A/B answered {statuses}",
    )
    print(f"  ok: {CAPTURE_RATE} submissions from one client over A and B accepted, the next one 429")


# --- load -------------------------------------------------------------------------


@dataclass
class Load:
    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, list[str]] = field(default_factory=dict)
    created: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, server: str, kind: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.latencies.setdefault(server, []).append(seconds * 1000)
            self.latencies.setdefault(kind, []).append(seconds * 1000)
            if error:
                self.errors.setdefault(server, []).append(error)


def create_lead(browser: Browser, campaign_id: int, email: str, phone: str) -> tuple[int, str]:
    status, _, page = browser.request("GET", "/admin/crm_models/lead/add/")
    if status != 200:
        return status, "add page"
    fields = form_fields(page)
    fields.update(
        first_name="Load",
        last_name="Topology",
        email=email,
        phone=phone,
        campaign=str(campaign_id),
        _save="Save",
    )
    status, _, page = browser.request("POST", "/admin/crm_models/lead/add/", urlencode(fields))
    if status == 200:
        FAILED_PAGES.append(page)
    problems = [
        re.sub(r"<[^>]+>|\s+", " ", problem).strip()
        for problem in re.findall(
            r'class="[^"]*(?:errorlist|errornote)[^"]*"[^>]*>(.*?)</(?:ul|p|div)>', page, re.S
        )
    ]
    return status, "; ".join(problems[:3])


def load_client(
    browser: Browser,
    server: str,
    username: str,
    data: dict,
    deadline: float,
    load: Load,
    seed: int,
    stop: Callable[[], bool],
) -> None:
    rng = random.Random(seed)
    counter = 0
    pages = max(1, data["pages"]["operator" if username == "operator" else "all"])
    while time.monotonic() < deadline and not stop():
        started = time.perf_counter()
        error = None
        if data["capture"] and username == "marketer" and rng.random() < 0.3:
            kind = "capture"
            email = f"web-{seed}-{secrets.token_hex(4)}@example.org"
            address = f"198.18.{secrets.randbelow(256)}.{secrets.randbelow(256)}"  # a new client each time
            try:
                status, text = capture_post(browser, address, email)
                if status == 201:
                    with load.lock:
                        load.created.append(email)
                else:
                    error = f"{server} capture: HTTP {status} {text[:200]}"
            except (http.client.HTTPException, OSError) as exc:
                error = f"{server} capture: {exc!r}"
        elif username == "operator" and rng.random() < 0.2:
            counter += 1
            kind = "create lead"
            email = f"load-{seed}-{counter}-{secrets.token_hex(3)}@example.org"
            phone = f"+7916{secrets.randbelow(10_000_000):07d}"  # new on every run
            try:
                status, problem = create_lead(browser, data["campaign"][0], email, phone)
                if status == 302:
                    with load.lock:
                        load.created.append(email)
                else:
                    error = f"{server} {username} create lead: HTTP {status} {problem}"
            except (http.client.HTTPException, OSError) as exc:
                error = f"{server} {username} create lead: {exc!r}"
        else:
            kind, path = next_request(rng, username, data)
            path = re.sub(r"\bp=(\d+)", lambda m: f"p={1 + int(m.group(1)) % pages}", path)
            try:
                status, location, _ = browser.request("GET", path)
                if status != 200:
                    error = f"{server} {username} {path}: HTTP {status} {location}"
            except (http.client.HTTPException, OSError) as exc:
                error = f"{server} {username} {path}: {exc!r}"
        load.record(server, kind, time.perf_counter() - started, error)
        if error and "Error(" in error:
            time.sleep(0.2)  # a refused connection: wait as a browser's user would


def run_load(
    topology: Topology,
    data: dict,
    seconds: float,
    connections: int,
    during: Callable[[float], None] | None = None,
) -> tuple[Load, float]:
    load = Load()
    browsers = []
    for index in range(connections):
        server = "A" if index % 2 == 0 else "B"
        username = LOAD_USERS[(index // 2) % len(LOAD_USERS)]
        browser = Browser(topology.ports[server])
        expect(browser.login(username) == 302, f"load login {username} on {server} failed")
        browsers.append((browser, server, username))
    deadline = time.monotonic() + seconds
    started = time.monotonic()
    threads = [
        threading.Thread(
            target=load_client,
            args=(browser, server, username, data, deadline, load, index, lambda: False),
        )
        for index, (browser, server, username) in enumerate(browsers)
    ]
    for thread in threads:
        thread.start()
    if during is not None:
        during(deadline)
    for thread in threads:
        thread.join()
    for browser, _, _ in browsers:
        browser.close()
    return load, time.monotonic() - started


def print_load(load: Load, elapsed: float, connections: int) -> None:
    total = len(load.latencies.get("A", [])) + len(load.latencies.get("B", []))
    print(
        f"  {total} requests in {elapsed:.1f} s over {connections} connections ({total / elapsed:.1f}/s; "
        f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f})"
    )
    print(f"  {'':14} {'requests':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
    for kind, values in sorted(load.latencies.items(), key=lambda item: (len(item[0]) > 1, item[0])):
        errors = len(load.errors.get(kind, [])) if kind in ("A", "B") else ""
        label = f"server {kind}" if kind in ("A", "B") else kind
        print(
            f"  {label:14} {len(values):8d} {statistics.median(values):8.1f} "
            f"{percentile(values, 0.99):8.1f} {errors!s:>7}"
        )
    print(f"  leads created (admin form, web capture): {len(load.created)}")


def check_written(topology: Topology, load: Load) -> None:
    if not load.created:
        return
    found = query(
        topology.database_url, "SELECT count(*) FROM crm_models_lead WHERE email = ANY(%s)", (load.created,)
    )
    expect(
        found[0][0] == len(load.created), f"{len(load.created) - found[0][0]} acknowledged leads are missing"
    )


def check_logs(topology: Topology) -> None:
    lines = []
    for name in ("server A", "server B"):
        for raw in topology.processes.logs[name].read_text(errors="replace").splitlines():
            if raw.startswith("{"):
                lines.append(json.loads(raw))
    requests = [line for line in lines if line.get("event") == "request"]
    expect(bool(requests), "no JSON request lines in the servers' logs")
    keys = {"method", "path", "status", "duration_ms", "user_id"}
    expect(
        all(keys <= set(line) for line in requests), "a request line lacks one of " + ", ".join(sorted(keys))
    )
    text = "\n".join(json.dumps(line) for line in lines)
    for secret in (
        "wrong-password",
        PDF.decode("latin-1"),
        topology.secret_key,
        "csrfmiddlewaretoken",
        "?q=",
    ):
        expect(secret not in text, "the logs hold something they must not")
    users = {line["user_id"] for line in requests if line["user_id"] is not None}
    print(
        f"  ok: {len(requests)} JSON request lines from {len(users)} users; no password, token, query or content"
    )


# --- main -------------------------------------------------------------------------


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--duration", type=float, default=60, help="seconds of load over both servers")
    parser.add_argument("--kill-duration", type=float, default=20, help="seconds of the load in which A dies")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per app server")
    parser.add_argument("--threads", type=int, default=4, help="threads per gunicorn worker")
    parser.add_argument("--leads", type=int, default=2000, help="demo leads in a new database")
    parser.add_argument("--database-url", default="", help="an existing database with the demo data")
    parser.add_argument("--quick", action="store_true", help="the short CI form: small data, short loads")
    args = parser.parse_args()
    if args.quick:
        args.duration, args.kill_duration, args.connections = 6, 6, 4
        args.workers, args.threads, args.leads = 1, 2, 200

    import redis

    redis_url = os.environ.get("TOPOLOGY_REDIS_URL", "redis://127.0.0.1:6379/5")
    try:
        redis.Redis.from_url(redis_url, socket_connect_timeout=2).ping()
    except redis.RedisError:
        print(f"Redis does not answer at {redis_url}", file=sys.stderr)
        return 2

    workdir = Path(tempfile.mkdtemp(prefix="crm-topology-"))
    failures: list[str] = []
    topology: Topology | None = None
    try:
        with database(args) as database_url:
            topology = Topology(
                args=args,
                workdir=workdir,
                database_url=database_url,
                redis_url=redis_url,
                s3_port=free_port(),
                ports={"A": free_port(), "B": free_port()},
            )
            failures = run(topology)
    finally:
        if topology is not None:
            topology.processes.stop_all()
            client = redis.Redis.from_url(redis_url)
            # The cache's keys, and the queue's (the worker's scheduled
            # periodic runs would otherwise wait for the next topology run).
            keys = list(client.scan_iter(f"{topology.cache_prefix}:*")) + list(client.scan_iter("rq:*"))
            if keys:
                client.delete(*keys)
        if failures:
            for number, page in enumerate(FAILED_PAGES[:3]):
                (workdir / f"failed-form-{number}.html").write_text(page)
            print(f"logs kept in {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)
    if failures:
        print(f"\nFAILED: {len(failures)} step(s)")
        for failure in failures:
            print(f"  {failure}")
        return 1
    print("\ntopology: all steps passed")
    return 0


def run(topology: Topology) -> list[str]:
    args = topology.args
    processes = topology.processes
    moto_log = topology.workdir / "s3.log"
    moto = processes.start(
        "s3",
        [sys.executable, "-m", "moto.server", "-H", HOST, "-p", str(topology.s3_port)],
        {**os.environ},
        moto_log,
    )
    wait_for_http(topology.s3_port, "/", moto, moto_log, seconds=60)
    s3_client(topology).create_bucket(Bucket=BUCKET)
    print(f"S3 (moto) on {HOST}:{topology.s3_port}, bucket {BUCKET}")
    subprocess.run(
        [sys.executable, "manage.py", "collectstatic", "--noinput", "-v0"],
        cwd=ROOT,
        env=topology.env(),
        check=True,
    )
    for name in ("A", "B"):
        topology.start_server(name)
    print(
        f"app servers A on :{topology.ports['A']} and B on :{topology.ports['B']} "
        f"(gunicorn {args.workers} workers x {args.threads} threads each, production settings)"
    )
    processes.start("worker", worker_command(), topology.env(), topology.workdir / "worker.log")
    print("worker started (manage.py worker, the Redis queue)")
    data = sample_data(topology.database_url)
    data["capture"] = capture_available(topology)

    failures: list[str] = []

    def step(title: str, check: Callable[[], None]) -> None:
        print(title)
        try:
            check()
        except (StepFailed, AssertionError, OSError, http.client.HTTPException) as error:
            print(f"  FAILED: {error}")
            failures.append(f"{title}: {error}")

    step("1. one session on both servers", lambda: check_session(topology))
    step("2. contract document: upload on A, download on B", lambda: check_document(topology))
    step("3. import: preview on A, confirm on B", lambda: check_import(topology, data))
    step("4. login lockout counted across both servers", lambda: check_lockout(topology))
    step("5a. a job enqueued on A runs on the worker", lambda: check_job(topology))
    step("5b. capture rate limit across both servers", lambda: check_capture_limit(topology))

    def steady_load() -> None:
        load, elapsed = run_load(topology, data, args.duration, args.connections)
        print_load(load, elapsed, args.connections)
        errors = [e for server in ("A", "B") for e in load.errors.get(server, [])]
        expect(not errors, f"{len(errors)} errors, first: {errors[:3]}")
        check_written(topology, load)
        print(f"  ok: 0 errors; all {len(load.created)} acknowledged leads in the database")

    step(f"6. load: {args.connections} connections over A and B for {args.duration:.0f} s", steady_load)

    def load_with_a_killed() -> None:
        killed_at: list[float] = []

        def kill_a_midway(deadline: float) -> None:
            time.sleep(max(0.0, (deadline - time.monotonic()) / 2))
            processes.kill("server A")
            killed_at.append(time.monotonic())

        load, elapsed = run_load(topology, data, args.kill_duration, args.connections, during=kill_a_midway)
        print_load(load, elapsed, args.connections)
        b_errors = load.errors.get("B", [])
        expect(not b_errors, f"B failed {len(b_errors)} requests while A died: {b_errors[:3]}")
        expect(bool(killed_at), "A was not killed")
        check_written(topology, load)
        print(
            f"  ok: A killed (SIGKILL) midway; its later requests failed ({len(load.errors.get('A', []))}), "
            f"B answered all {len(load.latencies.get('B', []))}; all {len(load.created)} acknowledged leads stored"
        )

    step(f"7. load for {args.kill_duration:.0f} s, server A killed midway", load_with_a_killed)
    step("8. JSON request logs of both servers", lambda: check_logs(topology))
    return failures


if __name__ == "__main__":
    sys.exit(main())
