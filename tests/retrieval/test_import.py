"""Bulk import and the demo seed: resumable, idempotent, with reasons for what was rejected."""

import io
from datetime import date

import pytest
from django.core.management import call_command

from retrieval import demo
from retrieval.models import IP, Asset
from retrieval.selectors import rights_block_reason, search_assets
from tests.factories.retrieval import IPFactory, png_bytes

pytestmark = pytest.mark.django_db

CSV_HEADER = (
    "id,ip,file,kind,title,description,tags,characters,holder,licence,worldwide,territories,"
    "valid_from,valid_until,reference_use_allowed,notes\n"
)


def run_import(folder) -> str:
    out = io.StringIO()
    call_command("import_catalog", str(folder), stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_csv_import_adds_skips_and_rejects_with_reasons(tmp_path):
    IPFactory(slug="harbour")
    (tmp_path / "quay.png").write_bytes(png_bytes(colour="#0f3d4c"))
    (tmp_path / "fake.png").write_bytes(b"<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "manifest.csv").write_text(
        CSV_HEADER
        + "q1,harbour,quay.png,still,Quay,Wet stones,quay;night,,Studio,Owned,true,,,,true,\n"
        + "q2,harbour,fake.png,still,Fake,,,,Studio,Owned,true,,,,true,\n"
        + "q3,harbour,missing.png,still,Missing,,,,Studio,Owned,true,,,,true,\n"
        + "q4,nowhere,quay.png,still,Elsewhere,,,,Studio,Owned,true,,,,true,\n"
        + "q5,harbour,../etc/passwd,still,Escape,,,,Studio,Owned,true,,,,true,\n"
    )

    first = run_import(tmp_path)
    again = run_import(tmp_path)

    assert "added 1, new versions 0, skipped 0, rejected 4" in first
    assert "rejected q2: SVG files are not accepted" in first
    assert "rejected q3: file 'missing.png' not found inside the import folder" in first
    assert "rejected q4: no IP with slug 'nowhere'" in first
    assert "rejected q5: file '../etc/passwd' not found inside the import folder" in first
    assert "added 0, new versions 0, skipped 1, rejected 4" in again
    assert Asset.objects.get().tags == ["quay", "night"]


def test_changed_file_under_the_same_manifest_id_becomes_a_new_version(tmp_path):
    IPFactory(slug="harbour")
    row = "q1,harbour,quay.png,still,Quay,,,,Studio,Owned,false,GB;IE,2026-01-01,,false,\n"
    (tmp_path / "manifest.csv").write_text(CSV_HEADER + row)
    (tmp_path / "quay.png").write_bytes(png_bytes(colour="#0f3d4c"))
    run_import(tmp_path)
    (tmp_path / "quay.png").write_bytes(png_bytes(colour="#b5523b"))

    output = run_import(tmp_path)

    assert "added 0, new versions 1" in output
    current = Asset.objects.get(is_current=True)
    assert current.version == 2 and current.rights.territories == ["GB", "IE"]
    assert not current.rights.reference_use_allowed


def test_demo_seed_is_idempotent_and_shows_the_rights_gate():
    demo.seed(stdout=io.StringIO())
    out = io.StringIO()
    demo.seed(stdout=out)

    ip = IP.objects.get(slug="lanternfall")
    assert "added 0, new versions 0, skipped 12, rejected 0" in out.getvalue()
    assert ip.characters.count() == 3 and ip.assets.count() == 12
    today = date(2026, 11, 27)
    reasons = {
        a.title: rights_block_reason(a, territory="FR", on_date=today) for a in ip.assets.all()
    }
    assert reasons["Fishing boats at their moorings"] == "licence expired 2025-12-31"
    assert reasons["Storm over the breakwater"] == "not licensed in FR (licensed in GB, IE)"
    assert reasons["Lanternfall logo"] == "reference use for generation not permitted"
    assert sum(reason is None for reason in reasons.values()) == 9
    hits = search_assets(ip=ip, query="Mira holding a lantern", territory="FR", on_date=today)
    assert hits[0].asset.title == "Mira with her lantern"
