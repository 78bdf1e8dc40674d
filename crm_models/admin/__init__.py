from . import campaign, contract, customer, import_record, interaction, lead, service, users

__all__ = ["campaign", "contract", "customer", "import_record", "interaction", "lead", "service", "users"]
