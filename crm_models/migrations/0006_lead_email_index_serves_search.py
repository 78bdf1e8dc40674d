"""One index on lead e-mail instead of two.

The unique index on e-mail (non-empty e-mails) is rebuilt with the pattern
operator class, which also answers the search box's prefix match (`email LIKE
'ivan%' AND email > ''`, selectors/search.py), so 0004's separate prefix index
goes. Every lead write, and above all a 100,000-row import, updated both.
"""

from django.conf import settings
from django.db import migrations, models


def drop_prefix_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP INDEX IF EXISTS lead_email_prefix_idx")


def create_prefix_index(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            "CREATE INDEX IF NOT EXISTS lead_email_prefix_idx ON crm_models_lead (email varchar_pattern_ops)"
        )


class Migration(migrations.Migration):
    dependencies = [
        ("crm_models", "0005_lead_fk_indexes_covered_by_composites"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveConstraint(model_name="lead", name="lead_email_unique"),
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.UniqueConstraint(
                condition=models.Q(("email", ""), _negated=True),
                fields=("email",),
                name="lead_email_unique",
                opclasses=["varchar_pattern_ops"],
                violation_error_message="A lead with this e-mail already exists.",
            ),
        ),
        migrations.RunPython(drop_prefix_index, create_prefix_index),
    ]
