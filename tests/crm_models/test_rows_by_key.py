"""A page read by key keeps what the list annotates on each row (the lead
list's latest interaction, which the stale badge reads)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from crm_models.admin.changelist import rows_by_key
from crm_models.models import Lead
from crm_models.selectors.followups import last_interaction_subquery
from tests.factories import InteractionFactory, LeadFactory

pytestmark = pytest.mark.django_db


def test_rows_by_key_carry_the_lists_annotations() -> None:
    quiet, talked = LeadFactory(), LeadFactory()
    moment = timezone.now() - timedelta(days=3)
    InteractionFactory(lead=talked, happened_at=moment)
    listed = Lead.objects.filter(first_name__isnull=False).annotate(
        last_interaction_at=last_interaction_subquery()
    )

    rows = rows_by_key(listed, [talked.pk, quiet.pk])

    assert {pk: row.last_interaction_at for pk, row in rows.items()} == {talked.pk: moment, quiet.pk: None}
