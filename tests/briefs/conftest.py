import pytest

from tests.fakes.fixtures import fake_gemini  # noqa: F401


@pytest.fixture
def local_ai(db, settings, tmp_path):
    """Run the pipeline on the local providers, rendering into the test's own folder."""
    settings.AI_PROVIDER = "local"
    settings.AI_FAULTS = {}
    settings.LOCAL_OPS_DIR = tmp_path / "ops"
    return settings
