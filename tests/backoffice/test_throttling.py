"""Login throttling (django-axes): lockout by username and IP with a cool-off,
correct behind a reverse proxy, not bypassed by a forged X-Forwarded-For."""

import pytest
from django.contrib.auth.models import User
from django.test import Client, override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db

LOGIN = reverse("admin:login")


def attempt(client: Client, username: str, password: str, **headers: str) -> int:
    response = client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"}, **headers)
    return response.status_code


@pytest.fixture
def victim(operator: User) -> User:
    operator.set_password("right-password")
    operator.save()
    return operator


def fail_five_times(client: Client, username: str, **headers: str) -> None:
    codes = [attempt(client, username, "wrong", **headers) for _ in range(5)]
    # The fifth failure is the one that locks the account out.
    assert codes == [200, 200, 200, 200, 429]


def test_locked_out_after_five_failures_even_with_the_right_password(victim: User) -> None:
    client = Client(REMOTE_ADDR="203.0.113.5")
    fail_five_times(client, victim.username)

    assert attempt(client, victim.username, "right-password") == 429


def test_lockout_is_per_username_and_address(victim: User, marketer: User) -> None:
    marketer.set_password("other-password")
    marketer.save()
    fail_five_times(Client(REMOTE_ADDR="203.0.113.5"), victim.username)

    assert attempt(Client(REMOTE_ADDR="198.51.100.7"), victim.username, "right-password") == 302
    assert attempt(Client(REMOTE_ADDR="203.0.113.5"), marketer.username, "other-password") == 302


def test_forged_forwarded_for_does_not_bypass_the_lockout(victim: User) -> None:
    client = Client(REMOTE_ADDR="203.0.113.5")
    for number in range(5):
        attempt(client, victim.username, "wrong", HTTP_X_FORWARDED_FOR=f"10.0.0.{number}")

    assert attempt(client, victim.username, "right-password", HTTP_X_FORWARDED_FOR="10.9.9.9") == 429


@override_settings(AXES_IPWARE_META_PRECEDENCE_ORDER=["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"])
def test_behind_a_proxy_the_client_address_decides_not_the_proxys(victim: User) -> None:
    proxy = Client(REMOTE_ADDR="10.0.0.1")
    fail_five_times(proxy, victim.username, HTTP_X_FORWARDED_FOR="203.0.113.5")

    # Another client through the same proxy is not locked out...
    assert attempt(proxy, victim.username, "right-password", HTTP_X_FORWARDED_FOR="198.51.100.7") == 302
    # ...and the locked client cannot escape by prepending a forged address:
    # the proxy appends the real one, which is what counts.
    forged = "198.51.100.99, 203.0.113.5"
    assert attempt(proxy, victim.username, "right-password", HTTP_X_FORWARDED_FOR=forged) == 429
