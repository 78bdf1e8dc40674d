"""psycopg's pool under Django: every pooled connection gets the planner
options, and the conversion's prepared statements work on reused connections.

Runs in a child process with the pool switched on (DATABASE_POOL_MAX_SIZE=1,
so the second conversion must reuse the first one's connection) against this
test run's database; each conversion's writes are rolled back.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = """
import json, django
django.setup()
from datetime import date
from decimal import Decimal
from django.db import connection, transaction
from crm_models.services.conversion import ContractData, ConversionResult, lead_convert
from crm_models.roles import Role
from tests.factories import LeadFactory, ServiceFactory, UserFactory

found = []
for attempt in range(2):
    with transaction.atomic():
        manager = UserFactory(username=f"pool-manager-{attempt}", role=Role.MANAGER)
        service = ServiceFactory()
        lead = LeadFactory()
        outcome = lead_convert(lead_id=lead.pk, acting_user=manager, contract=ContractData(
            service=service, name="Pool check", amount=Decimal("10.00"),
            start_date=date(2026, 1, 1), end_date=date(2026, 12, 31), signed_at=date(2026, 1, 1)))
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting('random_page_cost'), pg_backend_pid(), "
                           "(SELECT count(*) FROM pg_prepared_statements)")
            cost, pid, prepared = cursor.fetchone()
        found.append({"result": str(outcome.result), "cost": cost, "pid": pid, "prepared": prepared,
                      "pooled": connection.pool is not None})
        transaction.set_rollback(True)
    connection.close()  # back to the pool, as at the end of a request
print(json.dumps(found))
"""


@pytest.mark.django_db
def test_pooled_connections_keep_planner_options_and_prepared_statements() -> None:
    if connection.vendor != "postgresql":
        pytest.skip("the pool is PostgreSQL's")
    settings_dict = connection.settings_dict
    url = f"postgres://{settings_dict['USER']}@{settings_dict['HOST']}:{settings_dict['PORT']}/{settings_dict['NAME']}"
    environment = {**os.environ, "DATABASE_URL": url, "DATABASE_POOL_MAX_SIZE": "1"}
    if settings_dict["PASSWORD"]:
        environment["PGPASSWORD"] = settings_dict["PASSWORD"]
    environment.pop("DATABASE_PLANNER_OPTIONS", None)
    result = subprocess.run(  # noqa: S603 - a fixed script of this test
        [sys.executable, "-c", SCRIPT], cwd=ROOT, env=environment, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    first, second = json.loads(result.stdout.strip().splitlines()[-1])
    assert first["pooled"] is True
    assert first["result"] == second["result"] == "converted"
    assert first["cost"] == second["cost"] == "1.1"
    # One pooled connection served both: the second conversion found the
    # first one's prepared statements there and prepared nothing new.
    assert first["pid"] == second["pid"]
    assert first["prepared"] > 0
    assert second["prepared"] == first["prepared"]
