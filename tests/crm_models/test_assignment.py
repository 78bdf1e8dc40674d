"""The assignment rules (crm_models/services/assignment.py): which rule places
a lead, round robin and least busy, capacity, inactive users, fairness of two
batches at once, and the owners and history the batch writes."""

import json
import threading
from datetime import timedelta
from typing import Any

import pytest
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from crm_models.models import (
    AssignmentRule,
    AssignmentRuleMember,
    AssignmentStrategy,
    Channel,
    Lead,
    LeadStatus,
)
from crm_models.roles import Role
from crm_models.services.assignment import (
    Arrival,
    ImportOwnership,
    assignment_choose,
    assignment_preview,
    assignment_summary,
    import_ownership_check,
    leads_assign_by_rules,
    leads_assign_to,
)
from tests.factories import CampaignFactory, LeadFactory, LeadFormFactory, UserFactory

pytestmark = pytest.mark.django_db


def make_rule(*members: User, **fields: object) -> AssignmentRule:
    rule = AssignmentRule.objects.create(**{"name": "Spring web", **fields})
    for member in members:
        AssignmentRuleMember.objects.create(rule=rule, user=member)
    return rule


def operators(count: int, prefix: str = "op") -> list[User]:
    return [UserFactory(username=f"{prefix}{i}", role=Role.OPERATOR) for i in range(count)]


def arrivals(campaign, count: int) -> list[Arrival]:
    return [Arrival(campaign.pk, campaign.channel)] * count


def test_round_robin_takes_members_in_turn_and_keeps_the_rotation() -> None:
    a, b, c = operators(3)
    rule = make_rule(a, b, c)
    campaign = CampaignFactory()

    first = assignment_choose(arrivals=arrivals(campaign, 7)).owner_ids
    second = assignment_choose(arrivals=arrivals(campaign, 2)).owner_ids

    assert first == [a.pk, b.pk, c.pk, a.pk, b.pk, c.pk, a.pk]
    # The rotation is in the database: the next batch (or the next process) goes on with b.
    assert second == [b.pk, c.pk]
    rule.refresh_from_db()
    assert rule.turns == 9


def test_least_busy_gives_to_the_fewest_open_leads_and_counts_as_it_goes() -> None:
    a, b, c = operators(3)
    make_rule(a, b, c, strategy=AssignmentStrategy.LEAST_BUSY)
    campaign = CampaignFactory()
    LeadFactory.create_batch(3, owner=a)
    LeadFactory(owner=b)
    # Closed leads do not count.
    LeadFactory.create_batch(4, owner=c, status=LeadStatus.LOST)
    LeadFactory.create_batch(2, owner=c, status=LeadStatus.CONVERTED)

    result = assignment_choose(arrivals=arrivals(campaign, 4))

    # c (0 open), then b and c tied at 1 (b first: its turn comes first), ...
    assert result.owner_ids == [c.pk, b.pk, c.pk, b.pk]


def test_members_at_daily_capacity_are_skipped_and_the_tally_starts_again_each_day() -> None:
    a, b = operators(2)
    rule = make_rule(a, b, daily_capacity=2)
    campaign = CampaignFactory()

    result = assignment_choose(arrivals=arrivals(campaign, 5))

    assert result.owner_ids == [a.pk, b.pk, a.pk, b.pk, None]
    tallies = dict(AssignmentRuleMember.objects.filter(rule=rule).values_list("user_id", "assigned_count"))
    assert tallies == {a.pk: 2, b.pk: 2}
    # Yesterday's tally does not count today.
    AssignmentRuleMember.objects.filter(rule=rule).update(counted_on=timezone.localdate() - timedelta(days=1))
    assert assignment_choose(arrivals=arrivals(campaign, 3)).owner_ids == [a.pk, b.pk, a.pk]
    row = AssignmentRuleMember.objects.get(rule=rule, user=a)
    assert (row.counted_on, row.assigned_count) == (timezone.localdate(), 2)


def test_inactive_users_are_skipped() -> None:
    a, b, c = operators(3)
    make_rule(a, b, c)
    b.is_active = False
    b.save()

    assert assignment_choose(arrivals=arrivals(CampaignFactory(), 4)).owner_ids == [a.pk, c.pk, a.pk, c.pk]


def test_the_first_matching_active_rule_with_a_free_member_wins() -> None:
    a, b, c, d = operators(4)
    search = CampaignFactory(channel=Channel.SEARCH)
    social = CampaignFactory(channel=Channel.SOCIAL)
    make_rule(a, name="Off", position=0, is_active=False)
    make_rule(b, name="Spring search", position=1, campaign=search, daily_capacity=1)
    make_rule(c, name="Social", position=2, channel=Channel.SOCIAL)
    make_rule(d, name="Anything", position=3)

    result = assignment_choose(
        arrivals=[
            Arrival(search.pk, search.channel),
            Arrival(search.pk, search.channel),  # b is at capacity: the next rule that matches
            Arrival(social.pk, social.channel),
        ]
    )

    assert result.owner_ids == [b.pk, d.pk, c.pk]


def test_leads_no_rule_places_stay_unassigned() -> None:
    (a,) = operators(1)
    make_rule(a, channel=Channel.SOCIAL)

    result = assignment_choose(arrivals=arrivals(CampaignFactory(channel=Channel.SEARCH), 2))

    assert (result.owner_ids, result.unplaced) == ([None, None], 2)


def test_preview_changes_nothing_and_says_what_will_happen() -> None:
    members = operators(5)
    rule = make_rule(*members)
    campaign = CampaignFactory()

    result = assignment_preview(arrivals=arrivals(campaign, 1204))

    assert assignment_summary(result) == ["1,204 leads to 5 operators by rule “Spring web”."]
    rule.refresh_from_db()
    assert rule.turns == 0
    assert not AssignmentRuleMember.objects.filter(rule=rule, assigned_count__gt=0).exists()


def test_preview_in_russian_uses_the_plurals() -> None:
    from django.utils import translation

    members = operators(2)
    make_rule(*members, channel=Channel.SEARCH)
    search = CampaignFactory(channel=Channel.SEARCH)
    social = CampaignFactory(channel=Channel.SOCIAL)
    with translation.override("ru"):
        lines = assignment_summary(assignment_preview(arrivals=[*arrivals(search, 21), *arrivals(social, 3)]))

    assert lines == [
        "21 лид — 2 операторам по правилу «Spring web».",
        "3 лида не подходят ни одному правилу со свободным участником и остаются без владельца.",
    ]


def test_assign_by_rules_writes_one_history_row_per_lead_like_simple_history() -> None:
    a, b = operators(2)
    make_rule(a, b)
    admin = UserFactory(username="boss", role=Role.ADMINISTRATOR)
    leads = LeadFactory.create_batch(4, owner=None)

    report = leads_assign_by_rules(
        leads=Lead.objects.filter(pk__in=[lead.pk for lead in leads]), acting_user=admin
    )

    assert (report.assigned, report.owners, report.unplaced) == (4, 2, 0)
    owners = dict(Lead.objects.values_list("pk", "owner_id"))
    assert [owners[lead.pk] for lead in leads] == [a.pk, b.pk, a.pk, b.pk]
    # The rows written from the table equal those simple-history writes from the objects.
    for lead in Lead.objects.filter(pk__in=owners):
        written = lead.history.order_by("-history_id").first()
        expected = Lead.history.model(  # type: ignore[attr-defined]
            **{
                field.attname: getattr(lead, field.attname)
                for field in Lead._meta.concrete_fields
                if field.attname in {f.attname for f in Lead.history.model._meta.concrete_fields}  # type: ignore[attr-defined]
            }
        )
        for field in Lead._meta.concrete_fields:
            assert getattr(written, field.attname) == getattr(expected, field.attname), field.name
        assert (written.history_type, written.history_user_id, written.history_change_reason) == (
            "~",
            admin.pk,
            "Assigned by rule “Spring web”",
        )


def test_assign_to_refuses_a_user_who_is_not_an_active_operator_and_changes_nothing() -> None:
    lead = LeadFactory(owner=None)
    marketer = UserFactory(username="mk", role=Role.MARKETER)

    with pytest.raises(ValueError, match="is not an active operator"):
        leads_assign_to(leads=Lead.objects.filter(pk=lead.pk), owner=marketer, acting_user=None)

    lead.refresh_from_db()
    assert lead.owner_id is None
    assert lead.history.count() == 1


def test_an_operator_may_not_choose_another_owner_for_an_import() -> None:
    me, other = operators(2)
    with pytest.raises(ValueError, match=r"^This choice of owner is not open to you\.$"):
        import_ownership_check(ownership=ImportOwnership("operator", other.pk), user=me)
    marketer = UserFactory(username="mk", role=Role.MARKETER)
    with pytest.raises(ValueError, match="Only operators own leads"):
        import_ownership_check(ownership=ImportOwnership("mine"), user=marketer)
    with pytest.raises(ValueError, match="is not an active operator"):
        import_ownership_check(ownership=ImportOwnership("operator", marketer.pk), user=marketer)
    import_ownership_check(ownership=ImportOwnership("mine"), user=me)
    import_ownership_check(ownership=ImportOwnership("operator", other.pk), user=marketer)


def test_a_captured_lead_goes_by_the_rules_else_keeps_the_forms_owner(client: Client) -> None:
    (ruled,) = operators(1, "ruled")
    campaign = CampaignFactory(channel=Channel.SEARCH)
    form = LeadFormFactory(campaign=campaign)
    url = f"/capture/{form.raw_key}/"  # type: ignore[attr-defined]

    client.post(
        url, json.dumps({"first_name": "A", "email": "a@example.ru"}), content_type="application/json"
    )
    make_rule(ruled, channel=Channel.SEARCH)
    client.post(
        url, json.dumps({"first_name": "B", "email": "b@example.ru"}), content_type="application/json"
    )

    owners = dict(Lead.objects.values_list("email", "owner_id"))
    assert owners == {"a@example.ru": form.owner_id, "b@example.ru": ruled.pk}
    # one insert, with its owner: one history row, naming the form and the rule
    (created,) = Lead.objects.get(email="b@example.ru").history.all()
    assert (created.history_type, created.history_change_reason) == (
        "+",
        f"Web form “{form.name}”. Assigned by rule “Spring web”",
    )


def test_the_rule_is_named_when_it_gives_the_lead_to_the_forms_own_owner(client: Client) -> None:
    (ruled,) = operators(1, "ruled")
    form = LeadFormFactory(owner=ruled)
    make_rule(ruled)

    client.post(
        f"/capture/{form.raw_key}/",  # type: ignore[attr-defined]
        json.dumps({"first_name": "A", "email": "a@example.ru"}),
        content_type="application/json",
    )

    (created,) = Lead.objects.get().history.all()
    assert created.history_change_reason == f"Web form “{form.name}”. Assigned by rule “Spring web”"


@pytest.mark.parametrize(("site", "visitor"), [("en", "ru"), ("ru", "en")])
def test_what_a_capture_writes_is_in_the_sites_language(
    client: Client, settings: Any, site: str, visitor: str
) -> None:
    settings.LANGUAGE_CODE = site
    (ruled,) = operators(1, "ruled")
    form = LeadFormFactory(name="Site")
    make_rule(ruled)

    client.post(
        f"/capture/{form.raw_key}/",  # type: ignore[attr-defined]
        json.dumps({"first_name": "A", "email": "a@example.ru"}),
        content_type="application/json",
        headers={"Accept-Language": visitor},
    )

    lead = Lead.objects.get()
    (created,) = lead.history.all()
    note = lead.interactions.get()
    if site == "en":
        assert created.history_change_reason == "Web form “Site”. Assigned by rule “Spring web”"
        assert note.summary == "New request through the web form “Site”."
    else:
        assert created.history_change_reason == "Веб-форма «Site». Распределён по правилу «Spring web»"
        assert note.summary.startswith("Новая заявка через веб-форму «Site»")


def test_a_form_without_owner_leaves_unplaced_leads_in_the_queue(client: Client) -> None:
    form = LeadFormFactory(owner=None)
    form.full_clean()  # an empty owner is allowed now: the queue

    client.post(
        f"/capture/{form.raw_key}/",  # type: ignore[attr-defined]
        json.dumps({"first_name": "A", "email": "a@example.ru"}),
        content_type="application/json",
    )

    assert Lead.objects.get().owner_id is None


@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL")
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
@pytest.mark.usefixtures("database_restored_after_flush")
def test_two_batches_at_once_share_one_rotation() -> None:
    a, b = operators(2, "race")
    rule = make_rule(a, b)
    campaign = CampaignFactory()
    barrier = threading.Barrier(2, timeout=30)
    results: list[list[int | None]] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def batch() -> None:
        try:
            with transaction.atomic():
                barrier.wait()
                owners = assignment_choose(arrivals=arrivals(campaign, 5)).owner_ids
                # Hold the transaction a moment: the other batch must wait for it.
                threading.Event().wait(0.2)
            with lock:
                results.append(owners)
        except BaseException as error:
            with lock:
                errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=batch) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == []
    # Without the lock both would start at a: a got 6, b 4.
    assert sorted(results) == sorted([[a.pk, b.pk, a.pk, b.pk, a.pk], [b.pk, a.pk, b.pk, a.pk, b.pk]])
    rule.refresh_from_db()
    assert rule.turns == 10
