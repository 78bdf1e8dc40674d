"""Web capture and ad spend (issue 21): campaigns' utm_campaign, the first
touch on leads, web forms, their requests and daily spend; and the roles'
permissions on them, as DESIGN.md's matrix says (frozen here, see 0002)."""

import django.core.validators
import django.db.models.deletion
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

CRUD = ("add", "change", "delete", "view")

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Administrator": [
        *(f"{action}_{model}" for model in ("leadform", "adspend") for action in CRUD),
        "view_capturesubmission",
        "retry_capturesubmission",
        "import_adspend",
        "export_adspend",
    ],
    "Marketer": [
        *(f"{action}_{model}" for model in ("leadform", "adspend") for action in CRUD),
        "view_capturesubmission",
        "retry_capturesubmission",
        "import_adspend",
        "export_adspend",
    ],
    "Manager": ["view_adspend"],
}


def grant(apps, schema_editor):
    app_config = apps.get_app_config("crm_models")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        group.permissions.add(
            *Permission.objects.filter(content_type__app_label="crm_models", codename__in=codenames)
        )


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, codenames in ROLE_PERMISSIONS.items():
        for group in Group.objects.filter(name=role):
            group.permissions.remove(
                *Permission.objects.filter(content_type__app_label="crm_models", codename__in=codenames)
            )


class Migration(migrations.Migration):
    dependencies = [
        ("crm_models", "0013_trigram_search_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="AdSpend",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                ("date", models.DateField(verbose_name="date")),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=2,
                        max_digits=14,
                        validators=[django.core.validators.MinValueValidator(0)],
                        verbose_name="amount",
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        blank=True,
                        default="",
                        help_text="The ad platform, e.g. yandex, vk, google (as in the ads' utm_source).",
                        max_length=50,
                        verbose_name="source",
                    ),
                ),
            ],
            options={
                "verbose_name": "ad spend",
                "verbose_name_plural": "ad spend",
                "ordering": ["-date", "campaign_id", "source"],
                "permissions": [
                    ("import_adspend", "Can import ad spend"),
                    ("export_adspend", "Can export ad spend"),
                ],
            },
        ),
        migrations.CreateModel(
            name="CaptureSubmission",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "received_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="received"
                    ),
                ),
                ("payload", models.JSONField(default=dict, verbose_name="fields sent")),
                (
                    "client_ip",
                    models.GenericIPAddressField(blank=True, null=True, verbose_name="client address"),
                ),
                ("user_agent", models.CharField(blank=True, max_length=300, verbose_name="browser")),
                (
                    "idempotency_key",
                    models.CharField(blank=True, default="", max_length=200, verbose_name="idempotency key"),
                ),
                (
                    "outcome",
                    models.CharField(
                        choices=[
                            ("received", "Received, not processed yet"),
                            ("created", "New lead"),
                            ("duplicate", "Known person"),
                            ("rejected", "Rejected"),
                            ("failed", "Processing failed"),
                        ],
                        default="received",
                        max_length=20,
                        verbose_name="outcome",
                    ),
                ),
                ("errors", models.JSONField(blank=True, default=dict, verbose_name="errors")),
                (
                    "response_status",
                    models.PositiveSmallIntegerField(blank=True, null=True, verbose_name="answer"),
                ),
                ("processed_at", models.DateTimeField(blank=True, null=True, verbose_name="processed")),
                ("attempts", models.PositiveSmallIntegerField(default=0, verbose_name="attempts")),
            ],
            options={
                "verbose_name": "web form request",
                "verbose_name_plural": "web form requests",
                "ordering": ["-received_at", "-id"],
                "permissions": [("retry_capturesubmission", "Can retry failed web form requests")],
            },
        ),
        migrations.CreateModel(
            name="HistoricalAdSpend",
            fields=[
                (
                    "id",
                    models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID"),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created"
                    ),
                ),
                ("updated_at", models.DateTimeField(blank=True, editable=False, verbose_name="updated")),
                ("date", models.DateField(verbose_name="date")),
                (
                    "amount",
                    models.DecimalField(
                        decimal_places=2,
                        max_digits=14,
                        validators=[django.core.validators.MinValueValidator(0)],
                        verbose_name="amount",
                    ),
                ),
                (
                    "source",
                    models.CharField(
                        blank=True,
                        default="",
                        help_text="The ad platform, e.g. yandex, vk, google (as in the ads' utm_source).",
                        max_length=50,
                        verbose_name="source",
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField()),
                ("history_change_reason", models.TextField(null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
            ],
            options={
                "verbose_name": "historical ad spend",
                "verbose_name_plural": "historical ad spend",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="HistoricalLeadForm",
            fields=[
                (
                    "id",
                    models.BigIntegerField(auto_created=True, blank=True, db_index=True, verbose_name="ID"),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created"
                    ),
                ),
                ("updated_at", models.DateTimeField(blank=True, editable=False, verbose_name="updated")),
                ("name", models.CharField(db_index=True, max_length=200, verbose_name="name")),
                (
                    "key",
                    models.CharField(
                        db_index=True, editable=False, max_length=64, verbose_name="key (SHA-256)"
                    ),
                ),
                (
                    "key_hint",
                    models.CharField(
                        editable=False,
                        help_text="The last characters of the key, to tell keys apart.",
                        max_length=8,
                        verbose_name="key ends with",
                    ),
                ),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "allowed_origins",
                    models.TextField(
                        blank=True,
                        help_text="Sites whose pages may post to this form from a browser, one per line (https://www.example.com). Servers posting without an Origin header are not affected.",
                        verbose_name="allowed origins",
                    ),
                ),
                (
                    "required_fields",
                    models.JSONField(
                        blank=True,
                        default=list,
                        help_text="Besides an e-mail or a phone, which every request needs.",
                        verbose_name="required fields",
                    ),
                ),
                (
                    "honeypot_field",
                    models.CharField(
                        blank=True,
                        default="website",
                        help_text="A field hidden from people: requests that fill it in are kept as rejected and make no lead.",
                        max_length=50,
                        verbose_name="honeypot field",
                    ),
                ),
                (
                    "redirect_url",
                    models.URLField(
                        blank=True,
                        help_text="Where a browser is sent after posting the form; empty: a plain thank-you page.",
                        verbose_name="thank-you page",
                    ),
                ),
                ("history_id", models.AutoField(primary_key=True, serialize=False)),
                ("history_date", models.DateTimeField()),
                ("history_change_reason", models.TextField(null=True)),
                (
                    "history_type",
                    models.CharField(
                        choices=[("+", "Created"), ("~", "Changed"), ("-", "Deleted")], max_length=1
                    ),
                ),
            ],
            options={
                "verbose_name": "historical web form",
                "verbose_name_plural": "historical web forms",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="LeadForm",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created"
                    ),
                ),
                ("updated_at", models.DateTimeField(auto_now=True, verbose_name="updated")),
                ("name", models.CharField(max_length=200, unique=True, verbose_name="name")),
                (
                    "key",
                    models.CharField(
                        editable=False, max_length=64, unique=True, verbose_name="key (SHA-256)"
                    ),
                ),
                (
                    "key_hint",
                    models.CharField(
                        editable=False,
                        help_text="The last characters of the key, to tell keys apart.",
                        max_length=8,
                        verbose_name="key ends with",
                    ),
                ),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "allowed_origins",
                    models.TextField(
                        blank=True,
                        help_text="Sites whose pages may post to this form from a browser, one per line (https://www.example.com). Servers posting without an Origin header are not affected.",
                        verbose_name="allowed origins",
                    ),
                ),
                (
                    "required_fields",
                    models.JSONField(
                        blank=True,
                        default=list,
                        help_text="Besides an e-mail or a phone, which every request needs.",
                        verbose_name="required fields",
                    ),
                ),
                (
                    "honeypot_field",
                    models.CharField(
                        blank=True,
                        default="website",
                        help_text="A field hidden from people: requests that fill it in are kept as rejected and make no lead.",
                        max_length=50,
                        verbose_name="honeypot field",
                    ),
                ),
                (
                    "redirect_url",
                    models.URLField(
                        blank=True,
                        help_text="Where a browser is sent after posting the form; empty: a plain thank-you page.",
                        verbose_name="thank-you page",
                    ),
                ),
            ],
            options={
                "verbose_name": "web form",
                "verbose_name_plural": "web forms",
                "ordering": ["name"],
            },
        ),
        migrations.AddField(
            model_name="campaign",
            name="utm_campaign",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                help_text="The utm_campaign value of this campaign's ads; captured leads carrying it join it.",
                max_length=200,
                verbose_name="utm_campaign",
            ),
        ),
        migrations.AddField(
            model_name="historicalcampaign",
            name="utm_campaign",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                help_text="The utm_campaign value of this campaign's ads; captured leads carrying it join it.",
                max_length=200,
                verbose_name="utm_campaign",
            ),
        ),
        migrations.AddField(
            model_name="historicallead",
            name="last_touch",
            field=models.JSONField(
                blank=True,
                editable=False,
                help_text="The utm_* values of the person's latest request through a web form.",
                null=True,
                verbose_name="latest touch",
            ),
        ),
        migrations.AddField(
            model_name="historicallead",
            name="last_touch_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="latest touch at"),
        ),
        migrations.AddField(
            model_name="historicallead",
            name="source",
            field=models.CharField(
                choices=[("manual", "Typed in"), ("import", "Imported"), ("capture", "Web form")],
                db_default="manual",
                default="manual",
                max_length=20,
                verbose_name="source",
            ),
        ),
        migrations.AddField(
            model_name="historicallead",
            name="utm_campaign",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=200, verbose_name="utm_campaign"
            ),
        ),
        migrations.AddField(
            model_name="historicallead",
            name="utm_content",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=200, verbose_name="utm_content"
            ),
        ),
        migrations.AddField(
            model_name="historicallead",
            name="utm_medium",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=200, verbose_name="utm_medium"
            ),
        ),
        migrations.AddField(
            model_name="historicallead",
            name="utm_source",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=200, verbose_name="utm_source"
            ),
        ),
        migrations.AddField(
            model_name="historicallead",
            name="utm_term",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=200, verbose_name="utm_term"
            ),
        ),
        migrations.AddField(
            model_name="lead",
            name="last_touch",
            field=models.JSONField(
                blank=True,
                editable=False,
                help_text="The utm_* values of the person's latest request through a web form.",
                null=True,
                verbose_name="latest touch",
            ),
        ),
        migrations.AddField(
            model_name="lead",
            name="last_touch_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="latest touch at"),
        ),
        migrations.AddField(
            model_name="lead",
            name="source",
            field=models.CharField(
                choices=[("manual", "Typed in"), ("import", "Imported"), ("capture", "Web form")],
                db_default="manual",
                default="manual",
                max_length=20,
                verbose_name="source",
            ),
        ),
        migrations.AddField(
            model_name="lead",
            name="utm_campaign",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=200, verbose_name="utm_campaign"
            ),
        ),
        migrations.AddField(
            model_name="lead",
            name="utm_content",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=200, verbose_name="utm_content"
            ),
        ),
        migrations.AddField(
            model_name="lead",
            name="utm_medium",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=200, verbose_name="utm_medium"
            ),
        ),
        migrations.AddField(
            model_name="lead",
            name="utm_source",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=200, verbose_name="utm_source"
            ),
        ),
        migrations.AddField(
            model_name="lead",
            name="utm_term",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=200, verbose_name="utm_term"
            ),
        ),
        migrations.AlterField(
            model_name="importrecord",
            name="kind",
            field=models.CharField(
                choices=[
                    ("lead", "Leads"),
                    ("service", "Services"),
                    ("campaign", "Campaigns"),
                    ("adspend", "Ad spend"),
                ],
                max_length=20,
                verbose_name="imported into",
            ),
        ),
        migrations.AddConstraint(
            model_name="campaign",
            constraint=models.UniqueConstraint(
                condition=models.Q(("utm_campaign", ""), _negated=True),
                fields=("utm_campaign",),
                name="campaign_utm_campaign_unique",
                violation_error_message="Another campaign already has this utm_campaign.",
            ),
        ),
        migrations.AddField(
            model_name="adspend",
            name="campaign",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="ad_spend",
                to="crm_models.campaign",
                verbose_name="campaign",
            ),
        ),
        migrations.AddField(
            model_name="capturesubmission",
            name="lead",
            field=models.ForeignKey(
                db_index=False,
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="capture_submissions",
                to="crm_models.lead",
                verbose_name="lead",
            ),
        ),
        migrations.AddField(
            model_name="historicaladspend",
            name="campaign",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="crm_models.campaign",
                verbose_name="campaign",
            ),
        ),
        migrations.AddField(
            model_name="historicaladspend",
            name="history_user",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="historicalleadform",
            name="campaign",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                help_text="Leads join this campaign unless their utm_campaign names another one.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="crm_models.campaign",
                verbose_name="default campaign",
            ),
        ),
        migrations.AddField(
            model_name="historicalleadform",
            name="history_user",
            field=models.ForeignKey(
                db_constraint=False,
                null=True,
                on_delete=django.db.models.deletion.SET_NULL,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        migrations.AddField(
            model_name="historicalleadform",
            name="owner",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                help_text="The operator who receives the new leads of this form.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="leads go to",
            ),
        ),
        migrations.AddField(
            model_name="leadform",
            name="campaign",
            field=models.ForeignKey(
                help_text="Leads join this campaign unless their utm_campaign names another one.",
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lead_forms",
                to="crm_models.campaign",
                verbose_name="default campaign",
            ),
        ),
        migrations.AddField(
            model_name="leadform",
            name="owner",
            field=models.ForeignKey(
                blank=True,
                help_text="The operator who receives the new leads of this form.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="lead_forms",
                to=settings.AUTH_USER_MODEL,
                verbose_name="leads go to",
            ),
        ),
        migrations.AddField(
            model_name="capturesubmission",
            name="form",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="submissions",
                to="crm_models.leadform",
                verbose_name="web form",
            ),
        ),
        migrations.AddIndex(
            model_name="adspend",
            index=models.Index(
                fields=["date", "campaign"], include=("amount",), name="adspend_date_campaign_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="adspend",
            constraint=models.UniqueConstraint(
                fields=("campaign", "date", "source"),
                name="adspend_campaign_date_source_unique",
                violation_error_message="This campaign already has spend for this day and source.",
            ),
        ),
        migrations.AddConstraint(
            model_name="adspend",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gte", 0)),
                name="adspend_amount_non_negative",
                violation_error_message="The amount cannot be negative.",
            ),
        ),
        migrations.AddIndex(
            model_name="capturesubmission",
            index=models.Index(fields=["-received_at", "-id"], name="capture_received_idx"),
        ),
        migrations.AddIndex(
            model_name="capturesubmission",
            index=models.Index(fields=["form", "-received_at", "-id"], name="capture_form_received_idx"),
        ),
        migrations.AddIndex(
            model_name="capturesubmission",
            index=models.Index(
                fields=["outcome", "-received_at", "-id"], name="capture_outcome_received_idx"
            ),
        ),
        migrations.AddIndex(
            model_name="capturesubmission",
            index=models.Index(
                condition=models.Q(("lead__isnull", False)), fields=["lead"], name="capture_lead_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="capturesubmission",
            constraint=models.UniqueConstraint(
                condition=models.Q(("idempotency_key", ""), _negated=True),
                fields=("form", "idempotency_key"),
                name="capture_idempotency_unique",
            ),
        ),
        migrations.RunPython(grant, revoke),
    ]
