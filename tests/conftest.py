"""Role fixtures built from the real groups of the data migration.

Permission tests run as these users, never as a superuser: a superuser client
hides scoping bugs.
"""

from collections.abc import Callable, Iterator

import pytest
from django.contrib.auth.models import Group, User
from django.db import connections
from django.test import Client
from django.utils import translation
from pytest_django.plugin import blocking_manager_key

from crm_models.roles import Role
from tests.factories import UserFactory

MODEL_BACKEND = "django.contrib.auth.backends.ModelBackend"


@pytest.fixture(autouse=True)
def _default_language_after_each_test() -> Iterator[None]:
    """A request in Russian leaves Russian active in the thread (LocaleMiddleware
    activates a language per request and nothing resets it); the next test of
    the same worker would then see Russian messages."""
    yield
    translation.deactivate()


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
def operator_manager(db: None) -> User:
    """A user with both the operator and the manager role."""
    user = UserFactory(username="t_operator_manager", role=Role.OPERATOR)
    user.groups.add(Group.objects.get(name=Role.MANAGER))
    return user


@pytest.fixture
def scoped_users(
    operator: User,
    operator2: User,
    manager: User,
    manager2: User,
    operator_manager: User,
    administrator: User,
) -> dict[str, User]:
    """Every kind of scope, by name: two operators, two managers, a user with
    both roles and an administrator."""
    return {
        "operator": operator,
        "operator2": operator2,
        "manager": manager,
        "manager2": manager2,
        "operator_manager": operator_manager,
        "administrator": administrator,
    }


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


_RESTORE_AFTER_FLUSH = pytest.StashKey[bool]()


@pytest.fixture
def database_restored_after_flush(request: pytest.FixtureRequest) -> None:
    """For a `django_db(transaction=True, serialized_rollback=True)` test.

    Such a test ends by flushing every table, the data migration's roles,
    permissions and content types included, and Django puts them back only at
    the start of the next serialized test. This puts them back at once, so the
    tests that follow on this worker, and the next --reuse-db run, find the
    database as the migrations left it."""
    request.node.stash[_RESTORE_AFTER_FLUSH] = True


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    try:
        return (yield)
    finally:
        if item.stash.get(_RESTORE_AFTER_FLUSH, False):
            with item.config.stash[blocking_manager_key].unblock():
                for alias in connections:
                    contents = getattr(connections[alias], "_test_serialized_contents", None)
                    if contents:
                        connections[alias].creation.deserialize_db_from_string(contents)
