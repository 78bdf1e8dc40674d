"""`Model.history` is simple-history's manager, its class made once
(crm_models.models.HistoryManagerMadeOnce), still bound to the model or to
the one record it is read from."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from simple_history.manager import HistoryManager

from crm_models.models import Lead
from tests.factories import LeadFactory

pytestmark = pytest.mark.django_db


def test_the_manager_class_is_made_once_and_still_bound_per_record() -> None:
    first, second = LeadFactory(last_name="Original"), LeadFactory()
    first.last_name = "Renamed"
    first.save()

    assert type(Lead.history) is type(Lead.history) is type(first.history)
    assert isinstance(Lead.history, HistoryManager)
    assert Lead.history.instance is None
    assert (first.history.count(), second.history.count(), Lead.history.count()) == (2, 1, 3)
    assert [row.last_name for row in first.history.all()] == ["Renamed", "Original"]


def test_writing_a_history_row_makes_no_class() -> None:
    lead = LeadFactory()
    made = type(Lead.history)
    with CaptureQueriesContext(connection) as queries:
        lead.first_name = "Anna"
        lead.save()
    assert type(lead.history) is made
    assert len(queries) == 2  # the UPDATE and the history row's INSERT
