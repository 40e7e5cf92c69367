"""Studio's versioned JSON API (django-ninja), mounted at /api/v1/ with its OpenAPI schema."""

from integrations.api.routes import api

__all__ = ["api"]
