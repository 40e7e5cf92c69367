import pytest

from integrations.tokens import token_create


@pytest.fixture
def token_for():
    """Return a function creating an API token for a user and giving back its secret."""

    def make(user, **kwargs) -> str:
        _, secret = token_create(user=user, name=kwargs.pop("name", "test"), **kwargs)
        return secret

    return make


@pytest.fixture
def auth(token_for):
    """Return a function giving the Authorization header for a user's fresh token."""

    def headers(user) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(user)}"}

    return headers
