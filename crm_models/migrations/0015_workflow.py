"""Owners, assignment and follow-ups (issue 20): leads may be unassigned and
need a reason when lost; assignment rules, follow-ups, notifications and each
user's reminder offset; the reasons the system starts with; and the roles'
permissions on the new models, as DESIGN.md's matrix says (frozen here, see
0002)."""

import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
import django.utils.timezone
import simple_history.models
from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

CRUD = ("add", "change", "delete", "view")

# English names, translated through the catalogue (LostReason.__str__).
STARTING_LOST_REASONS = (
    "Too expensive",
    "Chose a competitor",
    "Not interested",
    "No answer",
    "Wrong contact details",
    "Other",
)

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Administrator": [
        *(f"{action}_{model}" for model in ("lostreason", "assignmentrule", "followup") for action in CRUD),
        "view_notification",
    ],
    "Operator": ["view_lostreason", "view_followup", "add_followup", "change_followup"],
    "Manager": ["view_lostreason", "view_followup", "add_followup", "change_followup"],
    "Marketer": ["view_assignmentrule", "view_lostreason"],
}


def give_lost_leads_a_reason(apps, schema_editor):
    LostReason = apps.get_model("crm_models", "LostReason")
    Lead = apps.get_model("crm_models", "Lead")
    for name in STARTING_LOST_REASONS:
        LostReason.objects.get_or_create(name=name)
    other = LostReason.objects.get(name="Other")
    Lead.objects.filter(status="lost", lost_reason__isnull=True).update(lost_reason=other)


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
        ("crm_models", "0014_capture_and_spend"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Notification",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("due_at", models.DateTimeField(blank=True, null=True, verbose_name="due")),
                ("message", models.CharField(max_length=300, verbose_name="message")),
                (
                    "created_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="created"
                    ),
                ),
                ("read_at", models.DateTimeField(blank=True, null=True, verbose_name="read at")),
                (
                    "emailed_at",
                    models.DateTimeField(blank=True, editable=False, null=True, verbose_name="e-mailed at"),
                ),
            ],
            options={
                "verbose_name": "notification",
                "verbose_name_plural": "notifications",
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="UserPreferences",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "reminder_offset_minutes",
                    models.PositiveIntegerField(
                        default=15,
                        help_text="How long before a follow-up is due its reminder arrives.",
                        validators=[django.core.validators.MaxValueValidator(10080)],
                        verbose_name="remind me (minutes before)",
                    ),
                ),
            ],
            options={
                "verbose_name": "preferences",
                "verbose_name_plural": "preferences",
            },
        ),
        migrations.AddField(
            model_name="historicallead",
            name="next_follow_up_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="next step"),
        ),
        migrations.AddField(
            model_name="lead",
            name="next_follow_up_at",
            field=models.DateTimeField(blank=True, editable=False, null=True, verbose_name="next step"),
        ),
        migrations.AlterField(
            model_name="historicallead",
            name="owner",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                help_text="The operator responsible for this lead. Empty: in the queue every operator sees.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to=settings.AUTH_USER_MODEL,
                verbose_name="owner",
            ),
        ),
        migrations.AlterField(
            model_name="lead",
            name="owner",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                help_text="The operator responsible for this lead. Empty: in the queue every operator sees.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="owned_leads",
                to=settings.AUTH_USER_MODEL,
                verbose_name="owner",
            ),
        ),
        migrations.CreateModel(
            name="AssignmentRule",
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
                ("name", models.CharField(max_length=200, verbose_name="name")),
                ("position", models.PositiveIntegerField(default=0, verbose_name="position")),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "channel",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("search", "Search"),
                            ("social", "Social media"),
                            ("email", "E-mail"),
                            ("display", "Display / banner"),
                            ("referral", "Referral"),
                            ("offline", "Offline"),
                            ("other", "Other"),
                        ],
                        help_text="Empty: leads of any channel.",
                        max_length=20,
                        verbose_name="channel",
                    ),
                ),
                (
                    "strategy",
                    models.CharField(
                        choices=[
                            ("round_robin", "Round robin"),
                            ("least_busy", "Least busy (fewest open leads)"),
                        ],
                        default="round_robin",
                        max_length=20,
                        verbose_name="strategy",
                    ),
                ),
                (
                    "daily_capacity",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="The most leads a member receives by this rule in a day. Empty: no limit.",
                        null=True,
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="daily capacity",
                    ),
                ),
                (
                    "turns",
                    models.PositiveBigIntegerField(
                        default=0, editable=False, verbose_name="turns handed out"
                    ),
                ),
                (
                    "campaign",
                    models.ForeignKey(
                        blank=True,
                        help_text="Empty: leads of any campaign.",
                        null=True,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="assignment_rules",
                        to="crm_models.campaign",
                        verbose_name="campaign",
                    ),
                ),
            ],
            options={
                "verbose_name": "assignment rule",
                "verbose_name_plural": "assignment rules",
                "ordering": ["position", "id"],
            },
        ),
        migrations.CreateModel(
            name="AssignmentRuleMember",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "counted_on",
                    models.DateField(blank=True, editable=False, null=True, verbose_name="counted on"),
                ),
                (
                    "assigned_count",
                    models.PositiveIntegerField(default=0, editable=False, verbose_name="assigned that day"),
                ),
                (
                    "rule",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        to="crm_models.assignmentrule",
                        verbose_name="rule",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="member",
                    ),
                ),
            ],
            options={
                "verbose_name": "rule member",
                "verbose_name_plural": "rule members",
                "ordering": ["rule", "id"],
            },
        ),
        migrations.AddField(
            model_name="assignmentrule",
            name="members",
            field=models.ManyToManyField(
                related_name="assignment_rules",
                through="crm_models.AssignmentRuleMember",
                to=settings.AUTH_USER_MODEL,
                verbose_name="members",
            ),
        ),
        migrations.CreateModel(
            name="FollowUp",
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
                (
                    "kind",
                    models.CharField(
                        choices=[
                            ("call", "Call"),
                            ("email", "E-mail"),
                            ("meeting", "Meeting"),
                            ("note", "Note"),
                        ],
                        default="call",
                        max_length=20,
                        verbose_name="kind",
                    ),
                ),
                ("due_at", models.DateTimeField(verbose_name="due")),
                ("note", models.TextField(blank=True, verbose_name="note")),
                ("done_at", models.DateTimeField(blank=True, null=True, verbose_name="done at")),
                (
                    "remind_at",
                    models.DateTimeField(blank=True, editable=False, null=True, verbose_name="remind at"),
                ),
                (
                    "reminded_at",
                    models.DateTimeField(blank=True, editable=False, null=True, verbose_name="reminded at"),
                ),
                (
                    "assignee",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="follow_ups",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="assignee",
                    ),
                ),
                (
                    "created_by",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="created by",
                    ),
                ),
                (
                    "interaction",
                    models.OneToOneField(
                        blank=True,
                        editable=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="follow_up",
                        to="crm_models.interaction",
                        verbose_name="recorded as",
                    ),
                ),
                (
                    "lead",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="follow_ups",
                        to="crm_models.lead",
                        verbose_name="lead",
                    ),
                ),
            ],
            options={
                "verbose_name": "follow-up",
                "verbose_name_plural": "follow-ups",
                "ordering": ["due_at", "id"],
            },
        ),
        migrations.CreateModel(
            name="HistoricalAssignmentRule",
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
                ("name", models.CharField(max_length=200, verbose_name="name")),
                ("position", models.PositiveIntegerField(default=0, verbose_name="position")),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
                (
                    "channel",
                    models.CharField(
                        blank=True,
                        choices=[
                            ("search", "Search"),
                            ("social", "Social media"),
                            ("email", "E-mail"),
                            ("display", "Display / banner"),
                            ("referral", "Referral"),
                            ("offline", "Offline"),
                            ("other", "Other"),
                        ],
                        help_text="Empty: leads of any channel.",
                        max_length=20,
                        verbose_name="channel",
                    ),
                ),
                (
                    "strategy",
                    models.CharField(
                        choices=[
                            ("round_robin", "Round robin"),
                            ("least_busy", "Least busy (fewest open leads)"),
                        ],
                        default="round_robin",
                        max_length=20,
                        verbose_name="strategy",
                    ),
                ),
                (
                    "daily_capacity",
                    models.PositiveIntegerField(
                        blank=True,
                        help_text="The most leads a member receives by this rule in a day. Empty: no limit.",
                        null=True,
                        validators=[django.core.validators.MinValueValidator(1)],
                        verbose_name="daily capacity",
                    ),
                ),
                (
                    "turns",
                    models.PositiveBigIntegerField(
                        default=0, editable=False, verbose_name="turns handed out"
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
                (
                    "campaign",
                    models.ForeignKey(
                        blank=True,
                        db_constraint=False,
                        db_index=False,
                        help_text="Empty: leads of any campaign.",
                        null=True,
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="crm_models.campaign",
                        verbose_name="campaign",
                    ),
                ),
                (
                    "history_user",
                    models.ForeignKey(
                        db_constraint=False,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "verbose_name": "historical assignment rule",
                "verbose_name_plural": "historical assignment rules",
                "ordering": ("-history_date", "-history_id"),
                "get_latest_by": ("history_date", "history_id"),
            },
            bases=(simple_history.models.HistoricalChanges, models.Model),
        ),
        migrations.CreateModel(
            name="LostReason",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=200, verbose_name="name")),
                ("is_active", models.BooleanField(default=True, verbose_name="active")),
            ],
            options={
                "verbose_name": "lost reason",
                "verbose_name_plural": "lost reasons",
                "ordering": ["name"],
                "constraints": [
                    models.UniqueConstraint(
                        django.db.models.functions.text.Lower("name"),
                        name="lostreason_name_ci_unique",
                        violation_error_message="A lost reason with this name already exists.",
                    )
                ],
            },
        ),
        migrations.AddField(
            model_name="historicallead",
            name="lost_reason",
            field=models.ForeignKey(
                blank=True,
                db_constraint=False,
                db_index=False,
                help_text="Required when the lead is lost.",
                null=True,
                on_delete=django.db.models.deletion.DO_NOTHING,
                related_name="+",
                to="crm_models.lostreason",
                verbose_name="lost reason",
            ),
        ),
        migrations.AddField(
            model_name="lead",
            name="lost_reason",
            field=models.ForeignKey(
                blank=True,
                help_text="Required when the lead is lost.",
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="leads",
                to="crm_models.lostreason",
                verbose_name="lost reason",
            ),
        ),
        migrations.RunPython(give_lost_leads_a_reason, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="lead",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("status", "lost"), _negated=True),
                    ("lost_reason__isnull", False),
                    _connector="OR",
                ),
                name="lead_lost_has_reason",
                violation_error_message="Choose why the lead was lost.",
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="follow_up",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notifications",
                to="crm_models.followup",
                verbose_name="follow-up",
            ),
        ),
        migrations.AddField(
            model_name="notification",
            name="user",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.CASCADE,
                related_name="notifications",
                to=settings.AUTH_USER_MODEL,
                verbose_name="user",
            ),
        ),
        migrations.AddField(
            model_name="userpreferences",
            name="user",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="preferences",
                to=settings.AUTH_USER_MODEL,
                verbose_name="user",
            ),
        ),
        migrations.AddConstraint(
            model_name="assignmentrulemember",
            constraint=models.UniqueConstraint(
                fields=("rule", "user"),
                name="assignmentrulemember_unique",
                violation_error_message="This user is already a member of the rule.",
            ),
        ),
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(
                condition=models.Q(("done_at__isnull", True)),
                fields=["assignee", "due_at", "id"],
                name="followup_open_assignee_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(fields=["lead", "due_at", "id"], name="followup_lead_due_idx"),
        ),
        migrations.AddIndex(
            model_name="followup",
            index=models.Index(
                condition=models.Q(("done_at__isnull", True), ("reminded_at__isnull", True)),
                fields=["remind_at", "id"],
                name="followup_reminder_due_idx",
            ),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(fields=["user", "-created_at", "-id"], name="notification_user_idx"),
        ),
        migrations.AddIndex(
            model_name="notification",
            index=models.Index(
                condition=models.Q(("read_at__isnull", True)), fields=["user"], name="notification_unread_idx"
            ),
        ),
        migrations.AddConstraint(
            model_name="notification",
            constraint=models.UniqueConstraint(
                condition=models.Q(("follow_up__isnull", False)),
                fields=("follow_up", "due_at"),
                name="notification_once_per_due_time",
            ),
        ),
        migrations.RunPython(grant, revoke),
    ]
