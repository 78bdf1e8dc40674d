"""The open-lead counts the "least busy" rules read stay equal to a count of
the lead table after every kind of write (PostgreSQL only: the triggers are
PostgreSQL's; SQLite counts the lead table)."""

import io
from collections import Counter
from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.urls import reverse

from crm_models import open_leads
from crm_models.models import AssignmentStrategy, Lead, LeadStatus, OpenLeadCount
from crm_models.services.assignment import assignment_choose
from tests.crm_models.import_helpers import confirm, csv_bytes, upload
from tests.crm_models.test_assignment import arrivals, make_rule, operators
from tests.factories import CampaignFactory, LeadFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the counting triggers are PostgreSQL's"),
]


def counted() -> dict[int, int]:
    """Each owner's open leads, counted in the lead table."""
    return dict(
        Counter(
            Lead.objects.filter(owner__isnull=False)
            .exclude(status__in=open_leads.CLOSED_STATUSES)
            .values_list("owner_id", flat=True)
        )
    )


def stored() -> dict[int, int]:
    return {
        owner: count for owner, count in OpenLeadCount.objects.values_list("owner_id", "open_leads") if count
    }


def assert_counts_exact() -> None:
    assert stored() == counted()


def test_inserts_status_and_owner_changes_and_deletes() -> None:
    a, b = operators(2)
    leads = LeadFactory.create_batch(3, owner=a) + LeadFactory.create_batch(2, owner=b)
    LeadFactory(owner=None)
    assert stored() == {a.pk: 3, b.pk: 2}

    Lead.objects.filter(pk=leads[0].pk).update(status=LeadStatus.CONVERTED)  # closed: no longer counted
    Lead.objects.filter(pk=leads[1].pk).update(owner=b)  # moved
    Lead.objects.filter(pk=leads[3].pk).update(company="Renamed")  # neither owner nor status
    assert stored() == {a.pk: 1, b.pk: 3}

    Lead.objects.filter(pk=leads[0].pk).update(status=LeadStatus.IN_PROGRESS)  # reopened
    Lead.objects.filter(owner=b).update(owner=None)  # all of b's to the queue, one statement
    Lead.objects.filter(pk=leads[2].pk).delete()
    assert stored() == {a.pk: 1}
    assert_counts_exact()


def test_a_statement_that_changes_no_count_touches_no_row() -> None:
    (a,) = operators(1)
    LeadFactory.create_batch(2, owner=a)
    with connection.cursor() as cursor:
        cursor.execute("SELECT xmin::text FROM crm_models_openleadcount WHERE owner_id = %s", [a.pk])
        (before,) = cursor.fetchone()
        Lead.objects.filter(owner=a).update(company="Same owner, same status")
        cursor.execute("SELECT xmin::text FROM crm_models_openleadcount WHERE owner_id = %s", [a.pk])
        assert cursor.fetchone() == (before,)


def test_the_import_by_copy_and_the_rules_keep_them(
    marketer: User, client_for: Callable[[User], Client]
) -> None:
    a, b = operators(2)
    make_rule(a, b)
    CampaignFactory(name="Spring")
    header = ["First name", "Last name", "E-mail", "Phone", "Campaign"]
    rows = [[f"Name{n}", "X", f"p{n}@example.com", "", "Spring"] for n in range(10)]
    client = client_for(marketer)
    preview = upload(client, "lead", "leads.csv", csv_bytes([header, *rows]), owner_choice="rules")
    confirm(client, "lead", preview.context["token"])

    assert Lead.objects.count() == 10
    assert stored() == {a.pk: 5, b.pk: 5}
    assert_counts_exact()


def test_taking_from_the_queue_counts_for_the_taker(
    operator: User, client_for: Callable[[User], Client]
) -> None:
    queued = LeadFactory.create_batch(2, owner=None)
    response = client_for(operator).post(
        reverse("admin:crm_models_lead_changelist"),
        {"action": "take_leads", "_selected_action": [lead.pk for lead in queued]},
    )
    assert response.status_code == 302
    assert stored() == {operator.pk: 2}


def test_triggers_fire_in_replica_mode_and_the_rebuild_agrees() -> None:
    a, b = operators(2)
    LeadFactory.create_batch(3, owner=a)
    with connection.cursor() as cursor:
        cursor.execute("SET session_replication_role = replica")
        cursor.execute("UPDATE crm_models_lead SET owner_id = %s", [b.pk])
        cursor.execute("SET session_replication_role = DEFAULT")
    assert stored() == {b.pk: 3}

    OpenLeadCount.objects.update(open_leads=99)
    open_leads.execute(connection, open_leads.rebuild_statements())
    assert stored() == {b.pk: 3}


def test_least_busy_reads_the_counts() -> None:
    a, b = operators(2)
    make_rule(a, b, strategy=AssignmentStrategy.LEAST_BUSY)
    campaign = CampaignFactory()
    LeadFactory.create_batch(2, owner=a)
    # the counts say a is free and b busy, the reverse of the lead table: the rule reads the counts
    OpenLeadCount.objects.filter(owner_id=a.pk).update(open_leads=0)
    OpenLeadCount.objects.update_or_create(owner_id=b.pk, defaults={"open_leads": 5})

    assert assignment_choose(arrivals=arrivals(campaign, 1)).owner_ids == [a.pk]


def test_the_rebuild_command_repairs_them_after_a_load_without_triggers() -> None:
    a, b = operators(2)
    LeadFactory.create_batch(3, owner=a)
    with connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")  # no pending checks before ALTER TABLE
        cursor.execute("ALTER TABLE crm_models_lead DISABLE TRIGGER USER")  # as pg_restore --disable-triggers
        cursor.execute("UPDATE crm_models_lead SET owner_id = %s", [b.pk])
    assert stored() == {a.pk: 3}

    call_command("rebuild_rollups", stdout=io.StringIO())

    assert stored() == {b.pk: 3}
    LeadFactory(owner=a)  # and the triggers it found disabled run again
    assert stored() == {a.pk: 1, b.pk: 3}
