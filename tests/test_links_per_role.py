"""No page shows a role a link, a form's button or media it cannot follow (403 or 404)."""

import html
import re

import pytest
from django.db import transaction
from django.urls import reverse

from tests.factories.access import ROLES, World, access_world

LINK = re.compile(r'(?:href|hx-get|src)="(/[^"]*)"')
FORM = re.compile(r'<form[^>]*method="post"[^>]*action="(/[^"]*)"|hx-post="(/[^"]*)"')
# Static files are public; signing out is a POST; neither is about roles.
NOT_CHECKED = ("/static/", "/accounts/logout/")


def start_pages(world: World) -> list[str]:
    brief, ready, approved = world.brief, world.ready, world.approved
    return [
        reverse("home"),
        reverse("retrieval:catalog"),
        reverse("retrieval:ip_detail", args=[world.ip.slug]),
        reverse("retrieval:asset_detail", args=[world.asset.pk]),
        reverse("briefs:list"),
        reverse("briefs:detail", args=[brief.pk]),
        reverse("review:queue"),
        reverse("review:board", args=[brief.pk]),
        reverse("review:shot_card", args=[ready.shot_id]),
        reverse("review:shot_card", args=[approved.shot_id]),
        reverse("reliability:dashboard"),
        reverse("reliability:trace", args=[brief.pk]),
        reverse("reliability:policies"),
        reverse("reliability:policy", args=[world.policy.pk]),
        reverse("tokens"),
        reverse("review:client_links", args=[brief.pk]),
    ]


def links_on(page: str) -> set[str]:
    found = {html.unescape(url).split("#")[0] for url in LINK.findall(page)}
    return {url for url in found if url and not url.startswith(NOT_CHECKED)}


def form_targets_on(page: str) -> set[str]:
    found = {html.unescape(a or b) for a, b in FORM.findall(page)}
    return {url for url in found if not url.startswith(NOT_CHECKED)}


@pytest.mark.django_db
@pytest.mark.parametrize("role", [r for r in ROLES if r != "anonymous"])
def test_given_a_role_when_it_follows_every_link_it_is_shown_then_none_is_refused(client, role):
    world = access_world()
    client.force_login(world.users[role])
    links: dict[str, str] = {}
    forms: dict[str, str] = {}
    for start in start_pages(world):
        response = client.get(start)
        if response.status_code == 200 and "html" in response["Content-Type"]:
            page = response.content.decode()
            links |= dict.fromkeys(links_on(page), start)
            forms |= dict.fromkeys(form_targets_on(page), start)

    refused = {
        url: (status, links[url])
        for url in sorted(links)
        if (status := client.get(url).status_code) in (403, 404)
    }
    for url in sorted(forms):
        # An empty submission is enough to hear 403/404; whatever it changed is rolled back.
        with transaction.atomic():
            if (status := client.post(url).status_code) in (403, 404):
                refused[url] = (status, forms[url])
            transaction.set_rollback(True)

    assert links, "no page answered this role, so nothing was checked"
    assert refused == {}, f"{role} is shown links or buttons it cannot use (status, shown on)"
