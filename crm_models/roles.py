"""The four roles of the CRM. Each is a Django Group created by a data migration
(`0002_roles`); these helpers read a user's roles once per request."""

from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    """A role's value is its group's name (kept in English in the database);
    its label is what people read."""

    ADMINISTRATOR = "Administrator", _("Administrator")
    OPERATOR = "Operator", _("Operator")
    MARKETER = "Marketer", _("Marketer")
    MANAGER = "Manager", _("Manager")


def role_label(name: str) -> str:
    """A group's name as people read it: the role's label, or the name itself
    for a group that is not one of the four roles."""
    return str(Role(name).label) if name in Role.values else name


# A User or AnonymousUser (request.user); typed loosely because custom user
# models may add the fields this module reads.
UserLike = Any

_CACHE_ATTR = "_crm_role_names"


def user_roles(user: UserLike) -> frozenset[str]:
    """Names of the roles (groups) of an active user, cached on the user object."""
    if not user.is_authenticated or not user.is_active:
        return frozenset()
    cached = getattr(user, _CACHE_ATTR, None)
    if cached is None:
        cached = frozenset(user.groups.values_list("name", flat=True))
        setattr(user, _CACHE_ATTR, cached)
    return cached


def sees_everything(user: UserLike) -> bool:
    """Superusers and Administrators see every row of every model."""
    if not user.is_authenticated or not user.is_active:
        return False
    return bool(user.is_superuser) or Role.ADMINISTRATOR in user_roles(user)


def has_role(user: UserLike, *roles: Role) -> bool:
    names = user_roles(user)
    return any(role in names for role in roles)
