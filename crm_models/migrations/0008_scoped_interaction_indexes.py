"""Indexes for the interaction list of an operator or a manager (issue 8).

Their scope is a set of leads (querysets._interaction_lead_ids): a page walks the
interactions in date order and keeps those whose lead is in the set. The date
index now carries lead_id and kind, so the walk tests both without reading the
table; the lead index carries kind, so that counting a scoped user's
interactions (per own lead, also filtered by kind) reads only the index; the
customer index (account manager, lead) gives a manager's leads from the index.

The single-column foreign-key indexes on interaction.lead and
customer.account_manager go: the composite indexes start with those columns and
serve every lookup they served, and each index costs every write.

Rebuilding the two interaction indexes locks writes to that table for a few
seconds per million rows.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm_models", "0007_history_without_fk_and_date_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(model_name="interaction", name="interaction_happened_idx"),
        migrations.AddIndex(
            model_name="interaction",
            index=models.Index(
                fields=["-happened_at", "-id"], include=("lead", "kind"), name="interaction_happened_idx"
            ),
        ),
        migrations.RemoveIndex(model_name="interaction", name="interaction_lead_happened_idx"),
        migrations.AddIndex(
            model_name="interaction",
            index=models.Index(
                fields=["lead", "-happened_at"], include=("kind",), name="interaction_lead_happened_idx"
            ),
        ),
        migrations.AlterField(
            model_name="interaction",
            name="lead",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="interactions",
                to="crm_models.lead",
                verbose_name="lead",
            ),
        ),
        migrations.AddIndex(
            model_name="customer",
            index=models.Index(fields=["account_manager", "lead"], name="customer_manager_lead_idx"),
        ),
        migrations.AlterField(
            model_name="customer",
            name="account_manager",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="managed_customers",
                to=settings.AUTH_USER_MODEL,
                verbose_name="account manager",
            ),
        ),
    ]
