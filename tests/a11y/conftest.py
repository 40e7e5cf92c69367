"""A populated Studio for accessibility audits: every badge, chart and card a page can show.

Empty pages hide contrast problems, so the world is built from the demo seeders (the Lanternfall
catalog with restricted assets, briefs in review, routed and at the plan gate, notes and an
approval) plus a week of reliability history, a second take to compare, a policy and a token.
"""

import io
from dataclasses import dataclass
from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone

from briefs import demo as briefs_demo
from briefs.models import Brief, Take
from briefs.pipeline.continuity import check_continuity
from integrations.models import ApiToken
from integrations.tokens import token_create, token_revoke
from reliability import autonomy
from reliability import demo as reliability_demo
from reliability.models import AutonomyPolicy, ReliabilityAlert
from retrieval import demo as catalog_demo
from retrieval.models import IP, Asset
from review import client_links
from review import demo as review_demo
from studio.demo import DEMO_USERS, seed_demo_users
from teams import demo as teams_demo
from tests.factories.briefs import continuity_brief
from tests.factories.reliability import history
from tests.factories.review import ready_take

DAY = timedelta(days=1)


@dataclass(frozen=True)
class World:
    """Ids of the objects whose pages the audits open."""

    ip_slug: str
    restricted_asset_id: int
    brief_id: int
    routed_brief_id: int
    plan_brief_id: int
    take_id: int
    other_take_id: int
    policy_id: int
    client_token: str  # a live client review link to the brief, with a note and a verdict
    revoked_client_token: str
    continuity_brief_id: int


@pytest.fixture
def world(transactional_db, settings, tmp_path) -> World:
    """Seed the demo data and enough history that every page shows real content."""
    settings.LOCAL_OPS_DIR = tmp_path
    out = io.StringIO()
    seed_demo_users()
    catalog_demo.seed(stdout=out)
    teams_demo.seed(stdout=out)
    briefs_demo.seed(stdout=out)
    review_demo.seed(stdout=out)
    history(days=3)
    ip = IP.objects.get(slug="lanternfall")
    brief = Brief.objects.get(title=briefs_demo.DEMO_BRIEFS[0]["title"])
    take = Take.objects.filter(shot__brief=brief, is_current=True).order_by("shot__order").first()
    # A second take of the same shot, to compare with: a re-prompt that was not kept.
    other = ready_take(
        shot=take.shot, number=2, prompt=take.prompt + " Lanterns lit.", is_current=False
    )
    reliability_demo.seed(stdout=out)
    # A continuity sheet with references, keyframes, scored pairs and one drifting shot.
    drifting = continuity_brief(
        shifted=(3,), producer=get_user_model().objects.get(username="producer")
    )
    check_continuity(drifting.pk, owner="a11y")
    lead = get_user_model().objects.get(username="director")
    policy = autonomy.policy_create(user=lead, min_decisions=35, bar=0.9)
    autonomy.policy_update(
        policy=policy, user=lead, mode=AutonomyPolicy.Mode.SHADOW, note="Measure first."
    )
    ReliabilityAlert.objects.create(
        step="generate",
        pass_rate=0.62,
        threshold=0.8,
        attempts=40,
        window_minutes=60,
        message="Generate passed 62% of 40 attempts in the last hour (threshold 80%).",
    )
    for demo in DEMO_USERS:
        user = get_user_model().objects.get(username=demo.username)
        token_create(user=user, name="Render farm script")
        old, _ = token_create(user=user, name="Old notebook", expires_at=timezone.now() + DAY)
        ApiToken.objects.filter(pk=old.pk).update(expires_at=timezone.now() - DAY)
        gone, _ = token_create(user=user, name="Laptop")
        token_revoke(token=gone, user=user)
    restricted = Asset.objects.filter(ip=ip, rights__reference_use_allowed=False).first()
    client_token, revoked_client_token = client_review_links(brief, take)
    return World(
        ip_slug=ip.slug,
        restricted_asset_id=restricted.pk,
        brief_id=brief.pk,
        routed_brief_id=Brief.objects.get(title=briefs_demo.DEMO_BRIEFS[1]["title"]).pk,
        plan_brief_id=Brief.objects.get(title=briefs_demo.DEMO_BRIEFS[2]["title"]).pk,
        take_id=take.pk,
        other_take_id=other.pk,
        policy_id=policy.pk,
        client_token=client_token,
        revoked_client_token=revoked_client_token,
        continuity_brief_id=drifting.pk,
    )


def client_review_links(brief: Brief, take: Take) -> tuple[str, str]:
    """Share the brief with a client who has spoken, and a link that was revoked."""
    link, token = client_links.link_create(
        brief=brief, user=brief.producer, label="Harbour Agency", password="lantern-42"
    )
    client = client_links.Visitor(name="Ada Client", ip_address="192.0.2.7", user_agent="Firefox")
    client_links.client_note_add(
        link=link, take=take, visitor=client, body="More room for the logo", timecode_start=1.5
    )
    client_links.client_verdict_give(
        link=link, take=take, visitor=client, verdict="changes_requested", comment="Warmer light"
    )
    revoked, revoked_token = client_links.link_create(
        brief=brief, user=brief.producer, label="Old agency contact"
    )
    client_links.link_revoke(link=revoked, user=brief.producer)
    return token, revoked_token
