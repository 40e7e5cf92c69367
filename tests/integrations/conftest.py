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


@pytest.fixture
def call_tool(token_for, monkeypatch):
    """Return a function calling an MCP tool in-process as a user; (True, result) or (False, error).

    It runs the tool's own function with a context outside any HTTP request, so the tool takes
    its token the stdio way, in the test's transaction (the SDK sessions in test_mcp.py run the
    same functions in a server process).
    """
    from types import SimpleNamespace

    from mcp.server.mcpserver import Context
    from mcp.server.mcpserver.exceptions import ToolError

    from integrations import mcp_server

    # Like Django's test client, keep the test's connection (and its transaction) open.
    monkeypatch.setattr(mcp_server, "close_old_connections", lambda: None)

    def call(user, name: str, **arguments):
        monkeypatch.setitem(mcp_server.STDIO_TOKEN, "secret", token_for(user))
        context = Context(
            request_context=SimpleNamespace(request=None), mcp_server=mcp_server.server
        )
        tool = mcp_server.server._tool_manager.get_tool(name)
        try:
            return True, tool.fn(**arguments, ctx=context)
        except ToolError as refused:
            return False, str(refused)

    return call
