from tests.fakes.fixtures import fake_gemini  # noqa: F401
