"""ASGI entry point: Django for the site, the MCP server's streamable HTTP transport at /mcp/.

Run it with an ASGI server, e.g. `uvicorn studio.asgi:application`; lifespan events go to the
MCP app (its session manager needs them), every other path to Django. docs/api.md says why.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
django_application = get_asgi_application()

from studio.mcp_server import HTTP_PATH, http_app  # noqa: E402  (needs Django set up first)

mcp_application = http_app()


async def application(scope, receive, send) -> None:
    """Route /mcp/ and lifespan events to the MCP app, everything else to Django."""
    path = scope.get("path", "")
    if scope["type"] == "lifespan" or path == HTTP_PATH.rstrip("/") or path.startswith(HTTP_PATH):
        await mcp_application(scope, receive, send)
    else:
        await django_application(scope, receive, send)
