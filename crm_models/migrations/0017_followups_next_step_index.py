"""The lead list's follow-up filters and next-step column (issue 20): the
leads by the due time of their next step, ties by date and id; and an
operator's own leads by it."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm_models", "0016_assignment_form_owner"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["next_follow_up_at", "-created_at", "-id"], name="lead_next_step_idx"),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["owner", "next_follow_up_at"], name="lead_owner_next_step_idx"),
        ),
    ]
