"""Indexes for the lists sorted by a column (issue 8).

The changelist breaks a sort's ties by date and id, and sorts a column showing
another row by its key (admin/changelist.py), so a (column, date, id) index
returns a sorted page as a range: the leads by last name, e-mail or phone, the
interactions by kind or author and the contracts by name, amount or dates took
45-430 ms at a million leads without them (PostgreSQL sorted the whole table),
25 ms with them. The author's composite index replaces its single-column
foreign-key index, which it serves as well; a contract's customer and an
interaction's lead indexes gain the id, so that they return those sorts whole,
and the contract's customer index serves its foreign key, whose single-column
index goes.

Building them locks writes to the three tables for about a second per million
rows each.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

# The indexes added for sorting (bench/changelists.py drops them for Django's
# defaults; the two rebuilt with the id are older).
SORT_INDEXES = [
    "contract_name_signed_idx",
    "contract_amount_signed_idx",
    "contract_start_signed_idx",
    "contract_end_signed_idx",
    "interaction_kind_happened_idx",
    "interaction_author_time_idx",
    "lead_last_name_created_idx",
    "lead_email_created_idx",
    "lead_phone_created_idx",
]


class Migration(migrations.Migration):
    dependencies = [
        ("crm_models", "0011_lead_name_email_prefix_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="contract",
            name="contract_customer_signed_idx",
        ),
        migrations.RemoveIndex(
            model_name="interaction",
            name="interaction_lead_happened_idx",
        ),
        migrations.AlterField(
            model_name="contract",
            name="customer",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="contracts",
                to="crm_models.customer",
                verbose_name="customer",
            ),
        ),
        migrations.AlterField(
            model_name="interaction",
            name="author",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="interactions",
                to=settings.AUTH_USER_MODEL,
                verbose_name="author",
            ),
        ),
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["customer", "-signed_at", "-id"], name="contract_customer_signed_idx"),
        ),
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["name", "-signed_at", "-id"], name="contract_name_signed_idx"),
        ),
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["amount", "-signed_at", "-id"], name="contract_amount_signed_idx"),
        ),
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["start_date", "-signed_at", "-id"], name="contract_start_signed_idx"),
        ),
        migrations.AddIndex(
            model_name="contract",
            index=models.Index(fields=["end_date", "-signed_at", "-id"], name="contract_end_signed_idx"),
        ),
        migrations.AddIndex(
            model_name="interaction",
            index=models.Index(
                fields=["lead", "-happened_at", "-id"],
                include=("kind",),
                name="interaction_lead_happened_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="interaction",
            index=models.Index(
                fields=["kind", "-happened_at", "-id"], name="interaction_kind_happened_idx", include=["lead"]
            ),
        ),
        migrations.AddIndex(
            model_name="interaction",
            index=models.Index(
                fields=["author", "-happened_at", "-id"], name="interaction_author_time_idx", include=["lead"]
            ),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["last_name", "-created_at", "-id"], name="lead_last_name_created_idx"),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["email", "-created_at", "-id"], name="lead_email_created_idx"),
        ),
        migrations.AddIndex(
            model_name="lead",
            index=models.Index(fields=["phone", "-created_at", "-id"], name="lead_phone_created_idx"),
        ),
    ]
