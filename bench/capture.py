"""Web capture under load (issue 21): POST /capture/<key>/ behind gunicorn.

Starts gunicorn with production settings and the shared cache in Redis (the
rate-limit counters), makes a fresh web form and campaign, then:

1. sustained: --rate submissions/s (default 300) for --duration s (default 60),
   open loop (each request has its scheduled start; latency counts from it, so
   a slow server cannot hide its queue); one in ten repeats an earlier
   person's e-mail (a duplicate onto the timeline);
2. burst: ten times the rate for --burst s (default 5), with the form's rate
   limit at --form-limit per second (default 500): every answer must be a 201,
   200 or 429, never a 5xx or a dropped connection.

Afterwards it counts in the database: every 201 is exactly one lead (its id
distinct, its e-mail the one sent), every accepted request (201 or 200) exactly
one note on a timeline and one stored submission with that outcome: none
lost, none doubled. Prints the figures; exits non-zero when a check fails.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/crm_bench CACHE_URL=redis://127.0.0.1:6379/4 \\
        .venv/bin/python bench/capture.py [--rate 300] [--duration 60] [--workers 4 --threads 4]
"""

import argparse
import http.client
import json
import os
import queue
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOST = "127.0.0.1"


@dataclass
class Result:
    phase: str
    email: str
    status: int  # 0: the connection failed
    latency: float
    finished: float
    lead: int | None = None


@dataclass
class Collector:
    results: list[Result] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, result: Result) -> None:
        with self.lock:
            self.results.append(result)


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] if ordered else 0.0


def django_setup() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "backoffice.settings.local")
    import django

    django.setup()


def make_form() -> tuple[str, int]:
    """A fresh form (and campaign) so that the run's rows are told apart."""
    from django.contrib.auth.models import Group, User

    from crm_models.capture_models import LeadForm
    from crm_models.models import Campaign, Channel, Service

    suffix = secrets.token_hex(4)
    owner, _ = User.objects.get_or_create(username="bench_capture_operator", defaults={"is_staff": True})
    owner.groups.add(Group.objects.get(name="Operator"))
    service, _ = Service.objects.get_or_create(name="Bench capture", defaults={"price": 0})
    today = date.today()
    campaign = Campaign.objects.create(
        name=f"Bench capture {suffix}",
        service=service,
        channel=Channel.OTHER,
        budget=0,
        start_date=today,
        end_date=today,
    )
    form = LeadForm(name=f"Bench {suffix}", campaign=campaign, owner=owner)
    raw_key = form.set_key()
    form.save()
    return raw_key, form.pk


def start_server(args: argparse.Namespace, workdir: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "DJANGO_SETTINGS_MODULE": "backoffice.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(64),
        "ALLOWED_HOSTS": HOST,
        "SECURE_SSL_REDIRECT": "False",
        "LOG_LEVEL": "WARNING",
        # One client address sends everything here: its own limit must not be the one that bites.
        "CAPTURE_RATE_PER_CLIENT": "1000000/m",
        "CAPTURE_RATE_PER_FORM": f"{args.form_limit}/s",
    }
    log = workdir / "gunicorn.log"
    server = subprocess.Popen(
        [
            str(Path(sys.executable).with_name("gunicorn")),
            "backoffice.wsgi:application",
            "--bind",
            f"{HOST}:{args.port}",
            "--workers",
            str(args.workers),
            "--worker-class",
            "gthread",
            "--threads",
            str(args.threads),
            "--backlog",
            "4096",
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
            # 405 from the capture view: the app is up (no static files needed).
            connection.request("GET", "/capture/ready/")
            if connection.getresponse().status == 405:
                return server
        except OSError:
            pass
        if server.poll() is not None:
            raise SystemExit(f"gunicorn exited; see {log}")
        time.sleep(0.5)
    raise SystemExit(f"gunicorn did not answer; see {log}")


def sender(port: int, path: str, jobs: queue.Queue, collector: Collector) -> None:
    """Sends each job on a connection of its own, as visitors of a site do
    (each posts its form once). Kept alive, the senders' connections stayed
    with the one gthread worker that accepted them and left the others idle."""
    while True:
        job = jobs.get()
        if job is None:
            return
        phase, scheduled, email = job
        delay = scheduled - time.perf_counter()
        if delay > 0:
            time.sleep(delay)
        body = json.dumps(
            {"first_name": "Bench", "email": email, "utm_source": "bench", "utm_campaign": "bench"}
        )
        status, lead = 0, None
        connection = http.client.HTTPConnection(HOST, port, timeout=30)
        try:
            headers = {"Content-Type": "application/json", "Connection": "close"}
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            data = response.read()
            status = response.status
            if status in (200, 201):
                lead = json.loads(data)["lead"]
        except (OSError, http.client.HTTPException):
            pass
        finally:
            connection.close()
        now = time.perf_counter()
        collector.add(Result(phase, email, status, now - scheduled, now, lead))


def run_phase(
    phase: str,
    rate: float,
    seconds: float,
    port: int,
    path: str,
    senders: int,
    collector: Collector,
    emails: list,
) -> None:
    jobs: queue.Queue = queue.Queue()
    threads = [
        threading.Thread(target=sender, args=(port, path, jobs, collector), daemon=True)
        for _ in range(senders)
    ]
    for thread in threads:
        thread.start()
    start = time.perf_counter() + 0.2
    count = int(rate * seconds)
    for index in range(count):
        if emails and index % 10 == 9:
            email = emails[index % len(emails)]  # a person who wrote before: a duplicate
        else:
            email = f"{phase}-{index}-{secrets.token_hex(3)}@bench.example"
            emails.append(email)
        jobs.put((phase, start + index / rate, email))
    for _ in threads:
        jobs.put(None)
    for thread in threads:
        thread.join()


def check(collector: Collector, form_id: int) -> list[str]:
    from crm_models.capture_models import CaptureSubmission
    from crm_models.models import Interaction, Lead

    failures = []
    created = [r for r in collector.results if r.status == 201]
    accepted = [r for r in collector.results if r.status in (200, 201)]
    form_submissions = CaptureSubmission.objects.filter(form_id=form_id)
    outcomes = Counter(form_submissions.values_list("outcome", flat=True))
    leads = dict(
        Lead.objects.filter(capture_submissions__form_id=form_id).distinct().values_list("pk", "email")
    )
    if len({r.lead for r in created}) != len(created):
        failures.append("two 201 answers named the same lead")
    if any(leads.get(r.lead) != r.email for r in created):
        failures.append("a 201 answer's lead is missing or has another e-mail")
    if len(leads) != len(created):
        failures.append(f"{len(leads)} leads in the database for {len(created)} answers 201")
    notes = Interaction.objects.filter(lead_id__in=list(leads)).count()
    if notes != len(accepted):
        failures.append(f"{notes} timeline notes for {len(accepted)} accepted requests")
    if outcomes.get("created", 0) != len(created):
        failures.append(f"{outcomes.get('created', 0)} submissions 'created' for {len(created)} answers 201")
    duplicates = sum(1 for r in accepted if r.status == 200)
    if outcomes.get("duplicate", 0) != duplicates:
        failures.append(
            f"{outcomes.get('duplicate', 0)} submissions 'duplicate' for {duplicates} answers 200"
        )
    if outcomes.get("failed", 0) or outcomes.get("received", 0):
        failures.append(f"unprocessed or failed submissions: {dict(outcomes)}")
    return failures


def report(collector: Collector, phase: str, seconds: float) -> dict:
    results = [r for r in collector.results if r.phase == phase]
    statuses = Counter(r.status for r in results)
    accepted = [r for r in results if r.status in (200, 201)]
    latencies = [r.latency * 1000 for r in accepted]
    # Over the time the answers really took: a server that falls behind
    # answers the phase's requests after its scheduled end.
    if results:
        started = min(r.finished - r.latency for r in results)
        seconds = max(seconds, max(r.finished for r in results) - started)
    figures = {
        "requests": len(results),
        "accepted_per_s": len(accepted) / seconds,
        "p50_ms": statistics.median(latencies) if latencies else 0.0,
        "p99_ms": percentile(latencies, 0.99),
        "statuses": dict(sorted(statuses.items())),
    }
    print(
        f"{phase:9} {figures['requests']:6} requests, {figures['accepted_per_s']:6.1f} accepted/s, "
        f"p50 {figures['p50_ms']:6.1f} ms, p99 {figures['p99_ms']:6.1f} ms, answers {figures['statuses']}"
    )
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rate", type=float, default=300)
    parser.add_argument("--duration", type=float, default=60)
    parser.add_argument("--burst", type=float, default=5)
    parser.add_argument("--form-limit", type=int, default=500)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--senders", type=int, default=64)
    args = parser.parse_args()
    if "redis" not in os.environ.get("CACHE_URL", ""):
        raise SystemExit("Set CACHE_URL=redis://127.0.0.1:6379/<db>: the rate limits need a shared cache.")
    if not args.port:
        with socket.socket() as probe:
            probe.bind((HOST, 0))
            args.port = probe.getsockname()[1]
    django_setup()
    raw_key, form_id = make_form()
    path = f"/capture/{raw_key}/"
    collector = Collector()
    emails: list[str] = []
    with tempfile.TemporaryDirectory() as workdir:
        server = start_server(args, Path(workdir))
        try:
            print(
                f"gunicorn {args.workers} workers x {args.threads} threads, {os.cpu_count()} CPUs; "
                f"{args.rate:.0f}/s for {args.duration:.0f} s, then {args.rate * 10:.0f}/s for {args.burst:.0f} s "
                f"(form limit {args.form_limit}/s)"
            )
            run_phase("sustained", args.rate, args.duration, args.port, path, args.senders, collector, emails)
            run_phase(
                "burst", args.rate * 10, args.burst, args.port, path, args.senders * 2, collector, emails
            )
        finally:
            # SIGQUIT: stop at once, without waiting for open keep-alive connections.
            os.killpg(server.pid, signal.SIGQUIT)
            try:
                server.wait(timeout=10)
            except subprocess.TimeoutExpired:
                # A gthread worker may wait on an idle keep-alive socket.
                os.killpg(server.pid, signal.SIGKILL)
                server.wait(timeout=10)
            errors = (Path(workdir) / "gunicorn.log").read_text()
    sustained = report(collector, "sustained", args.duration)
    burst = report(collector, "burst", args.burst)
    failures = check(collector, form_id)
    if sustained["accepted_per_s"] < args.rate * 0.98:
        failures.append(f"sustained {sustained['accepted_per_s']:.1f} accepted/s, below {args.rate:.0f}/s")
    if sustained["p99_ms"] >= 100:
        failures.append(f"sustained p99 {sustained['p99_ms']:.1f} ms, not under 100 ms")
    bad = {status: n for status, n in burst["statuses"].items() if status not in (200, 201, 429)}
    bad.update({s: n for s, n in sustained["statuses"].items() if s not in (200, 201, 429)})
    if bad:
        failures.append(f"answers other than 200/201/429: {bad}")
    print(
        "database: every 201 one lead, every accepted request one note and one stored submission: "
        + ("yes" if not any("lead" in f or "note" in f or "submission" in f for f in failures) else "NO")
    )
    if "Traceback" in errors:
        failures.append("gunicorn logged a traceback")
    for failure in failures:
        print("FAIL:", failure)
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
