"""A real MCP client session (the official SDK) over stdio and over streamable HTTP."""

import json
import socket
import subprocess
import sys
from datetime import date, timedelta

import httpx2
import pytest
from mcp import ClientSession, StdioServerParameters
from mcp.client.stdio import stdio_client
from mcp.client.streamable_http import streamable_http_client

from briefs.models import Brief, Take
from review.models import Note
from tests.factories.retrieval import IPFactory, embedded_asset
from tests.factories.review import board_brief
from tests.factories.users import director
from tests.workers import ARTIFACTS, BASE_DIR, current_database_url, run_async, wait_until

pytestmark = pytest.mark.django_db(transaction=True)

TOOLS = {
    "search_assets",
    "submit_brief",
    "brief_status",
    "brief_continuity",
    "review_queue",
    "add_note",
    "decide_take",
    "promote_take",
    "list_review_links",
    "create_review_link",
    "revoke_review_link",
    "list_client_verdicts",
}


def server_env(**extra: str) -> dict[str, str]:
    """The environment a Studio process needs to use this test's database."""
    return {
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "DATABASE_URL": current_database_url(),
        **extra,
    }


def payload(result) -> dict:
    assert not result.is_error, result.content[0].text
    return result.structured_content


def first_take(brief) -> Take:
    return Take.objects.filter(shot__brief=brief, is_current=True).order_by("shot__order").first()


def test_stdio_session_lists_and_calls_tools_as_the_tokens_director(token_for):
    # Given a brief in review and a director's token
    brief = board_brief(shots=2)
    take = first_take(brief)
    embedded_asset(ip=brief.ip, title="Lantern keeper on the pier")
    params = StdioServerParameters(
        command=sys.executable,
        args=["manage.py", "mcp"],
        env=server_env(STUDIO_API_TOKEN=token_for(director())),
        cwd=str(BASE_DIR),
    )

    async def session() -> dict:
        seen = {}
        with (ARTIFACTS / "mcp-stdio.log").open("w") as errlog:
            async with (
                stdio_client(params, errlog=errlog) as (read, write),
                ClientSession(read, write) as client,
            ):
                await client.initialize()
                seen["tools"] = {tool.name for tool in (await client.list_tools()).tools}
                templates = (await client.list_resource_templates()).resource_templates
                seen["templates"] = {t.uri_template for t in templates}
                seen["queue"] = payload(await client.call_tool("review_queue", {}))
                seen["search"] = payload(
                    await client.call_tool(
                        "search_assets", {"ip": brief.ip.slug, "query": "lantern keeper"}
                    )
                )
                seen["decided"] = payload(
                    await client.call_tool(
                        "decide_take",
                        {"take_id": take.pk, "verdict": "approved", "expected_version": 1},
                    )
                )
                seen["submit"] = await client.call_tool("submit_brief", brief_arguments())
                shots = await client.read_resource(f"studio://briefs/{brief.pk}/shots")
                seen["shots"] = json.loads(shots.contents[0].text)
                guide = await client.read_resource(f"studio://ips/{brief.ip.slug}/style-guide")
                seen["guide"] = json.loads(guide.contents[0].text)
        return seen

    # When an SDK client session talks to `manage.py mcp` over stdio
    seen = run_async(session)

    # Then it sees every tool and resource, reads the queue and decides as a director ...
    assert seen["tools"] == TOOLS
    assert seen["templates"] == {
        "studio://ips{?role}",
        "studio://ips/{slug}/style-guide",
        "studio://briefs/{brief_id}/shots",
    }
    assert len(seen["queue"]["items"]) == 2
    assert seen["search"]["items"][0]["asset"]["title"] == "Lantern keeper on the pier"
    assert seen["decided"]["take"]["status"] == "approved"
    take.refresh_from_db()
    assert take.status == Take.Status.APPROVED
    assert [shot["order"] for shot in seen["shots"]] == [1, 2]
    assert seen["guide"]["style_notes"] == brief.ip.style_notes
    # ... but may not submit a brief, which is for producers
    assert seen["submit"].is_error
    assert seen["submit"].content[0].text.endswith(": Only Producers may do this.")
    assert Brief.objects.count() == 1


def brief_arguments(ip_slug: str = "") -> dict:
    return {
        "ip": ip_slug or IPFactory().slug,
        "title": "Agent-made teaser",
        "beat": "The tide rolls in over the stones.",
        "shot_count": 1,
        "aspect_ratio": "9:16",
        "seconds_per_shot": 4,
        "territory": "GB",
        "release_date": (date.today() + timedelta(days=20)).isoformat(),
    }


def test_stdio_server_refuses_to_start_without_a_live_token():
    answer = subprocess.run(
        [sys.executable, "manage.py", "mcp"],
        cwd=BASE_DIR,
        env={**server_env(STUDIO_API_TOKEN="studio_not-a-token"), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert answer.returncode != 0
    assert "Give a live API token" in answer.stderr


@pytest.fixture
def asgi_server():
    """Run the whole site (Django + MCP at /mcp/) under uvicorn on a loopback port."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = (ARTIFACTS / "mcp-uvicorn.log").open("wb")
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "studio.asgi:application", "--host", "127.0.0.1",
         "--port", str(port), "--log-level", "warning"],
        cwd=BASE_DIR,
        env={**__import__("os").environ, **server_env()},
        stdout=log,
        stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            return httpx2.get(f"{base}/api/v1/openapi.json", timeout=2).status_code == 200
        except httpx2.TransportError:
            return process.poll() is not None

    wait_until(up, timeout=60, message="uvicorn did not start")
    assert process.poll() is None, (ARTIFACTS / "mcp-uvicorn.log").read_text()
    yield base
    process.terminate()
    process.wait(15)
    log.close()


def test_http_session_acts_with_the_bearer_tokens_role(asgi_server, token_for):
    # Given a brief in review, and a producer's token
    brief = board_brief(shots=1)
    take = first_take(brief)
    headers = {"Authorization": f"Bearer {token_for(brief.producer)}"}
    ip_slug = IPFactory().slug

    async def session() -> dict:
        seen = {}
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            streamable_http_client(f"{asgi_server}/mcp/", http_client=http) as (read, write),
            ClientSession(read, write) as client,
        ):
            await client.initialize()
            seen["tools"] = {tool.name for tool in (await client.list_tools()).tools}
            seen["submitted"] = payload(
                await client.call_tool("submit_brief", brief_arguments(ip_slug))
            )
            seen["note"] = payload(
                await client.call_tool(
                    "add_note",
                    {
                        "take_id": take.pk,
                        "body": "Hold on the lantern.",
                        "timecode_start": 1,
                    },
                )
            )
            seen["decide"] = await client.call_tool(
                "decide_take",
                {"take_id": take.pk, "verdict": "approved", "expected_version": 1},
            )
            seen["status"] = payload(await client.call_tool("brief_status", {"brief_id": brief.pk}))
        return seen

    # When an SDK client session talks to /mcp/ over streamable HTTP with that token
    seen = run_async(session)

    # Then the producer submits a brief and adds a note, but may not decide on a take
    assert seen["tools"] == TOOLS
    created = Brief.objects.get(pk=seen["submitted"]["id"])
    assert (created.producer, created.title) == (brief.producer, "Agent-made teaser")
    assert Note.objects.get(take=take).body == "Hold on the lantern."
    assert seen["decide"].is_error
    assert seen["decide"].content[0].text.endswith(": Only Creative Directors may do this.")
    assert seen["status"]["shots"][0]["current_take"]["status"] == "ready"


def test_http_transport_refuses_requests_without_a_live_token(asgi_server, token_for):
    initialize = {
        "jsonrpc": "2.0",
        "id": 1,
        "method": "initialize",
        "params": {
            "protocolVersion": "2025-06-18",
            "capabilities": {},
            "clientInfo": {"name": "test", "version": "1"},
        },
    }
    accept = {"Accept": "application/json, text/event-stream"}

    anonymous = httpx2.post(f"{asgi_server}/mcp/", json=initialize, headers=accept)
    forged = httpx2.post(
        f"{asgi_server}/mcp/",
        json=initialize,
        headers={**accept, "Authorization": "Bearer studio_forged"},
    )
    rebound = httpx2.post(
        f"{asgi_server}/mcp/",
        json=initialize,
        headers={**accept, "Host": "attacker.example", "Authorization": "Bearer x"},
    )
    site = httpx2.get(f"{asgi_server}/api/v1/briefs", headers={"Authorization": "Bearer x"})

    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"] == 'Bearer realm="studio"'
    assert anonymous.json()["detail"].startswith("Send a Studio API token")
    assert forged.status_code == 401
    assert rebound.status_code == 400 and rebound.json() == {"detail": "Host not allowed."}
    # and the rest of the site is still Django, behind the same ASGI app
    assert site.status_code == 401 and site.json() == {"detail": "Unauthorized"}
