"""The four roles of DESIGN.md's matrix as Groups with exactly these permissions.

The matrix is frozen here on purpose (a migration must not change when code
changes later); a change of the matrix is a new migration.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CRUD = ("add", "change", "delete", "view")

ROLE_PERMISSIONS: dict[str, list[str]] = {
    "Administrator": [
        *(
            f"crm_models.{action}_{model}"
            for model in ("service", "campaign", "lead", "customer", "contract", "interaction")
            for action in CRUD
        ),
        "crm_models.convert_lead",
        "crm_models.import_lead",
        "crm_models.export_lead",
        "crm_models.import_service",
        "crm_models.export_service",
        "crm_models.import_campaign",
        "crm_models.export_campaign",
        "crm_models.export_customer",
        "crm_models.export_contract",
        *(f"auth.{action}_user" for action in CRUD),
        *(f"auth.{action}_group" for action in CRUD),
    ],
    "Operator": [
        "crm_models.view_service",
        "crm_models.view_campaign",
        "crm_models.add_lead",
        "crm_models.change_lead",
        "crm_models.view_lead",
        "crm_models.add_interaction",
        "crm_models.change_interaction",
        "crm_models.view_interaction",
    ],
    "Marketer": [
        *(f"crm_models.{action}_service" for action in CRUD),
        *(f"crm_models.{action}_campaign" for action in CRUD),
        "crm_models.import_service",
        "crm_models.export_service",
        "crm_models.import_campaign",
        "crm_models.export_campaign",
        "crm_models.add_lead",
        "crm_models.view_lead",
        "crm_models.import_lead",
        "crm_models.export_lead",
    ],
    "Manager": [
        "crm_models.view_service",
        "crm_models.view_campaign",
        "crm_models.view_lead",
        "crm_models.change_lead",
        "crm_models.convert_lead",
        "crm_models.view_customer",
        "crm_models.change_customer",
        "crm_models.export_customer",
        *(f"crm_models.{action}_contract" for action in CRUD),
        "crm_models.export_contract",
        "crm_models.add_interaction",
        "crm_models.change_interaction",
        "crm_models.view_interaction",
    ],
}


def create_roles(apps, schema_editor):
    # Permissions are normally created after all migrations ran; make them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None

    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for role, perms in ROLE_PERMISSIONS.items():
        group, _ = Group.objects.get_or_create(name=role)
        wanted = []
        for perm in perms:
            app_label, codename = perm.split(".")
            wanted.append(Permission.objects.get(content_type__app_label=app_label, codename=codename))
        group.permissions.set(wanted)


def remove_roles(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=ROLE_PERMISSIONS).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("crm_models", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
