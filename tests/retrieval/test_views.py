"""Catalog pages: who may read and write, the rights grey-out, htmx fragments."""

from datetime import date

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile, TemporaryUploadedFile
from django.urls import reverse

from retrieval.models import Asset
from tests.factories.briefs import BriefFactory, ShotFactory, TakeFactory
from tests.factories.retrieval import (
    AssetFactory,
    CharacterFactory,
    IPFactory,
    embedded_asset,
    png_bytes,
)
from tests.factories.users import catalog_admin, director, producer

pytestmark = pytest.mark.django_db


def upload_data(**overrides) -> dict:
    data = {
        "kind": "still",
        "title": "Quay at dusk",
        "file": SimpleUploadedFile("quay.png", png_bytes(colour="#0f3d4c"), "image/png"),
        "holder": "Studio",
        "licence": "Owned",
        "worldwide": "on",
        "reference_use_allowed": "on",
    }
    return data | overrides


@pytest.mark.parametrize("make_user", [producer, director, catalog_admin])
def test_every_role_can_browse_the_catalog(client, make_user):
    ip = IPFactory(name="Lanternfall")
    asset = AssetFactory(ip=ip, title="Harbour at dusk")
    client.force_login(make_user())

    pages = [
        reverse("retrieval:catalog"),
        ip.get_absolute_url(),
        asset.get_absolute_url(),
        reverse("retrieval:search", args=[ip.slug]) + "?q=harbour",
    ]

    for url in pages:
        response = client.get(url)
        assert response.status_code == 200, url
    assert b"Harbour at dusk" in client.get(ip.get_absolute_url()).content


def test_signed_out_visitor_is_sent_to_sign_in(client):
    response = client.get(reverse("retrieval:catalog"))

    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_producer_cannot_edit_the_catalog(client):
    ip = IPFactory()
    asset = AssetFactory(ip=ip, is_current=False)
    AssetFactory(ip=ip, family=asset.family, version=2)
    client.force_login(producer())

    upload = client.post(reverse("retrieval:asset_upload", args=[ip.slug]), upload_data())
    restore = client.post(reverse("retrieval:asset_restore", args=[asset.pk]))
    admin_edit = client.get(reverse("admin:retrieval_asset_change", args=[asset.pk]))
    page = client.get(ip.get_absolute_url())

    assert upload.status_code == 403 and restore.status_code == 403
    assert admin_edit.status_code == 302  # the admin sends non-staff users to its login
    assert Asset.objects.filter(ip=ip).count() == 2
    assert b"Upload an asset" not in page.content


def test_catalog_admin_uploads_through_the_page(client, django_capture_on_commit_callbacks):
    ip = IPFactory()
    mira = CharacterFactory(ip=ip, name="Mira")
    client.force_login(catalog_admin())

    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(
            reverse("retrieval:asset_upload", args=[ip.slug]),
            upload_data(characters=[mira.pk], tags="quay, dusk"),
        )

    asset = Asset.objects.get(ip=ip)
    assert response.status_code == 302 and response["Location"] == asset.get_absolute_url()
    assert asset.tags == ["quay", "dusk"] and list(asset.characters.all()) == [mira]
    assert len(callbacks) == 1  # embedding queued after commit
    assert b"Upload an asset" in client.get(ip.get_absolute_url()).content


def test_rejected_upload_says_why_and_adds_nothing(client):
    ip = IPFactory()
    client.force_login(catalog_admin())
    svg = SimpleUploadedFile("logo.png", b"<svg xmlns='http://www.w3.org/2000/svg'/>")

    response = client.post(
        reverse("retrieval:asset_upload", args=[ip.slug]), upload_data(file=svg), follow=True
    )

    assert "SVG files are not accepted" in response.content.decode()
    assert not Asset.objects.exists()


def test_oversized_upload_is_refused_before_it_is_read(client, settings, monkeypatch):
    # given an upload over the limit, which Django spools to a temporary file
    settings.RETRIEVAL_MAX_UPLOAD_BYTES = 1000
    settings.FILE_UPLOAD_HANDLERS = ["django.core.files.uploadhandler.TemporaryFileUploadHandler"]
    ip = IPFactory()
    client.force_login(catalog_admin())
    reads = []
    monkeypatch.setattr(
        TemporaryUploadedFile,
        "read",
        property(lambda upload: reads.append(upload.name) or upload.file.read),
    )
    big = SimpleUploadedFile("quay.png", png_bytes() + b"\x00" * 2000, "image/png")

    # when it is posted
    response = client.post(
        reverse("retrieval:asset_upload", args=[ip.slug]), upload_data(file=big), follow=True
    )

    # then the page says why, and nobody read the file into memory
    assert "the limit is 1000\xa0bytes" in response.content.decode()
    assert reads == []
    assert not Asset.objects.exists()


def test_ip_page_greys_out_assets_with_the_reason(client):
    ip = IPFactory()
    AssetFactory(ip=ip, title="Open still")
    AssetFactory(ip=ip, title="Old licence", rights__valid_until=date(2025, 1, 31))
    AssetFactory(ip=ip, title="UK only", rights__worldwide=False, rights__territories=["GB"])
    client.force_login(director())

    worldwide = client.get(ip.get_absolute_url()).content.decode()
    in_gb = client.get(ip.get_absolute_url(), {"territory": "gb"}).content.decode()

    assert "licence expired 2025-01-31" in worldwide
    assert "not cleared worldwide (licensed in GB)" in worldwide
    assert "1 of 3 cleared for generation worldwide" in worldwide
    assert "2 of 3 cleared for generation in GB" in in_gb
    assert worldwide.count("is-blocked") == 2


def test_search_htmx_request_returns_only_the_results_fragment(client):
    ip = IPFactory()
    embedded_asset(ip=ip, title="Lighthouse at dawn")
    client.force_login(producer())
    url = reverse("retrieval:search", args=[ip.slug])

    fragment = client.get(url, {"q": "lighthouse"}, headers={"HX-Request": "true"})
    page = client.get(url, {"q": "lighthouse"})

    body = fragment.content.decode()
    assert body.lstrip().startswith('<section id="results"')
    assert "Lighthouse at dawn" in body and "words #1" in body and "meaning #1" in body
    assert "<html" not in body and "<html" in page.content.decode()


def test_asset_page_shows_versions_rights_and_restore_for_admins(client):
    ip = IPFactory()
    old = AssetFactory(ip=ip, title="Quay", is_current=False)
    AssetFactory(ip=ip, title="Quay", family=old.family, version=2, previous=old)
    client.force_login(catalog_admin())

    page = client.get(old.get_absolute_url()).content.decode()
    restored = client.post(reverse("retrieval:asset_restore", args=[old.pk]), follow=True)

    assert (
        "Restore v1" in page and "Worldwide" in page and "Not used by any brief you can see" in page
    )
    old.refresh_from_db()
    assert old.is_current
    assert "Quay v1 is the current version again." in restored.content.decode()


def test_thumbnail_is_served_to_readers_only(client):
    asset = AssetFactory()
    url = reverse("retrieval:asset_file", args=[asset.pk, "thumbnail"])

    anonymous = client.get(url)
    client.force_login(producer())
    signed_in = client.get(url)

    assert anonymous.status_code == 302
    assert signed_in.status_code == 200 and signed_in["Content-Type"] == "image/webp"
    assert b"".join(signed_in.streaming_content)[8:12] == b"WEBP"


def test_asset_page_lists_where_the_asset_has_been_used(client, django_assert_max_num_queries):
    ip = IPFactory()
    asset = AssetFactory(ip=ip, title="Quay")
    brief = BriefFactory(ip=ip, title="Harbour teaser")
    brief.pinned_references.add(asset)
    shot = ShotFactory(brief=brief, order=2)
    shot.references.add(asset)
    TakeFactory(shot=shot, number=3).references.add(asset)
    client.force_login(director())

    with django_assert_max_num_queries(20):
        page = client.get(asset.get_absolute_url()).content.decode()

    assert "Pinned in brief" in page
    assert "Reference for Harbour teaser · shot 2" in page
    assert "Used by Harbour teaser · shot 2 · take 3" in page


def test_given_a_producers_brief_uses_an_asset_when_another_producer_opens_it_then_no_title(
    client,
):
    ip = IPFactory()
    asset = AssetFactory(ip=ip, title="Quay")
    brief = BriefFactory(ip=ip, title="Secret harbour teaser")
    brief.pinned_references.add(asset)
    shot = ShotFactory(brief=brief, order=2)
    shot.references.add(asset)
    TakeFactory(shot=shot, number=3).references.add(asset)

    def page_for(user) -> str:
        client.force_login(user)
        return client.get(asset.get_absolute_url()).content.decode()

    assert "Secret harbour teaser" not in page_for(producer())
    assert "Not used by any brief you can see" in page_for(catalog_admin())
    assert "Secret harbour teaser" in page_for(brief.producer)
