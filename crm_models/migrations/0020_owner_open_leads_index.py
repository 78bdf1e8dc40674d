"""The index of owners and next steps also carries each lead's status, so the
"least busy" assignment rules count an operator's open leads from the index
alone, without reading the table: they count on every captured lead, while
the rules are locked."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm_models", "0019_reminders_queue"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="lead",
            name="lead_owner_next_step_idx",
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(
                fields=["owner", "next_follow_up_at"], include=("status",), name="lead_owner_next_step_idx"
            ),
        ),
    ]
