from . import (
    campaign,
    capture,
    contract,
    customer,
    followup,
    import_record,
    interaction,
    lead,
    service,
    spend,
    users,
)

__all__ = [
    "campaign",
    "capture",
    "contract",
    "customer",
    "followup",
    "import_record",
    "interaction",
    "lead",
    "service",
    "spend",
    "users",
]
