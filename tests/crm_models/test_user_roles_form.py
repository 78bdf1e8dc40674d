"""An administrator gives roles by ticking the four roles; the user page
shows whether a password is set, never its hash."""

import re
from collections.abc import Callable

import pytest
from django.contrib.auth.models import Group, User
from django.test import Client
from django.urls import reverse

from crm_models.roles import Role
from tests.crm_models.test_users_admin import change_payload

pytestmark = pytest.mark.django_db


def test_role_picker_is_four_checkboxes_in_russian(
    administrator: User, client_for: Callable[[User], Client]
) -> None:
    Group.objects.create(name="Auditors")
    client = client_for(administrator)
    client.cookies["django_language"] = "ru"
    html = client.get(reverse("admin:auth_user_add")).content.decode()
    boxes = re.findall(r'<input type="checkbox" name="groups" value="(\d+)"', html)
    assert sorted(int(pk) for pk in boxes) == sorted(
        Group.objects.filter(name__in=Role.values).values_list("pk", flat=True)
    )
    labels = re.findall(r'name="groups"[^>]*>\s*(?:</?\w[^>]*>\s*)*([^<\s][^<]*?)\s*<', html)
    assert sorted(labels) == ["Администратор", "Маркетолог", "Менеджер", "Оператор"]
    assert "selectfilter" not in html.lower()
    assert "Control" not in html


def test_saving_roles_keeps_a_group_outside_the_four(
    administrator: User, operator: User, client_for: Callable[[User], Client]
) -> None:
    auditors = Group.objects.create(name="Auditors")
    operator.groups.add(auditors)
    manager_group = Group.objects.get(name=Role.MANAGER)
    response = client_for(administrator).post(
        reverse("admin:auth_user_change", args=[operator.pk]),
        change_payload(operator, groups=[manager_group.pk]),
    )
    assert response.status_code == 302
    assert sorted(operator.groups.values_list("name", flat=True)) == ["Auditors", Role.MANAGER]


def test_user_page_shows_no_password_hash(
    administrator: User, operator: User, client_for: Callable[[User], Client]
) -> None:
    html = (
        client_for(administrator).get(reverse("admin:auth_user_change", args=[operator.pk])).content.decode()
    )
    assert "A password is set." in html
    for hash_detail in ("pbkdf2", "algorithm", "iterations", "salt", "hash:", operator.password[-10:]):
        assert hash_detail not in html, hash_detail
    assert 'href="../password/"' in html


def test_user_list_names_roles_in_russian(
    administrator: User, operator: User, client_for: Callable[[User], Client]
) -> None:
    client = client_for(administrator)
    client.cookies["django_language"] = "ru"
    html = client.get(reverse("admin:auth_user_changelist") + "?role=Operator").content.decode()
    assert "Оператор" in html
    assert operator.username in html
