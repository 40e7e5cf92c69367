"""Pytest fixtures for the fakes; import them into a conftest to use them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.gemini_server import FakeGemini


@pytest.fixture
def fake_gemini() -> Iterator[FakeGemini]:
    """Serve a fake Google generative API on a loopback port for one test."""
    server = FakeGemini().start()
    yield server
    server.stop()
