"""End-to-end tests in a real Chromium (Debian's package), driven by Playwright.

Each xdist worker starts its own live server (pytest-django's `live_server`,
which serves static files through the staticfiles finders, so nothing needs
`collectstatic`) on a free port of 127.0.0.1, and its own headless browser.
Every test gets a fresh browser context (no cookies, no storage) on a freshly
flushed test database filled by the `demo_data` command.

A test fails on any JavaScript error (console `error` or uncaught exception),
on any Content-Security-Policy violation (the page's `securitypolicyviolation`
events, reported through the console) and on any request to a host other than
the live server: the admin must work offline, with no CDN fonts, scripts or
styles, and within its CSP.
"""

import os
import re
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType
from django.core.management import call_command
from django.db import connection
from playwright.sync_api import Browser, ConsoleMessage, Page, Request, Response, expect, sync_playwright
from playwright.sync_api import TimeoutError as PlaywrightTimeoutError
from pytest_django import DjangoDbBlocker
from pytest_django.live_server_helper import LiveServer
from pytest_django.plugin import blocking_manager_key

ASYNC_UNSAFE = "DJANGO_ALLOW_ASYNC_UNSAFE"
# 127.0.0.1 rather than "localhost": the browser must not try ::1 first.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

CHROMIUM = Path(os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",  # CI runs as root
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # Any other host fails at once (the request is still seen and reported):
    # a CDN reference must fail the test, not hang it.
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
DEMO_PASSWORD = "demo"
DEMO_LEADS = 60
# Generous: CI runs on a shared 2-core machine where a page (the dashboard after
# login, with its charts) once took longer than 15 s under load.
TIMEOUT_MS = 30_000
# Screenshots land in docs/screenshots/ when E2E_SCREENSHOTS=1 (the README's
# images come from such a run); otherwise in pytest's temporary directory, so a
# plain test run does not rewrite committed files.
SCREENSHOTS_DIR = Path(__file__).resolve().parents[2] / "docs" / "screenshots"

ALLOWED_SCHEMES = {"data", "blob", "about"}
# Runs in every document before its own scripts (Playwright injects it outside
# the page's CSP): each violation becomes a console error with its details.
CSP_VIOLATION_REPORTER = """
document.addEventListener("securitypolicyviolation", (event) => {
    console.error(`CSP violation: ${event.violatedDirective} blocked ${event.blockedURI || "inline"}`
        + ` at ${event.sourceFile}:${event.lineNumber} (${event.sample})`);
});
"""


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if CHROMIUM.exists() or not any("browser" in item.keywords for item in items):
        return
    if os.environ.get("E2E_REQUIRE_BROWSER") == "1":
        # CI sets this: there a missing browser is a failure, not a reason to skip.
        raise pytest.UsageError(f"E2E_REQUIRE_BROWSER=1 but Chromium is not at {CHROMIUM}")
    skip = pytest.mark.skip(
        reason=f"Chromium not found at {CHROMIUM}: `apt-get install chromium` (or set E2E_CHROMIUM) "
        "to run the browser tests"
    )
    for item in items:
        if "browser" in item.keywords:
            item.add_marker(skip)


# Waits for what a page shows (expect) as long as for actions: a loaded CI
# machine draws charts slowly, and a wait only costs time when it fails.
expect.set_options(timeout=TIMEOUT_MS)


@pytest.fixture(scope="module")
def chromium() -> Iterator[Browser]:
    """One headless Chromium per test module (and xdist worker).

    While Playwright's sync API runs, an asyncio loop counts as running in this
    thread, and Django refuses ORM calls from the (synchronous) test code with
    SynchronousOnlyOperation. The check is switched off for exactly that time:
    per module, not per session, so that no later test of the worker runs with
    it off or with the loop still around (`check --deploy` in a subprocess
    refuses the variable).
    """
    previous = os.environ.get(ASYNC_UNSAFE)
    os.environ[ASYNC_UNSAFE] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            yield browser
            browser.close()
    finally:
        if previous is None:
            os.environ.pop(ASYNC_UNSAFE, None)
        else:
            os.environ[ASYNC_UNSAFE] = previous


MIGRATED_DATA_KEY = pytest.StashKey[str]()


@pytest.fixture(scope="session")
def migrated_data(
    request: pytest.FixtureRequest, django_db_setup: None, django_db_blocker: DjangoDbBlocker
) -> str:
    """The rows the data migrations made (roles, permissions, chart definitions), as JSON.

    A live-server test must be transactional, and a transactional test ends by
    flushing every table, data migrations' rows included. Taken before the first
    flush, this snapshot puts them back (see `restore_migrated_data`).
    Django's own `serialized_rollback` cannot: once Playwright's loop runs,
    the test code gets another connection object than the one Django stored
    the serialized contents on, so the flush runs post_migrate and nothing is
    restored.
    """
    with django_db_blocker.unblock():
        if not Group.objects.exists():
            pytest.fail("The test database has no roles (groups): run once with --create-db.")
        data = connection.creation.serialize_db_to_string()
    request.config.stash[MIGRATED_DATA_KEY] = data
    return data


def restore_migrated_data(data: str) -> None:
    # The flush's post_migrate signal made content types and permissions anew,
    # under other ids: drop them so the snapshot's ids and relations come back.
    ContentType.objects.all().delete()
    ContentType.objects.clear_cache()
    connection.creation.deserialize_db_from_string(data)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    try:
        return (yield)
    finally:
        # After the flush: the tests that run next on this worker, and the next
        # --reuse-db run, find the database as the migrations left it.
        data = item.config.stash.get(MIGRATED_DATA_KEY, None)
        if data is not None and "demo" in getattr(item, "fixturenames", ()):
            with item.config.stash[blocking_manager_key].unblock():
                restore_migrated_data(data)


# Every browser test is marked with this: a live server needs a transactional test.
BROWSER_DB = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo(migrated_data: str, transactional_db: None) -> None:
    """The demo data set: roles' logins (password `demo`), services, campaigns, leads."""
    if not Group.objects.exists():  # flushed by another transactional test
        restore_migrated_data(migrated_data)
    call_command("demo_data", leads=DEMO_LEADS, stdout=StringIO())


@dataclass
class BrowserProblems:
    """What went wrong in the browser while a test ran, beyond its own asserts."""

    server: str
    js_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    expected_errors: list[re.Pattern[str]] = field(default_factory=list)

    def expect_console_error(self, pattern: str) -> None:
        """Allow console errors matching pattern (e.g. the browser's note on an expected 404)."""
        self.expected_errors.append(re.compile(pattern))

    def on_console(self, message: ConsoleMessage) -> None:
        if message.type != "error":
            return
        text = f"{message.text} (at {message.location.get('url', '?')})"
        if any(pattern.search(text) for pattern in self.expected_errors):
            return
        self.js_errors.append(text)

    def on_page_error(self, error: Exception) -> None:
        self.js_errors.append(f"uncaught: {error}")

    def on_request(self, request: Request) -> None:
        if not self.is_local(request.url):
            self.foreign_requests.append(request.url)

    def is_local(self, url: str) -> bool:
        parts = urlsplit(url)
        if parts.scheme in ALLOWED_SCHEMES:
            return True
        return f"{parts.scheme}://{parts.netloc}" == self.server


@pytest.fixture
def browser_problems(live_server: LiveServer) -> BrowserProblems:
    return BrowserProblems(server=live_server.url)


@pytest.fixture
def page(
    chromium: Browser,
    live_server: LiveServer,
    demo: None,
    browser_problems: BrowserProblems,
) -> Iterator[Page]:
    context = chromium.new_context(
        base_url=live_server.url,
        viewport={"width": 1440, "height": 900},
        locale="en-US",
        timezone_id="Europe/Moscow",
        accept_downloads=True,
    )
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script(CSP_VIOLATION_REPORTER)
    problems = browser_problems
    # Listened to, not routed: routing would switch off the browser's cache.
    context.on("request", problems.on_request)
    page = context.new_page()
    page.on("console", problems.on_console)
    page.on("pageerror", problems.on_page_error)
    yield page
    context.close()
    assert not problems.foreign_requests, f"requests to other hosts: {problems.foreign_requests}"
    assert not problems.js_errors, f"JavaScript errors: {problems.js_errors}"


def submit_login_form(page: Page, username: str) -> Response | None:
    """The answer to the login form's POST; None if none came within the timeout."""
    page.goto("/admin/login/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", DEMO_PASSWORD)
    try:
        with page.expect_response(
            lambda response: (
                response.request.method == "POST" and urlsplit(response.url).path == "/admin/login/"
            )
        ) as posted:
            page.click("form#login-form [type=submit]")
    except PlaywrightTimeoutError:
        return None
    return posted.value


@pytest.fixture
def login(page: Page) -> Callable[[str], Page]:
    """Log in through the admin's login form, as a person does."""

    def log_in(username: str) -> Page:
        response = submit_login_form(page, username)
        if response is None:
            # Seen on these 2-core machines in about one full run in six, always
            # on a module's first login (a freshly launched browser): after
            # the form's submit the browser saw no navigation at all within
            # the timeout, while PostgreSQL logged no lock wait and the same
            # login through gunicorn (bench/loadtest.py) answered every
            # request. One more try from a logged-out state, said in the
            # warnings summary; a login that answers wrongly, or twice not at
            # all, still fails.
            warnings.warn(
                f"e2e: the login POST as {username} got no response; submitting the form again",
                UserWarning,
                stacklevel=2,
            )
            page.context.clear_cookies()
            response = submit_login_form(page, username)
            assert response is not None, f"the login POST as {username} got no response, twice"
        assert response.status == 302, (response.status, response.url)
        # Operators and managers land on "My day", the others on the dashboard.
        page.wait_for_url(re.compile(r"/admin/(my-day/)?$"))
        return page

    return log_in


@pytest.fixture
def screenshot(page: Page, tmp_path: Path) -> Callable[[str], Path]:
    """Save a screenshot of the current page under a stable name."""
    directory = SCREENSHOTS_DIR if os.environ.get("E2E_SCREENSHOTS") == "1" else tmp_path

    def save(name: str, *, full_page: bool = False) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / f"{name}.png"
        page.screenshot(path=str(path), full_page=full_page, animations="disabled")
        return path

    return save


def status_of(page: Page, url: str) -> int:
    """Open url in the page and return the HTTP status of the document."""
    response = page.goto(url)
    assert response is not None, f"no response for {url}"
    return response.status


def pick_autocomplete(page: Page, field: str, term: str) -> str:
    """Choose the first match of a select2 autocomplete as a person does; returns its text."""
    page.locator(f"#id_{field} + .select2 .select2-selection").click()
    page.locator(".select2-container--open .select2-search__field").fill(term)
    option = page.locator(".select2-results__option:not(.loading-results)").filter(has_text=term).first
    text = option.inner_text()
    option.click()
    return text
