import pytest
from django.core.exceptions import ImproperlyConfigured
from django.db import connection

from studio import signals
from studio.signals import parse_version


@pytest.mark.django_db
def test_the_database_is_postgresql_with_pgvector_at_least_0_8_3():
    with connection.cursor() as cursor:
        cursor.execute("SELECT extversion FROM pg_extension WHERE extname = 'vector'")
        (version,) = cursor.fetchone()
        cursor.execute("SELECT '[1,2,3]'::vector <=> '[1,2,4]'::vector")
        (distance,) = cursor.fetchone()
    assert connection.vendor == "postgresql"
    assert parse_version(version) >= (0, 8, 3)
    assert 0 < distance < 0.01


@pytest.mark.django_db
def test_startup_guard_refuses_a_pgvector_older_than_required(settings, monkeypatch):
    settings.MIN_PGVECTOR_VERSION = (99, 0, 0)
    monkeypatch.setattr(signals, "_pgvector_checked", False)
    with pytest.raises(ImproperlyConfigured, match=r"too old; Studio needs >= 99\.0\.0"):
        signals.require_pgvector(sender=None, connection=connection)


def test_versions_compare_numerically():
    assert parse_version("0.10.0") > parse_version("0.8.3") > parse_version("0.8.2")
