import os
import subprocess
import sys

import pytest
from django.conf import settings

from tests.workers import BASE_DIR, current_database_url

PRODUCTION_ENV = {
    "STUDIO_ENV": "production",
    "DJANGO_SECRET_KEY": "x7!k2Lq9#vRz4Pw8@mYt6Hs3&cNb5Jd1Fg0Ae-Uo_Wi+Xr=Ql^Sv*Tz%Ky$Mp",
    "ALLOWED_HOSTS": "studio.example.com",
    "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
}


def run_manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("STUDIO_", "DJANGO_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**base, "DJANGO_SETTINGS_MODULE": "studio.settings", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.django_db
def test_production_profile_passes_the_deploy_check():
    result = run_manage(
        "check", "--deploy", "--fail-level", "WARNING",
        env={**PRODUCTION_ENV, "DATABASE_URL": current_database_url()},
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


@pytest.mark.parametrize("missing", ["DJANGO_SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
@pytest.mark.django_db
def test_production_profile_refuses_to_start_without_its_secrets(missing):
    env = {**PRODUCTION_ENV, "DATABASE_URL": current_database_url()}
    env.pop(missing)
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} must be set when STUDIO_ENV=production" in result.stderr


@pytest.mark.django_db
def test_production_profile_refuses_debug():
    # Given an otherwise complete production environment that also turns debug on
    env = {**PRODUCTION_ENV, "DATABASE_URL": current_database_url(), "DJANGO_DEBUG": "true"}

    # When Django starts
    result = run_manage("check", env=env)

    # Then it refuses, and says why
    assert result.returncode != 0
    assert "ImproperlyConfigured: DJANGO_DEBUG=true is refused when STUDIO_ENV=production" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DJANGO_DEBUG", "perhaps", "DJANGO_DEBUG='perhaps' is not a boolean"),
        ("PIPELINE_LEASE_SECONDS", "5m", "PIPELINE_LEASE_SECONDS='5m' is not an integer"),
        (
            "PIPELINE_MIN_CRITIC_SCORE",
            "far",
            "PIPELINE_MIN_CRITIC_SCORE='far' is not a number",
        ),
    ],
)
def test_a_malformed_setting_is_a_clear_configuration_error(name, value, message):
    result = run_manage("check", env={name: value})
    assert result.returncode != 0
    assert message in result.stderr


def test_development_defaults_use_the_embedded_database_and_folder_broker():
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql"
    assert settings.CELERY_BROKER_URL == "filesystem://"
    assert settings.CELERY_TASK_ACKS_LATE and settings.CELERY_TASK_REJECT_ON_WORKER_LOST
    assert settings.CELERY_WORKER_PREFETCH_MULTIPLIER == 1
