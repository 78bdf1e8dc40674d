"""The covering indexes of dashboards.0002 exist on PostgreSQL."""

import pytest
from django.db import connection

pytestmark = pytest.mark.django_db

EXPECTED = {"dash_lead_created_campaign", "dash_lead_converted_campaign", "dash_contract_signed_amount"}


@pytest.mark.skipif(connection.vendor != "postgresql", reason="PostgreSQL-only indexes")
def test_metric_indexes_exist() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE indexname = ANY(%s)", [sorted(EXPECTED)])
        names = {row[0] for row in cursor.fetchall()}
    assert names == EXPECTED
