"""A Content-Security-Policy on every answer (issue 18): nothing from another
host, no plugins, no <base>, no framing, forms post only here, and no inline
script without the request's nonce."""

import pytest
from django.contrib.auth.models import User
from django.template import engines
from django.test import Client, RequestFactory

pytestmark = pytest.mark.django_db

EXPECTED = {
    "default-src": "'self'",
    "style-src": "'self' 'unsafe-inline'",
    "img-src": "'self' data:",
    "font-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'self'",
    "frame-ancestors": "'none'",
    "form-action": "'self'",
}


def directives(header: str) -> dict[str, str]:
    return dict(part.strip().split(" ", 1) for part in header.split(";") if part.strip())


@pytest.mark.parametrize(
    ("url", "status"),
    [("/admin/login/", 200), ("/admin/", 302), ("/no-such-page/", 404), ("/admin/charts/chart_csv/x/", 302)],
)
def test_anonymous_answers_carry_the_policy(client: Client, url: str, status: int) -> None:
    response = client.get(url)

    assert response.status_code == status
    policy = directives(response["Content-Security-Policy"])
    assert {name: policy[name] for name in EXPECTED} == EXPECTED
    assert policy["script-src"] == "'self' 'unsafe-eval'"


@pytest.mark.parametrize("url", ["/admin/", "/admin/crm_models/lead/", "/admin/dashboards/campaign-metrics/"])
def test_staff_pages_carry_the_policy(marketer: User, client_for, url: str) -> None:
    response = client_for(marketer).get(url)

    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert {name: policy[name] for name in EXPECTED} == EXPECTED
    assert "'unsafe-inline'" not in policy["script-src"]


def test_an_inline_script_with_the_request_nonce_is_allowed_by_the_header() -> None:
    from csp.middleware import CSPMiddleware
    from django.http import HttpResponse

    request = RequestFactory().get("/")
    middleware = CSPMiddleware(lambda request: HttpResponse())
    middleware.process_request(request)
    html = (
        engines["django"]
        .from_string('<script nonce="{{ request.csp_nonce }}"></script>')
        .render({"request": request})
    )
    response = middleware.process_response(request, HttpResponse(html))

    nonce = html.split('nonce="')[1].split('"')[0]
    assert f"'nonce-{nonce}'" in directives(response["Content-Security-Policy"])["script-src"]
