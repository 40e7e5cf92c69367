"""Uploads and imports are checked by content; a rejected file leaves no row and no file."""

import hashlib
import io
import os
import struct
import zlib
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from PIL import Image

from retrieval.models import Asset, Rights
from retrieval.services import AssetRejected, asset_ingest, asset_restore_version
from studio.ai import media
from tests.factories.retrieval import CharacterFactory, IPFactory, png_bytes

pytestmark = pytest.mark.django_db

RIGHTS = {"holder": "Studio", "licence": "Owned", "worldwide": True}


def media_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file())


def ingest(data: bytes, *, file_name: str = "harbour.png", kind: str = "still", **kwargs):
    kwargs.setdefault("ip", IPFactory())
    kwargs.setdefault("rights", RIGHTS)
    return asset_ingest(kind=kind, title="Harbour", file_name=file_name, data=data, **kwargs)


def encoded(image: Image.Image, fmt: str, **save_kwargs) -> bytes:
    out = io.BytesIO()
    image.save(out, format=fmt, **save_kwargs)
    return out.getvalue()


def huge_png_header(width: int, height: int) -> bytes:
    """A tiny PNG whose header claims a huge canvas (a decompression bomb's calling card)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        crc = zlib.crc32(kind + body) & 0xFFFFFFFF
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = zlib.compress(b"\x00" * 64)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")
    )


REJECTIONS = [
    (
        "wrong magic bytes",
        lambda: b"MZ\x90\x00 this is an executable" * 10,
        "harbour.png",
        "not a recognised format",
    ),
    (
        "truncated png",
        lambda: png_bytes(size=(200, 200))[:-60],
        "harbour.png",
        "truncated or corrupt",
    ),
    (
        "truncated jpeg",
        lambda: encoded(Image.effect_noise((300, 300), 60).convert("RGB"), "JPEG")[:2000],
        "harbour.jpg",
        "truncated or corrupt",
    ),
    ("decompression bomb", lambda: huge_png_header(30000, 30000), "bomb.png", "decompression-bomb"),
    (
        "svg",
        lambda: b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"><script/></svg>',
        "logo.png",
        "SVG files are not accepted",
    ),
    (
        "unsupported format",
        lambda: encoded(Image.new("RGB", (8, 8)), "BMP"),
        "harbour.bmp",
        "not a recognised format",
    ),
    ("empty", lambda: b"", "harbour.png", "The file is empty."),
    ("text named as png", lambda: b"just some notes", "harbour.png", "is text by its content"),
]


@pytest.mark.parametrize(
    ("make", "file_name", "message"),
    [case[1:] for case in REJECTIONS],
    ids=[case[0] for case in REJECTIONS],
)
def test_bad_upload_is_rejected_with_a_reason_and_leaves_nothing(make, file_name, message):
    ip = IPFactory()
    before = media_files()

    with pytest.raises(AssetRejected) as rejected:
        ingest(make(), file_name=file_name, ip=ip)

    assert message in str(rejected.value)
    assert Asset.objects.count() == 0 and Rights.objects.count() == 0
    assert media_files() == before


def test_oversized_file_is_rejected(settings):
    settings.RETRIEVAL_MAX_UPLOAD_BYTES = 1000

    with pytest.raises(AssetRejected, match="the limit is 1000\xa0bytes"):
        ingest(png_bytes(size=(400, 400), colour="#123456") + b"\x00" * 2000)

    assert Asset.objects.count() == 0


def test_failure_after_files_are_written_removes_them(monkeypatch):
    # given the database write fails after the file and thumbnail were stored
    def broken_save_rights(asset, fields):
        raise RuntimeError("database went away")

    monkeypatch.setattr("retrieval.services._save_rights", broken_save_rights)
    before = media_files()

    with pytest.raises(RuntimeError):
        ingest(png_bytes())

    assert Asset.objects.count() == 0
    assert media_files() == before


def test_clip_that_does_not_decode_is_rejected():
    fake_mp4 = b"\x00\x00\x00\x18ftypmp42" + os.urandom(500)

    with pytest.raises(AssetRejected, match="not a playable video"):
        ingest(fake_mp4, file_name="take.mp4", kind="clip")

    assert Asset.objects.count() == 0


def test_cmyk_image_is_normalised_to_rgb_and_says_so():
    cmyk = encoded(Image.new("CMYK", (40, 30), (0, 80, 200, 0)), "JPEG")

    result = ingest(cmyk, file_name="poster.jpg")

    asset = result.asset
    with asset.file.open("rb") as handle, Image.open(handle) as stored:
        assert (stored.mode, stored.format) == ("RGB", "JPEG")
    assert "converted from CMYK to RGB" in asset.description
    assert asset.file.name.endswith(".jpg")


def test_animated_gif_keeps_its_first_frame():
    frames = [Image.new("RGB", (20, 20), colour) for colour in ("red", "blue", "green")]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100)

    result = ingest(out.getvalue(), file_name="blink.gif")

    assert "animated image (3 frames): kept the first frame" in result.asset.description
    with result.asset.file.open("rb") as handle, Image.open(handle) as stored:
        assert getattr(stored, "n_frames", 1) == 1
        assert stored.convert("RGB").getpixel((5, 5)) == (255, 0, 0)


def test_exif_orientation_is_applied():
    # given a 40x20 landscape JPEG whose EXIF says "rotate 90°" (orientation 6)
    exif = Image.Exif()
    exif[0x0112] = 6
    sideways = encoded(Image.new("RGB", (40, 20), "orange"), "JPEG", exif=exif)

    result = ingest(sideways, file_name="sideways.jpg")

    assert (result.asset.width, result.asset.height) == (20, 40)
    assert "rotated upright" in result.asset.description
    # the pixels are stored upright, so no viewer rotates them a second time
    with result.asset.file.open("rb") as handle, Image.open(handle) as stored:
        assert stored.size == (20, 40) and not stored.getexif()


def stored_bytes(asset: Asset) -> bytes:
    with asset.file.open("rb") as handle:
        return handle.read()


def test_png_with_html_appended_is_stored_without_it():
    # given a real PNG with an HTML page after its end chunk (a polyglot a browser may render)
    payload = b"<html><script>alert(document.cookie)</script></html>"
    polyglot = png_bytes(colour="#0f3d4c") + payload

    # when it is uploaded
    result = ingest(polyglot, file_name="quay.png")

    # then the stored file is the picture alone, still a PNG, and its hash is of what was stored
    data = stored_bytes(result.asset)
    assert b"<script" not in data and b"<html" not in data
    assert data.endswith(b"IEND\xaeB`\x82")
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.format == "PNG" and stored.getpixel((1, 1)) == (15, 61, 76)
    assert result.asset.sha256 == hashlib.sha256(data).hexdigest()
    assert result.asset.byte_size == len(data)


def test_jpeg_with_php_in_its_metadata_is_stored_without_it():
    # given a JPEG with PHP in an EXIF field and in a comment
    php = "<?php system($_GET['cmd']); ?>"
    exif = Image.Exif()
    exif[0x010E] = php  # ImageDescription
    exif[0x0112] = 1
    photo = encoded(Image.new("RGB", (40, 30), "teal"), "JPEG", exif=exif, comment=php)
    assert php.encode() in photo

    # when it is uploaded
    result = ingest(photo, file_name="teal.jpg")

    # then the stored JPEG has the picture and none of the metadata
    data = stored_bytes(result.asset)
    assert b"<?php" not in data and b"Exif" not in data
    with Image.open(io.BytesIO(data)) as stored:
        assert stored.format == "JPEG" and stored.size == (40, 30)
    assert result.asset.file.name.endswith(".jpg") and result.asset.mime_type == "image/jpeg"


def test_reupload_of_a_reencoded_image_is_deduplicated():
    ip = IPFactory()
    first = ingest(png_bytes() + b"<html>one</html>", ip=ip).asset

    again = ingest(png_bytes() + b"<html>two</html>", ip=ip, file_name="copy.png")

    assert again.deduplicated and again.asset == first


def test_oversized_import_file_is_refused_before_it_is_read(settings, tmp_path, monkeypatch):
    # given an import row whose file is over the limit
    settings.RETRIEVAL_MAX_UPLOAD_BYTES = 1000
    (tmp_path / "big.png").write_bytes(png_bytes() + b"\x00" * 2000)
    (tmp_path / "manifest.json").write_text(
        '{"ip": {"slug": "harbour", "name": "Harbour"}, "assets": [{"id": "b1", '
        '"file": "big.png", "kind": "still", "title": "Big", "rights": {"holder": "Studio", '
        '"licence": "Owned", "worldwide": true}}]}'
    )
    reads = []
    read_bytes = Path.read_bytes
    monkeypatch.setattr(Path, "read_bytes", lambda path: reads.append(path) or read_bytes(path))

    # when the folder is imported
    out = io.StringIO()
    call_command("import_catalog", str(tmp_path), stdout=out, stderr=io.StringIO())

    # then the row is rejected with the limit, and the file was never read
    assert "the limit is 1000\xa0bytes" in out.getvalue()
    assert tmp_path / "big.png" not in reads
    assert Asset.objects.count() == 0


def test_good_png_gets_thumbnail_palette_and_rights():
    ip = IPFactory()
    character = CharacterFactory(ip=ip)

    result = ingest(
        png_bytes(colour="#0f3d4c", size=(120, 80)), ip=ip, characters=[character], tags=["dusk"]
    )

    asset = result.asset
    assert result.created and not result.deduplicated
    assert (asset.width, asset.height, asset.mime_type) == (120, 80, "image/png")
    assert asset.thumbnail.name.endswith(".webp")
    assert asset.palette[0] == "#0f3d4c"
    assert asset.rights.worldwide and list(asset.characters.all()) == [character]


def test_clip_is_probed_and_gets_a_poster():
    clip = media.render_flat_clip(
        colour="#0f3d4c", duration_s=1, aspect_ratio="16:9", size_short_side=72
    )

    result = ingest(clip, file_name="take.mp4", kind="clip")

    assert result.asset.duration_s == pytest.approx(1.0, abs=0.1)
    assert result.asset.thumbnail.name.endswith(".webp")


def test_identical_bytes_are_deduplicated_within_an_ip():
    ip = IPFactory()
    first = ingest(png_bytes(), ip=ip)

    again = ingest(png_bytes(), ip=ip, file_name="copy.png")

    assert again.deduplicated and not again.created
    assert again.asset == first.asset
    assert Asset.objects.count() == 1


def test_new_upload_of_an_asset_makes_a_restorable_version():
    ip = IPFactory()
    first = ingest(png_bytes(colour="#112233"), ip=ip).asset

    second = ingest(png_bytes(colour="#445566"), ip=ip, replaces=first, rights=None).asset

    first.refresh_from_db()
    assert (second.version, second.previous, second.family) == (2, first, first.family)
    assert not first.is_current and second.is_current
    assert second.rights.worldwide  # rights carried over from v1

    restored = asset_restore_version(asset=first)

    second.refresh_from_db()
    assert restored.is_current and not second.is_current
    assert Asset.objects.filter(family=first.family).count() == 2


def test_bad_rights_are_rejected_before_anything_is_written():
    with pytest.raises(AssetRejected, match="ISO 3166-1"):
        ingest(png_bytes(), rights={**RIGHTS, "worldwide": False, "territories": ["FRA"]})

    assert Asset.objects.count() == 0
