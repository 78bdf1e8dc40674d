"""The production topology's short form (bench/topology.py --quick): two
gunicorn app servers with production settings, moto's S3 server, PostgreSQL
and Redis, proving shared sessions, documents, import previews and lockouts,
a job enqueued on A run by the worker, a short load with no errors, and one
server killed under load."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _redis_answers() -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url("redis://127.0.0.1:6379/5", socket_connect_timeout=2).ping())
    except redis.RedisError:
        return False


@pytest.mark.topology
def test_topology_quick() -> None:
    if not os.environ.get("DATABASE_URL", "").startswith("postgres"):
        pytest.skip("the topology runs on PostgreSQL (DATABASE_URL=postgres://...)")
    if not _redis_answers() and not os.environ.get("TOPOLOGY_REQUIRED"):
        pytest.skip("Redis does not answer at 127.0.0.1:6379")
    result = subprocess.run(
        [sys.executable, "bench/topology.py", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-4000:]
    for line in [
        "ok: logged in on A, working on B with the same session",
        "ok: document uploaded on A, in the bucket (private ACL, no local file), downloaded on B; "
        "manager2 404, operator 403, anonymous to login",
        "ok: import previewed on A (preview kept in the bucket), confirmed on B: 3 leads created",
        "ok: 5 failed logins alternating A and B lock the account out on both (HTTP 429)",
        "ok: a job enqueued on A ran on the worker; its notification arrived in ",
        "ok: 0 errors; all ",
        "ok: A killed (SIGKILL) midway",
        "topology: all steps passed",
    ]:
        assert line in output, output[-4000:]
