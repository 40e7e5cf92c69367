"""The embedded database comes back after a hard stop; the run command serves the whole site."""

import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from studio import embedded_db
from tests.workers import BASE_DIR

# What tests/settings.py puts in this process's environment for the suite; a run of the real
# command must not inherit it (it would share the suite's broker folder and media).
SUITE_ONLY = (
    "STUDIO_",
    "DJANGO_",
    "MEDIA_ROOT",
    "WORKER_",
    "GEMINI_",
    "DATABASE_URL",
    "CELERY_",
    "PORT",
)


def dead_pid() -> int:
    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


@pytest.fixture
def pgdata(tmp_path) -> Path:
    folder = tmp_path / "pgdata"
    folder.mkdir()
    return folder


@pytest.mark.parametrize(
    "content", ["", "[12, 3", "not json", '{"pid": 1}', "\x00\x00\x00"], ids=repr
)
def test_an_empty_or_corrupt_handle_file_reads_as_no_handles_and_is_rewritten(pgdata, content):
    # Given the handle file a killed writer left behind
    (pgdata / embedded_db.HANDLE_FILE).write_text(content)

    # When a start repairs it
    live = embedded_db.repair_handles(pgdata)

    # Then nobody holds the server, and the file is valid again
    assert live == []
    assert json.loads((pgdata / embedded_db.HANDLE_FILE).read_text()) == []


def test_handles_of_dead_processes_are_dropped_and_live_ones_kept(pgdata):
    gone = dead_pid()
    (pgdata / embedded_db.HANDLE_FILE).write_text(json.dumps([gone, os.getpid()]))

    live = embedded_db.repair_handles(pgdata)

    assert live == [os.getpid()]
    assert json.loads((pgdata / embedded_db.HANDLE_FILE).read_text()) == [os.getpid()]


def test_the_handle_list_is_replaced_in_one_step(pgdata):
    handles = embedded_db.HandleList(pgdata / embedded_db.HANDLE_FILE)
    (pgdata / embedded_db.HANDLE_FILE).write_text("")

    assert handles.get_and_add(41) == []
    assert handles.get_and_add(42) == [41]
    assert handles.get_and_remove(41) == [41, 42]

    assert json.loads(handles.path.read_text()) == [42]
    assert sorted(p.name for p in pgdata.iterdir()) == [embedded_db.HANDLE_FILE]


def test_a_postmaster_pid_naming_a_process_that_is_not_postgres_is_forgotten(pgdata):
    # Given a dead server's postmaster.pid whose pid now belongs to a live, unrelated process
    # (this test), and its socket lock file
    pid = os.getpid()
    (pgdata / "postmaster.pid").write_text(
        f"{pid}\n{pgdata}\n1764590000\n5432\n{pgdata}\n\n  2147010        39\nready   \n"
    )
    (pgdata / ".s.PGSQL.5432.lock").write_text(f"{pid}\n{pgdata}\n1764590000\n5432\n")

    # When a start checks it
    embedded_db.recover_postmaster(pgdata)

    # Then PostgreSQL will not mistake that process for a running server
    assert not (pgdata / "postmaster.pid").exists()
    assert not (pgdata / ".s.PGSQL.5432.lock").exists()
    assert not embedded_db.is_running(pgdata.parent)


def test_an_unreadable_postmaster_pid_of_no_server_is_forgotten(pgdata):
    (pgdata / "postmaster.pid").write_text("")

    embedded_db.recover_postmaster(pgdata)

    assert not (pgdata / "postmaster.pid").exists()


# --- The real thing: servers and the run command, in a state folder of their own ----------------


def clean_env(state_dir: Path, **extra: str) -> dict:
    base = {k: v for k, v in os.environ.items() if not k.startswith(SUITE_ONLY)}
    return {**base, "STUDIO_STATE_DIR": str(state_dir), **extra}


def manage(state_dir: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=clean_env(state_dir, DJANGO_SETTINGS_MODULE="studio.settings"),
        capture_output=True,
        text=True,
        timeout=180,
    )


@pytest.fixture
def state_dir():
    # Not under tmp_path: as root the server runs as another user, who must traverse the path,
    # and every pytest session that starts resets /tmp/pytest-of-<user> to owner-only.
    state = Path(tempfile.mkdtemp(prefix="studio-recovery-")) / "state"
    yield state
    # Leave no server and no data behind, whatever the test did.
    embedded_db.stop(state)
    shutil.rmtree(state.parent)


def test_embedded_db_stop_survives_an_empty_handle_file(state_dir):
    # Given a running server whose handle file a hard stop left empty
    assert manage(state_dir, "embedded_db", "status").returncode == 0
    (embedded_db.pgdata_dir(state_dir) / embedded_db.HANDLE_FILE).write_text("")

    # When it is stopped
    result = manage(state_dir, "embedded_db", "stop")

    # Then it stops, without a traceback
    assert result.returncode == 0, result.stderr
    assert "embedded PostgreSQL stopped" in result.stdout
    assert not embedded_db.is_running(state_dir)


def count_survivors(state_dir: Path) -> str:
    result = manage(
        state_dir,
        "shell",
        "--no-imports",
        "-c",
        "from django.contrib.auth.models import User; "
        "print(User.objects.filter(username='survivor').count())",
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_a_killed_server_whose_pid_was_reused_starts_again_with_its_data(state_dir):
    # Given a server holding a committed row
    assert manage(state_dir, "migrate", "--noinput", "auth").returncode == 0
    created = manage(
        state_dir,
        "shell",
        "--no-imports",
        "-c",
        "from django.contrib.auth.models import User; User.objects.create(username='survivor')",
    )
    assert created.returncode == 0, created.stderr
    pgdata = embedded_db.pgdata_dir(state_dir).resolve()

    # When the server is SIGKILLed and its pid now belongs to another, live process
    server = embedded_db.postmaster(pgdata)
    server.kill()
    server.wait(timeout=30)
    bystander = subprocess.Popen(["sleep", "120"])
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
        (pgdata / "postmaster.pid").write_text("\n".join([str(bystander.pid), *lines[1:]]) + "\n")

        # Then the next process to need the database starts it again, and the row is there
        assert count_survivors(state_dir) == "1"
        assert embedded_db.is_running(state_dir)
        assert bystander.poll() is None
    finally:
        bystander.kill()
        bystander.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_run_command(state_dir: Path, port: int, log: Path) -> subprocess.Popen:
    # A session of its own, as a terminal gives it: one signal to the group reaches everything.
    return subprocess.Popen(
        ["./scripts/run"],
        cwd=BASE_DIR,
        env=clean_env(state_dir, PORT=str(port), WORKER_CONCURRENCY="1"),
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def wait_healthy(port: int, run: subprocess.Popen, log: Path, timeout: float = 240) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if run.poll() is not None:
            pytest.fail(f"the run command exited with {run.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as answer:
                return json.loads(answer.read())
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            time.sleep(1)
    pytest.fail(f"/healthz never answered 200:\n{log.read_text()}")


def status_of(port: int, path: str, method: str = "GET") -> int:
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status
    except urllib.error.HTTPError as error:
        return error.code


def kill_group(run: subprocess.Popen) -> None:
    """Stop the way a crashed terminal or an OOM kill does: TERM to all, then KILL to all."""
    os.killpg(run.pid, signal.SIGTERM)
    time.sleep(0.5)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(run.pid, signal.SIGKILL)
    run.wait(timeout=30)


def test_the_run_command_comes_back_after_being_killed_with_its_data(state_dir, tmp_path):
    log = tmp_path / "run.log"
    port = free_port()
    run = start_run_command(state_dir, port, log)
    try:
        # Given a healthy run serving pages, static files, the API and MCP from one server
        assert wait_healthy(port, run, log) == {"status": "ok"}
        assert status_of(port, "/accounts/login/") == 200
        assert status_of(port, "/static/vendor/htmx/htmx.min.js") == 200
        assert status_of(port, "/api/v1/openapi.json") == 200
        assert status_of(port, "/mcp/", method="POST") == 401  # asks for a token: not a 404
        # and a row of our own in the database
        created = manage(
            state_dir,
            "shell",
            "--no-imports",
            "-c",
            "from django.contrib.auth.models import User; User.objects.create(username='survivor')",
        )
        assert created.returncode == 0, created.stderr

        # When the whole run command is killed at once, and the kill lands mid-write of the
        # handle file (empty, as the report found it)
        kill_group(run)
        handle_file = embedded_db.pgdata_dir(state_dir) / embedded_db.HANDLE_FILE
        handle_file.write_text("")

        # Then it starts again, healthy, with the row still there
        run = start_run_command(state_dir, port, log)
        assert wait_healthy(port, run, log) == {"status": "ok"}
        assert count_survivors(state_dir) == "1"

        # And Ctrl-C stops the server it adopted from the killed run
        os.killpg(run.pid, signal.SIGINT)
        run.wait(timeout=90)
        assert not embedded_db.is_running(state_dir), log.read_text()
    finally:
        if run.poll() is None:
            kill_group(run)
