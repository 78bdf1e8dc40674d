from collections.abc import Iterator

import pytest
from django.core.cache import cache

from tests.crm_models.test_metrics import dataset  # noqa: F401 - the hand-built data set, shared


@pytest.fixture(autouse=True)
def empty_cache() -> Iterator[None]:
    """The figures are cached per period: every test starts from a cold cache."""
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def base_tables(monkeypatch: pytest.MonkeyPatch) -> None:
    """The figures come from the base tables (and the cache), as on SQLite,
    whatever the database: the rollups of PostgreSQL are switched off."""
    monkeypatch.setattr("crm_models.selectors.metrics.reads_rollups", lambda user: False)
    monkeypatch.setattr("dashboards.cache.reads_rollups", lambda user: False)
