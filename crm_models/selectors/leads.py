"""Reads about single leads that forms need."""

from dataclasses import dataclass

from crm_models.models import Lead
from crm_models.roles import UserLike


@dataclass(frozen=True)
class ExistingLead:
    """The lead that already holds a contact, and whether `user` may open it.
    Name and id are only for a user who may open it."""

    pk: int
    name: str
    visible: bool


def lead_with_contact_get(
    *, user: UserLike, field: str, value: str, exclude_pk: int | None = None
) -> ExistingLead | None:
    """The lead whose normalised `field` ("email" or "phone") is `value`, other
    than `exclude_pk`; None when there is none."""
    if field not in ("email", "phone") or not value:
        raise ValueError(field)
    leads = Lead.objects.filter(**{field: value})
    if exclude_pk is not None:
        leads = leads.exclude(pk=exclude_pk)
    found = leads.values_list("pk", "first_name", "last_name").first()
    if found is None:
        return None
    pk, first_name, last_name = found
    visible = Lead.objects.visible_to(user).filter(pk=pk).exists()
    return ExistingLead(pk=pk, name=f"{first_name} {last_name}".strip() if visible else "", visible=visible)
