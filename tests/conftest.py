"""Role fixtures built from the real groups of the data migration.

Permission tests run as these users, never as a superuser: a superuser client
hides scoping bugs.
"""

from collections.abc import Callable

import pytest
from django.contrib.auth.models import User
from django.test import Client

from crm_models.roles import Role
from tests.factories import UserFactory

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture
def administrator(db: None) -> User:
    return UserFactory(username="t_admin", role=Role.ADMINISTRATOR)


@pytest.fixture
def operator(db: None) -> User:
    return UserFactory(username="t_operator", role=Role.OPERATOR)


@pytest.fixture
def operator2(db: None) -> User:
    return UserFactory(username="t_operator2", role=Role.OPERATOR)


@pytest.fixture
def marketer(db: None) -> User:
    return UserFactory(username="t_marketer", role=Role.MARKETER)


@pytest.fixture
def manager(db: None) -> User:
    return UserFactory(username="t_manager", role=Role.MANAGER)


@pytest.fixture
def manager2(db: None) -> User:
    return UserFactory(username="t_manager2", role=Role.MANAGER)


@pytest.fixture
def superuser(db: None) -> User:
    return UserFactory(username="t_root", is_superuser=True)


@pytest.fixture
def client_for() -> Callable[[User], Client]:
    """A test client logged in as the given user."""

    def make(user: User) -> Client:
        client = Client()
        client.force_login(user, backend=MODEL_BACKEND)
        return client

    return make


@pytest.fixture(params=list(Role))
def role_user(request: pytest.FixtureRequest, db: None) -> User:
    """One user per role, for tests parametrised over every role."""
    return UserFactory(username=f"t_role_{request.param.lower()}", role=request.param)
