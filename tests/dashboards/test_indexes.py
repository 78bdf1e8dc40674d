"""The covering indexes of dashboards.0002 are gone on PostgreSQL (0004): the
figures come from the rollup tables, and each index cost every lead and
contract write."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

DROPPED = {"dash_lead_created_campaign", "dash_lead_converted_campaign", "dash_contract_signed_amount"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL-only indexes")
def test_metric_indexes_are_dropped() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", [sorted(DROPPED)])
        assert cursor.fetchall() == []
