"""Administrators manage staff and roles but cannot raise privileges: each
refusal is a POST that changes nothing (issue 2 and 3)."""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.test import Client
from django.urls import reverse

from crm_models.roles import Role

pytestmark = pytest.mark.django_db


def change_payload(user: User, **overrides: object) -> dict[str, object]:
    data: dict[str, object] = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "is_active": "on",
        "is_staff": "on",
        "groups": [g.pk for g in user.groups.all()],
        "date_joined_0": "2026-01-01",
        "date_joined_1": "10:00:00",
    }
    data.update(overrides)
    return data


def test_administrator_creates_a_staff_user_with_a_role(
    administrator: User, client_for: Callable[[User], Client]
) -> None:
    operator_group = Group.objects.get(name=Role.OPERATOR)
    response = client_for(administrator).post(
        reverse("admin:auth_user_add"),
        {
            "username": "new_operator",
            "usable_password": "true",
            "password1": "S3cure-pass-phrase",
            "password2": "S3cure-pass-phrase",
            "groups": [operator_group.pk],
        },
    )

    assert response.status_code == 302
    user = User.objects.get(username="new_operator")
    assert user.is_staff
    assert not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == [Role.OPERATOR]


def test_administrator_gives_a_role_to_another_user(
    administrator: User, operator: User, client_for: Callable[[User], Client]
) -> None:
    manager_group = Group.objects.get(name=Role.MANAGER)
    response = client_for(administrator).post(
        reverse("admin:auth_user_change", args=[operator.pk]),
        change_payload(operator, groups=[manager_group.pk]),
    )

    assert response.status_code == 302
    assert list(operator.groups.values_list("name", flat=True)) == [Role.MANAGER]


def test_administrator_cannot_make_anyone_superuser(
    administrator: User, operator: User, client_for: Callable[[User], Client]
) -> None:
    all_perms = list(Permission.objects.values_list("pk", flat=True)[:5])
    client_for(administrator).post(
        reverse("admin:auth_user_change", args=[operator.pk]),
        change_payload(operator, is_superuser="on", user_permissions=all_perms),
    )

    operator.refresh_from_db()
    assert not operator.is_superuser
    assert not operator.user_permissions.exists()


def test_administrator_cannot_edit_a_superuser(
    administrator: User, superuser: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(administrator)
    response = client.post(
        reverse("admin:auth_user_change", args=[superuser.pk]),
        change_payload(superuser, username="hijacked", is_active=""),
    )
    password_response = client.post(
        reverse("admin:auth_user_password_change", args=[superuser.pk]),
        {"password1": "Another-pass-123", "password2": "Another-pass-123"},
    )

    assert response.status_code == 403
    assert password_response.status_code == 403
    superuser.refresh_from_db()
    assert superuser.username == "t_root"
    assert superuser.is_active
    assert superuser.check_password("pass")


def test_nobody_changes_their_own_roles(administrator: User, client_for: Callable[[User], Client]) -> None:
    manager_group = Group.objects.get(name=Role.MANAGER)
    client_for(administrator).post(
        reverse("admin:auth_user_change", args=[administrator.pk]),
        change_payload(administrator, groups=[manager_group.pk], is_superuser="on"),
    )

    administrator.refresh_from_db()
    assert list(administrator.groups.values_list("name", flat=True)) == [Role.ADMINISTRATOR]
    assert not administrator.is_superuser


def test_administrator_cannot_change_a_groups_permissions(
    administrator: User, client_for: Callable[[User], Client]
) -> None:
    group = Group.objects.get(name=Role.OPERATOR)
    before = set(group.permissions.values_list("pk", flat=True))
    delete_lead = Permission.objects.get(codename="delete_lead")
    client_for(administrator).post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "Operator", "permissions": [*before, delete_lead.pk]},
    )

    assert set(group.permissions.values_list("pk", flat=True)) == before


def test_superuser_can_change_a_groups_permissions(
    superuser: User, client_for: Callable[[User], Client]
) -> None:
    group = Group.objects.create(name="Auditors")
    view_lead = Permission.objects.get(codename="view_lead")
    response = client_for(superuser).post(
        reverse("admin:auth_group_change", args=[group.pk]),
        {"name": "Auditors", "permissions": [view_lead.pk]},
    )

    assert response.status_code == 302
    assert list(group.permissions.all()) == [view_lead]


@pytest.mark.parametrize("role_name", ["operator", "marketer", "manager"])
def test_other_roles_cannot_open_users(
    role_name: str, request: pytest.FixtureRequest, client_for: Callable
) -> None:
    user = request.getfixturevalue(role_name)
    assert client_for(user).get(reverse("admin:auth_user_changelist")).status_code == 403
