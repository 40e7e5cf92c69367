"""Settings for the test suite: the project's settings with a private broker folder and media.

The embedded PostgreSQL is shared with the development server (pytest-django creates its own
test database on it), but the broker folder is not: a running development worker must never
consume the suite's messages.
"""

import os
from pathlib import Path

_STATE = Path(__file__).resolve().parent.parent / ".studio"
os.environ.setdefault("STUDIO_BROKER_DIR", str(_STATE / "test-broker"))
os.environ.setdefault("MEDIA_ROOT", str(_STATE / "test-media"))
os.environ.setdefault("WORKER_HEARTBEAT_SECONDS", "1")
os.environ.setdefault("WORKER_STALE_AFTER_SECONDS", "3")
# The fake Gemini server answers instantly; real backoff delays would only slow the suite.
os.environ.setdefault("GEMINI_HTTP_RETRY_INITIAL_S", "0.05")
# Playwright's sync API runs an event loop in the test thread; the ORM calls around it are sync.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

from studio.settings import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]

# The suite's webhook receivers listen on loopback, which deliveries refuse by default; tests
# that use them allow it explicitly, and pass this variable to worker processes they start.
WEBHOOK_ALLOW_PRIVATE_TARGETS = os.environ.get("STUDIO_TEST_WEBHOOK_PRIVATE_TARGETS") == "1"
