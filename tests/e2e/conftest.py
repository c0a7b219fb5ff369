"""Browser tests: the real app served on 127.0.0.1, driven in Debian's headless Chromium by Playwright."""

import os
import shutil
import threading

import pytest
from playwright.sync_api import sync_playwright
from werkzeug.serving import make_server

from engine.config import Settings
from engine.services.context import open_context
from tests.conftest import IN_CI, FakeClock
from webapp import create_app

CHROMIUM = os.environ.get("SIGNOFF_CHROMIUM", "/usr/bin/chromium")
# Without these, Chromium's own background connections are refused by this machine's closed network.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def browser():
    if not shutil.which(CHROMIUM):
        if IN_CI:
            pytest.fail(f"CI=true but Chromium is not installed at {CHROMIUM} (.ci/run installs Debian's chromium)")
        pytest.skip(f"Chromium not installed at {CHROMIUM}")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context()
    yield context.new_page()
    context.close()


@pytest.fixture
def clock():
    return FakeClock()


@pytest.fixture
def live_ctx(tmp_path, clock):
    ctx = open_context(Settings(database_url=f"sqlite:///{tmp_path / 'e2e.db'}"), clock=clock)
    yield ctx
    ctx.db.dispose()


@pytest.fixture
def live_server(live_ctx):
    """The app (CSRF on, as in production) on a free port of 127.0.0.1; yields its base URL."""
    app = create_app(ctx=live_ctx)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture
def live_server_with_mailbox(live_ctx):
    """As live_server, with the development mailbox on (/dev/mailbox, as in `make demo`); yields its base URL."""
    app = create_app(ctx=live_ctx, config={"DEV_MAILBOX": True})
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


def watch_page(page, worst_status: int = 500) -> list[str]:
    """Collect what a page gets wrong while a test drives it: console errors, uncaught errors, CSP violations (as
    console errors) and responses of `worst_status` or worse; a test asserts the list is empty at the end."""
    page.route("**/favicon.ico", lambda route: route.fulfill(status=204))  # Chromium's own request, not the page's
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None)
    page.on("pageerror", lambda err: problems.append(f"page error: {err}"))
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= worst_status else None)
    page.add_init_script("document.addEventListener('securitypolicyviolation', (e) => "
                         "console.error('CSP violation: ' + e.violatedDirective + ' ' + e.blockedURI));")
    return problems


def log_in_staff(page, base_url: str, email: str, password: str) -> None:
    page.goto(f"{base_url}/login")
    page.get_by_label("E-mail").fill(email)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
