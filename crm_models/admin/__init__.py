from . import campaign, contract, customer, interaction, lead, service, users

__all__ = ["campaign", "contract", "customer", "interaction", "lead", "service", "users"]
