"""Browser tests: Debian's headless Chromium, driven by Playwright, against the live server.

One browser per session; every test gets fresh contexts (cookies, storage) from ``new_context``.
The browser is never downloaded: without /usr/bin/chromium the tests fail, they do not skip.
"""

import contextlib
import os
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

# Playwright's sync API runs an event loop in the test thread; Django's ORM would
# otherwise refuse synchronous queries from it (fixtures, database assertions).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

from playwright.sync_api import sync_playwright  # noqa: E402

CHROMIUM = Path("/usr/bin/chromium")
# The machine has no internet: without these Chromium stalls on network services.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 10_000
MISSING_CHROMIUM = (
    f"{CHROMIUM} is missing. The browser tests use Debian's Chromium and never download one: "
    "install it with `make system` (apt-get install chromium fonts-wqy-microhei)."
)


def results_dir(config) -> Path:
    path = config.rootpath / "test-results"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(MISSING_CHROMIUM, pytrace=False)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True, timeout=30_000
        )
        yield browser
        browser.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


def session_cookie_for(user) -> str:
    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


@pytest.fixture
def new_context(request, browser, live_server, transactional_db):
    """``new_context(user=None, locale="en-US", **options)``: a fresh browser context.

    With ``user`` it starts signed in (a session cookie made with force_login); the
    login form itself is covered by its own test. Pages of a failed test are saved
    as screenshots in test-results/failures/.
    """
    contexts = []

    def make(user=None, *, locale="en-US", **options):
        context = browser.new_context(base_url=live_server.url, locale=locale, **options)
        context.set_default_timeout(TIMEOUT_MS)
        context.set_default_navigation_timeout(TIMEOUT_MS)
        if user is not None:
            context.add_cookies(
                [
                    {
                        "name": settings.SESSION_COOKIE_NAME,
                        "value": session_cookie_for(user),
                        "url": live_server.url,
                    }
                ]
            )
        contexts.append(context)
        return context

    yield make

    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        folder = results_dir(request.config) / "failures"
        folder.mkdir(exist_ok=True)
        name = re.sub(r"[^\w.-]+", "_", request.node.name)
        for i, context in enumerate(contexts):
            for j, page in enumerate(context.pages):
                # A failed screenshot must not hide the test's own failure.
                with contextlib.suppress(Exception):
                    page.screenshot(path=str(folder / f"{name}-{i}-{j}.png"), full_page=True)
    for context in contexts:
        context.close()


@pytest.fixture
def page_for(new_context):
    """``page_for(user, **context_options)``: a new page in a new, signed-in context."""

    def make(user=None, **options):
        return new_context(user, **options).new_page()

    return make
