"""ASGI entry point: Django for the site, the MCP server's streamable HTTP transport at /mcp/.

Run it with an ASGI server, e.g. `uvicorn studio.asgi:application`; lifespan events go to the
MCP app (its session manager needs them), every other path to Django. docs/api.md says why.
"""

import os

from django.conf import settings
from django.core.asgi import get_asgi_application
from django.utils.module_loading import import_string

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "studio.settings")
django_application = get_asgi_application()

# The MCP server belongs to integrations; the core names it in settings rather than import it.
HTTP_PATH = settings.MCP_HTTP_PATH
mcp_application = import_string(settings.MCP_ASGI_APP)()


async def application(scope, receive, send) -> None:
    """Route /mcp/ and lifespan events to the MCP app, everything else to Django."""
    path = scope.get("path", "")
    if scope["type"] == "lifespan" or path == HTTP_PATH.rstrip("/") or path.startswith(HTTP_PATH):
        await mcp_application(scope, receive, send)
    else:
        await django_application(scope, receive, send)
