"""Row scope: which rows of each model a user may see.

This is the single definition of DESIGN.md's "Role scope" matrix. Every read
path (admin querysets, foreign-key choices, autocomplete, history, import,
export, actions, dashboards, document downloads) calls `visible_to(user)`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Self

from django.db import models

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


def _interaction_lead_scope(user: UserLike, prefix: str = "") -> models.Q:
    """Leads whose timeline the user works on: an operator's own leads and a
    manager's own customers' leads. `prefix` reaches Lead from another model."""
    scope = models.Q(pk__in=[])
    if has_role(user, Role.OPERATOR):
        scope |= models.Q(**{f"{prefix}owner": user})
    if has_role(user, Role.MANAGER):
        scope |= models.Q(**{f"{prefix}customer__account_manager": user})
    return scope


class LeadQuerySet(ScopedQuerySet):
    def visible_to(self, user: UserLike) -> Self:
        if sees_everything(user) or has_role(user, Role.MARKETER, Role.MANAGER):
            return self.all()
        if has_role(user, Role.OPERATOR):
            return self.filter(owner=user)
        return self.none()

    def open_for_interactions(self, user: UserLike) -> Self:
        """Leads the user may log interactions on (and read them)."""
        if sees_everything(user):
            return self.all()
        return self.filter(_interaction_lead_scope(user))


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
        return self.filter(_interaction_lead_scope(user, prefix="lead__"))
