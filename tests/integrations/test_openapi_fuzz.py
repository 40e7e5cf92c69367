"""Schemathesis against the API's OpenAPI schema: no generated input may cause a server error."""

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.config import SchemathesisConfig

from integrations.api import api
from tests.factories.review import board_brief
from tests.factories.users import director, producer

# Examples per operation: enough to reach every parameter's edge cases, well under a minute.
EXAMPLES = 20

# Schema-valid input may still break a domain rule the schema cannot express (a timecode past the
# take's end, a reference from another IP): that is a 400, not a rejected valid request. Unknown
# query parameters are ignored, as most APIs do, rather than refused.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {"expected-statuses": [200, 201, 400, 403, 404, 409]},
            "negative_data_rejection": {"enabled": False},
        }
    }
)
schema = schemathesis.openapi.from_dict(api.get_openapi_schema(), config=CONFIG)
schema.app = get_wsgi_application()


@pytest.fixture
def tokens(db, token_for, settings):
    """A producer's and a director's tokens over a brief in review, no rate limit in the way."""
    settings.API_RATE_LIMIT = 1_000_000
    owner = producer()
    board_brief(shots=2, producer=owner)
    # As Django's test client does: keep the test's connection (and its transaction) open.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield {
        "producer": {"Authorization": f"Bearer {token_for(owner)}"},
        "director": {"Authorization": f"Bearer {token_for(director())}"},
    }
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
def test_no_generated_request_causes_a_server_error(case, tokens):
    # Producers submit briefs; directors reach every other operation's deepest path.
    submits = case.method == "POST" and case.path == "/api/v1/briefs"
    case.call_and_validate(headers=tokens["producer" if submits else "director"])
