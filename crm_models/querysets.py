"""Row scope: which rows of each model a user may see.

This is the single definition of DESIGN.md's "Role scope" matrix. Every read
path (admin querysets, foreign-key choices, autocomplete, history, import,
export, actions, dashboards, document downloads) calls `visible_to(user)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Self

from django.apps import apps
from django.db import models
from django.db.models.lookups import In

from .roles import Role, has_role, sees_everything

if TYPE_CHECKING:
    from .roles import UserLike


class ScopedQuerySet(models.QuerySet):
    def visible_to(self, user: UserLike) -> Self:
        raise NotImplementedError


class ServiceQuerySet(ScopedQuerySet):
    def visible_to(self, user: UserLike) -> Self:
        # Reference data: every role may read it; model permissions decide the rest.
        if user.is_authenticated and user.is_active:
            return self.all()
        return self.none()


class CampaignQuerySet(ServiceQuerySet):
    pass


class OrderedPageIn(In):
    """`column IN (subquery)` that, on PostgreSQL, a page of an ordered list
    reads as a filter instead of a join.

    PostgreSQL turns `lead_id IN (SELECT ...)` into a semi-join. A join's output
    has no order the planner relies on (a hash join may reorder its input), so
    for `ORDER BY happened_at DESC LIMIT 50` it can only walk the interactions in
    date order and probe each one's lead by primary key: 10,000 probes for the
    50 interactions of an operator who owns 1% of the leads. Written as
    `(lead_id IN (SELECT ...)) IS TRUE` the condition is not turned into a join:
    the subquery runs once into a hash table and the walk along the date index
    (which includes lead_id) tests each entry against it. At a million
    interactions: 5 ms instead of 60-110 ms for a page.

    The two forms select the same rows (IS TRUE only turns NULL into false, and
    WHERE drops both). Only the filter form is used where it pays, a sliced and
    ordered query (a page): PostgreSQL cannot estimate how many rows a hashed
    filter keeps (it assumes half the table), while for the semi-join it can, and
    the changelist's capped count (an unordered query) is planned with it.
    """

    def as_sql(self, compiler: Any, connection: Any) -> tuple[str, Any]:
        sql, params = super().as_sql(compiler, connection)
        query = compiler.query
        ordered = bool(query.order_by) or (query.default_ordering and bool(query.get_meta().ordering))
        if connection.vendor == "postgresql" and query.is_sliced and ordered:
            return f"({sql}) IS TRUE", params
        return sql, params


def _interaction_lead_ids(user: UserLike) -> models.QuerySet | None:
    """The ids of the leads whose timeline the user works on: an operator's own
    leads and a manager's own customers' leads (None: no such role). The single
    definition of the interaction scope, for leads and interactions alike.

    One subquery per role, each on the index that holds its rule (the lead's
    owner, the customer's account manager), united for a user with both roles:
    a join of leads and customers with an OR across the two tables would read
    every lead."""
    lead_model = apps.get_model("crm_models", "Lead")
    customer_model = apps.get_model("crm_models", "Customer")
    parts = []
    if has_role(user, Role.OPERATOR):
        parts.append(lead_model.objects.filter(owner=user).order_by().values("pk"))
    if has_role(user, Role.MANAGER):
        parts.append(customer_model.objects.filter(account_manager=user).order_by().values("lead_id"))
    if not parts:
        return None
    return parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]


def _interaction_lead_scope(user: UserLike, lead_field: str) -> models.Q | None:
    """Rows whose `lead_field` names a lead of `_interaction_lead_ids`; None
    when there are none."""
    lead_ids = _interaction_lead_ids(user)
    if lead_ids is None:
        return None
    return models.Q(OrderedPageIn(models.F(lead_field), lead_ids))


class LeadQuerySet(ScopedQuerySet):
    def visible_to(self, user: UserLike) -> Self:
        if sees_everything(user) or has_role(user, Role.MARKETER, Role.MANAGER):
            return self.all()
        if has_role(user, Role.OPERATOR):
            # Their own leads and the unassigned queue they take leads from.
            return self.filter(models.Q(owner=user) | models.Q(owner__isnull=True))
        return self.none()

    def open_for_interactions(self, user: UserLike) -> Self:
        """Leads the user may log interactions on (and read them)."""
        if sees_everything(user):
            return self.all()
        scope = _interaction_lead_scope(user, "pk")
        return self.none() if scope is None else self.filter(scope)


class CustomerQuerySet(ScopedQuerySet):
    def visible_to(self, user: UserLike) -> Self:
        if sees_everything(user):
            return self.all()
        if has_role(user, Role.MANAGER):
            return self.filter(account_manager=user)
        return self.none()


class ContractQuerySet(ScopedQuerySet):
    def visible_to(self, user: UserLike) -> Self:
        if sees_everything(user):
            return self.all()
        if has_role(user, Role.MANAGER):
            return self.filter(customer__account_manager=user)
        return self.none()


class InteractionQuerySet(ScopedQuerySet):
    def visible_to(self, user: UserLike) -> Self:
        if sees_everything(user):
            return self.all()
        scope = _interaction_lead_scope(user, "lead")
        return self.none() if scope is None else self.filter(scope)


class LeadFormQuerySet(ScopedQuerySet):
    """Web forms and their requests: administrators and marketers (DESIGN.md,
    role matrix); nobody else sees them at all."""

    def visible_to(self, user: UserLike) -> Self:
        if sees_everything(user) or has_role(user, Role.MARKETER):
            return self.all()
        return self.none()


class CaptureSubmissionQuerySet(LeadFormQuerySet):
    pass


class AdSpendQuerySet(ScopedQuerySet):
    """Spend rows: administrators and marketers manage them, managers read them."""

    def visible_to(self, user: UserLike) -> Self:
        if sees_everything(user) or has_role(user, Role.MARKETER, Role.MANAGER):
            return self.all()
        return self.none()


class FollowUpQuerySet(ScopedQuerySet):
    """Follow-ups: an operator's on their own leads, a manager's on their own
    customers' leads (the interaction scope), and anyone's own as assignee."""

    def visible_to(self, user: UserLike) -> Self:
        if sees_everything(user):
            return self.all()
        scope = _interaction_lead_scope(user, "lead")
        if scope is None:
            return self.none()
        return self.filter(scope | models.Q(assignee=user))

    def open(self) -> Self:
        return self.filter(done_at__isnull=True)


class AssignmentRuleQuerySet(ScopedQuerySet):
    """Assignment rules: administrators manage them, marketers read them."""

    def visible_to(self, user: UserLike) -> Self:
        if sees_everything(user) or has_role(user, Role.MARKETER):
            return self.all()
        return self.none()


class LostReasonQuerySet(ServiceQuerySet):
    """Reference data every role may read, like services."""


class NotificationQuerySet(ScopedQuerySet):
    """Notifications: each user's own only, administrators included."""

    def visible_to(self, user: UserLike) -> Self:
        if user.is_authenticated and user.is_active:
            return self.filter(user=user)
        return self.none()
