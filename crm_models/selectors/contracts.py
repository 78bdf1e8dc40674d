"""Reads about contracts."""

from crm_models.models import Contract
from crm_models.roles import UserLike


def contract_with_document_get(*, user: UserLike, contract_id: int) -> Contract | None:
    """The contract, if `user` may see it and it has a document; else None."""
    return Contract.objects.visible_to(user).filter(pk=contract_id).exclude(document="").first()
