"""The Content-Security-Policy: our own scripts and styles only, and templates that live with it."""

import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib import admin
from django.urls import reverse

from retrieval.models import IP
from tests.factories.retrieval import IPFactory
from tests.workers import BASE_DIR

# What a policy without 'unsafe-inline' blocks in a template.
INLINE = {
    "inline <script>": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE),
    "<style> block": re.compile(r"<style[\s>]", re.IGNORECASE),
    "style attribute": re.compile(r"\sstyle\s*=", re.IGNORECASE),
    "event handler attribute": re.compile(r"\son[a-z]+\s*=\s*[\"']", re.IGNORECASE),
    "javascript: URL": re.compile(r"javascript:", re.IGNORECASE),
}


def template_files() -> list[Path]:
    folders = [Path(folder) for folder in settings.TEMPLATES[0]["DIRS"]]
    folders += [Path(app).parent / "templates" for app in ("retrieval", "briefs", "review")]
    return sorted(path for folder in folders for path in folder.rglob("*.html"))


def policy(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in header.split(";") if part.strip())
    }


@pytest.mark.django_db
def test_pages_allow_scripts_and_styles_from_this_site_only(client):
    response = client.get(reverse("login"))

    directives = policy(response)
    assert directives["script-src"] == ["'self'"]
    assert directives["style-src"] == ["'self'"]
    assert directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in response["Content-Security-Policy"]
    assert "'unsafe-eval'" not in response["Content-Security-Policy"]


@pytest.mark.parametrize("path", template_files(), ids=lambda path: path.name)
def test_no_template_holds_what_the_policy_blocks(path):
    # Django comments may mention anything; what reaches the browser may not.
    text = re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.DOTALL)

    found = [name for name, pattern in INLINE.items() if pattern.search(text)]

    assert found == [], f"{path} has {', '.join(found)}"


@pytest.mark.django_db
def test_admin_palette_swatches_need_no_style_attribute():
    ip = IPFactory(palette=["#0f3d4c", "#f5b942"])

    html = admin.site._registry[IP].palette_swatches(ip)

    assert "style" not in html
    assert 'fill="#0f3d4c"' in html and 'fill="#f5b942"' in html


def test_media_from_object_storage_can_be_allowed():
    # Given a deployment that keeps media in a bucket
    env = {
        "PATH": "/usr/bin:/bin",
        "CSP_MEDIA_SOURCES": "https://media.example.net",
        "DATABASE_URL": "postgres://nobody@127.0.0.1:1/none",
    }
    # When the settings are read
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "from studio import settings as s; d = s.CONTENT_SECURITY_POLICY['DIRECTIVES'];"
            "print(d['img-src'], d['media-src'])",
        ],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    # Then images and video may come from it
    assert result.stdout.count("https://media.example.net") == 2, result.stderr
