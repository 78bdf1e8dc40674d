"""The text[] literal the duplicate lookups send reads back as the same values."""

import pytest
from django.db import connection

from crm_models.selectors.import_plans import text_array_literal

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "values",
    [
        [],
        [""],
        ["a@example.ru", "+79161234567"],
        ['"quoted"@example.ru', "back\\slash@example.ru", "a,b{c}@example.ru", "NULL", "почта@пример.рф"],
    ],
)
def test_text_array_literal_round_trips(values: list[str]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL arrays")
    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::text[]", [text_array_literal(values)])
        assert cursor.fetchone()[0] == values
