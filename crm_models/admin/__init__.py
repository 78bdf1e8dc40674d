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
    task_queue,
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
    "task_queue",
    "users",
]
