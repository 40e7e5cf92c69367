import os
import shutil
from pathlib import Path

import pytest
from django.conf import settings

from integrations.tokens import token_create
from studio.celery import app as celery_app
from studio.celery import create_folder_broker
from tests.workers import ARTIFACTS, WorkerProcess

_skipped: list[str] = []


def pytest_runtest_logreport(report) -> None:
    if report.skipped:
        _skipped.append(report.nodeid)


def pytest_sessionfinish(session, exitstatus) -> None:
    # A skipped test hides a missing dependency; the suite treats it as a failure.
    if _skipped and exitstatus == 0:
        session.exitstatus = 1


def pytest_terminal_summary(terminalreporter) -> None:
    if _skipped:
        terminalreporter.write_line(
            f"FAILED: {len(_skipped)} test(s) were skipped; Studio's suite allows no skips.",
            red=True,
        )


@pytest.fixture(scope="session", autouse=True)
def clean_test_state():
    """Start every session with an empty broker folder and media root."""
    shutil.rmtree(settings.BROKER_DIR, ignore_errors=True)
    shutil.rmtree(settings.MEDIA_ROOT, ignore_errors=True)
    Path(settings.MEDIA_ROOT).mkdir(parents=True)
    create_folder_broker(celery_app)
    ARTIFACTS.mkdir(exist_ok=True)


@pytest.fixture
def start_worker(transactional_db):
    """Start real Celery workers against the test database; stop them after the test."""
    # Earlier tests' commits sent tasks (continuity checks, webhooks) that no worker took; their
    # rows are gone, and a worker made slow on purpose must not spend the test on them.
    celery_app.control.purge()
    started: list[WorkerProcess] = []

    def start(**kwargs) -> WorkerProcess:
        worker = WorkerProcess(**kwargs)
        started.append(worker)
        worker.wait_for_heartbeat()
        return worker

    yield start
    for worker in started:
        worker.stop()


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
    if not Path(path).exists():
        pytest.fail(f"Chromium not found at {path}: run ./scripts/test or set CHROMIUM_PATH.")
    return path


@pytest.fixture(scope="session")
def browser(chromium_path):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=chromium_path,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 800})
    page = context.new_page()
    page.set_default_timeout(15000)
    yield page
    context.close()


@pytest.fixture
def token_for():
    """Return a function creating an API token for a user and giving back its secret."""

    def make(user, **kwargs) -> str:
        _, secret = token_create(user=user, name=kwargs.pop("name", "test"), **kwargs)
        return secret

    return make


@pytest.fixture
def auth(token_for):
    """Return a function giving the Authorization header for a user's fresh token."""

    def headers(user) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(user)}"}

    return headers


@pytest.fixture
def call_tool(token_for, monkeypatch):
    """Return a function calling an MCP tool in-process as a user (None: no token).

    It answers (True, result) or (False, the refusal's message).

    It runs the tool's own function with a context outside any HTTP request, so the tool takes
    its token the stdio way, in the test's transaction (the SDK sessions in test_mcp.py run the
    same functions in a server process).
    """
    from types import SimpleNamespace

    from mcp.server.mcpserver import Context
    from mcp.server.mcpserver.exceptions import ToolError

    from integrations import mcp_server

    # Like Django's test client, keep the test's connection (and its transaction) open.
    monkeypatch.setattr(mcp_server, "close_old_connections", lambda: None)

    def call(user, name: str, **arguments):
        secret = token_for(user) if user is not None else ""
        monkeypatch.setitem(mcp_server.STDIO_TOKEN, "secret", secret)
        context = Context(
            request_context=SimpleNamespace(request=None), mcp_server=mcp_server.server
        )
        tool = mcp_server.server._tool_manager.get_tool(name)
        try:
            return True, tool.fn(**arguments, ctx=context)
        except ToolError as refused:
            return False, str(refused)

    return call
