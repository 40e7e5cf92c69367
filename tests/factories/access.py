"""A small world for access tests: one user per role, and objects the first producer owns."""

from dataclasses import dataclass
from typing import Any

from briefs.models import Brief, Take
from integrations.models import ApiToken
from integrations.tokens import token_create
from reliability.models import AutonomyPolicy
from retrieval.models import IP, Asset
from review import services
from tests.factories.reliability import PolicyFactory
from tests.factories.review import board_brief
from tests.factories.users import (
    catalog_admin,
    director,
    lead_director,
    producer,
    superuser,
)

ROLES = (
    "anonymous",
    "producer",
    "second producer",
    "director",
    "lead director",
    "catalog admin",
    "superuser",
)


@dataclass(frozen=True)
class World:
    """Every role's user (None for anonymous) and the first producer's brief in review."""

    users: dict[str, Any]
    brief: Brief
    approved: Take  # shot 1's take, approved by the director
    ready: Take  # shot 2's take, waiting for review
    asset: Asset  # a reference both takes used
    ip: IP
    policy: AutonomyPolicy
    token: ApiToken  # the first producer's


def access_world() -> World:
    """Create one user per role and a two-shot brief owned by the first producer."""
    users = {
        "anonymous": None,
        "producer": producer(username="first-producer"),
        "second producer": producer(username="second-producer"),
        "director": director(username="plain-director"),
        "lead director": lead_director(username="lead-director"),
        "catalog admin": catalog_admin(username="catalog-admin"),
        "superuser": superuser(username="root"),
    }
    brief = board_brief(shots=2, producer=users["producer"], title="First producer's teaser")
    approved, ready = Take.objects.filter(shot__brief=brief).order_by("shot__order")
    services.decide(take=approved, user=users["director"], verdict="approved", expected_version=1)
    approved.refresh_from_db()
    return World(
        users=users,
        brief=brief,
        approved=approved,
        ready=ready,
        asset=approved.references.first(),
        ip=brief.ip,
        policy=PolicyFactory(mode=AutonomyPolicy.Mode.SHADOW),
        token=token_create(user=users["producer"], name="revocable")[0],
    )
