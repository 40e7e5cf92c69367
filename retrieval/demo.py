"""Demo catalog: Lanternfall, an original harbour-town IP with Pillow-drawn references.

The seed writes the pictures and a manifest to a temporary folder and runs the real importer,
then embeds synchronously so search works straight away. Re-running changes nothing.
"""

import json
import math
import random
import tempfile
from pathlib import Path

from PIL import Image, ImageDraw, ImageFilter

from retrieval.importer import import_catalog
from retrieval.services import asset_embed

SIZE = (640, 400)
TEAL, HARBOUR, GOLD, CREAM, RUST, NIGHT = (
    "#0f3d4c",
    "#1f6f8b",
    "#f5b942",
    "#e8dcc2",
    "#b5523b",
    "#0a1f2b",
)

IP_DATA = {
    "slug": "lanternfall",
    "name": "Lanternfall",
    "logline": (
        "In a fog-bound harbour town where every window keeps a lantern lit for the boats, a "
        "lamplighter's daughter finds the lights are guiding something else home."
    ),
    "style_notes": (
        "Warm lantern gold against deep teal night; soft painterly edges, chunky silhouettes, "
        "no pure black. Fog is always cream, never grey. Reflections carry the light."
    ),
    "palette": [TEAL, HARBOUR, GOLD, CREAM, RUST],
}

CHARACTERS = [
    {
        "slug": "mira",
        "name": "Mira Vane",
        "description": "The lamplighter's daughter, twelve, stubborn and curious.",
        "visual_traits": "Yellow oilskin coat, red scarf, brass lantern on a pole.",
    },
    {
        "slug": "tobin",
        "name": "Old Tobin",
        "description": "The harbourmaster who has kept the tide tables for fifty years.",
        "visual_traits": "Navy peacoat, white beard, clay pipe, brass spyglass.",
    },
    {
        "slug": "pip",
        "name": "Pip",
        "description": "The harbour cat who always knows where the fog will roll in.",
        "visual_traits": "Ginger tabby with one white sock and a notched ear.",
    },
]

OWNED = {"holder": "Studio", "licence": "Studio-owned original", "worldwide": True}


def _sky(draw: ImageDraw.ImageDraw, top: str, bottom: str, height: int) -> None:
    a, b = _rgb(top), _rgb(bottom)
    for y in range(height):
        t = y / max(1, height - 1)
        draw.line(
            [(0, y), (SIZE[0], y)], fill=tuple(round(a[i] + (b[i] - a[i]) * t) for i in range(3))
        )


def _rgb(colour: str) -> tuple[int, int, int]:
    return tuple(int(colour[i : i + 2], 16) for i in (1, 3, 5))


def _houses(draw: ImageDraw.ImageDraw, rng: random.Random, base: int, lit: float = 0.6) -> None:
    x = -10
    while x < SIZE[0]:
        width, height = rng.randint(50, 90), rng.randint(70, 140)
        draw.rectangle([x, base - height, x + width, base], fill=TEAL)
        draw.polygon(
            [
                (x - 4, base - height),
                (x + width / 2, base - height - 30),
                (x + width + 4, base - height),
            ],
            fill=NIGHT,
        )
        for wy in range(base - height + 15, base - 15, 28):
            for wx in range(x + 10, x + width - 14, 22):
                if rng.random() < lit:
                    draw.rectangle([wx, wy, wx + 10, wy + 14], fill=GOLD)
        x += width + rng.randint(0, 8)


def _water(image: Image.Image, top: int) -> None:
    """Mirror what is above the waterline, darkened and rippled."""
    above = image.crop((0, 2 * top - SIZE[1], SIZE[0], top)).transpose(
        Image.Transpose.FLIP_TOP_BOTTOM
    )
    ripple = Image.new("RGB", above.size, HARBOUR)
    reflection = Image.blend(above, ripple, 0.55).filter(ImageFilter.GaussianBlur(2))
    image.paste(reflection, (0, top))
    draw = ImageDraw.Draw(image)
    for y in range(top + 6, SIZE[1], 9):
        draw.line([(0, y), (SIZE[0], y)], fill=HARBOUR, width=1)


def _lantern(draw: ImageDraw.ImageDraw, x: int, y: int, r: int = 10) -> None:
    for halo in range(r * 3, r, -4):
        draw.ellipse([x - halo, y - halo, x + halo, y + halo], outline=GOLD)
    draw.ellipse([x - r, y - r, x + r, y + r], fill=GOLD)


def _figure(draw: ImageDraw.ImageDraw, x: int, ground: int, coat: str, scale: float = 1.0) -> None:
    h = int(150 * scale)
    draw.polygon([(x - 34 * scale, ground), (x + 34 * scale, ground), (x, ground - h)], fill=coat)
    draw.ellipse(
        [x - 18 * scale, ground - h - 30 * scale, x + 18 * scale, ground - h + 6 * scale],
        fill=CREAM,
    )


def harbour_at_dusk(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    _sky(draw, NIGHT, RUST, 250)
    _houses(draw, rng, 250)
    _water(image, 250)
    return image


def lighthouse(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    _sky(draw, "#f2c46d", CREAM, 260)
    draw.polygon([(380, 260), (640, 260), (640, 170), (470, 150)], fill=TEAL)
    draw.polygon([(520, 155), (560, 155), (552, 60), (528, 60)], fill=CREAM)
    for band in (80, 115):
        draw.rectangle([524, band, 556, band + 12], fill=RUST)
    draw.polygon([(540, 55), (120, 0), (120, 110)], fill="#f7d27f")
    _lantern(draw, 540, 55, 9)
    _water(image, 260)
    return image


def mira(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    _sky(draw, NIGHT, TEAL, SIZE[1])
    draw.rectangle([0, 330, 640, 400], fill=HARBOUR)
    _figure(draw, 300, 330, GOLD, 1.3)
    draw.rectangle([272, 150, 328, 164], fill=RUST)  # scarf
    draw.line([(360, 330), (360, 120)], fill=CREAM, width=4)
    _lantern(draw, 360, 112, 14)
    return image


def tobin(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    _sky(draw, CREAM, "#c9bfa8", SIZE[1])
    draw.rectangle([60, 80, 300, 330], fill=RUST)  # harbour office
    draw.rectangle([120, 140, 240, 230], fill=GOLD)
    draw.rectangle([0, 330, 640, 400], fill=TEAL)
    _figure(draw, 430, 330, "#1d2b4f", 1.4)
    draw.polygon([(412, 150), (448, 150), (430, 190)], fill="#f4f1ea")  # beard
    return image


def pip_on_rooftops(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    _sky(draw, NIGHT, "#18465a", SIZE[1])
    draw.ellipse([470, 40, 550, 120], fill=CREAM)  # moon
    _houses(draw, rng, 400, lit=0.3)
    draw.ellipse([250, 230, 330, 280], fill="#d9822b")  # cat body
    draw.ellipse([318, 205, 358, 245], fill="#d9822b")
    draw.polygon([(322, 212), (328, 192), (336, 210)], fill="#d9822b")
    draw.polygon([(342, 210), (350, 192), (356, 212)], fill="#d9822b")
    draw.arc([200, 200, 270, 280], 90, 200, fill="#d9822b", width=8)
    draw.ellipse([262, 270, 278, 284], fill="#ffffff")  # the white sock
    return image


def lantern_festival(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    _sky(draw, NIGHT, TEAL, 240)
    _houses(draw, rng, 240, lit=0.9)
    _water(image, 240)
    draw = ImageDraw.Draw(image)
    for _ in range(26):
        _lantern(draw, rng.randint(20, 620), rng.randint(255, 390), rng.randint(4, 8))
    return image


def fog_on_the_quay(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    _sky(draw, CREAM, "#9fb3b0", SIZE[1])
    for i in range(7):
        x = 60 + i * 85
        draw.rectangle([x, 200 + i * 6, x + 14, 400], fill=TEAL)
        _lantern(draw, x + 7, 190 + i * 6, 6)
    return image.filter(ImageFilter.GaussianBlur(3))


def fishing_boats(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    _sky(draw, "#f3d9a4", CREAM, 230)
    draw.rectangle([0, 230, 640, 400], fill=HARBOUR)
    for i, colour in enumerate((RUST, TEAL, GOLD, RUST)):
        x = 40 + i * 150
        draw.polygon([(x, 280), (x + 120, 280), (x + 100, 320), (x + 20, 320)], fill=colour)
        draw.line([(x + 60, 280), (x + 60, 160)], fill=NIGHT, width=4)
        draw.polygon([(x + 62, 165), (x + 62, 270), (x + 110, 270)], fill=CREAM)
    return image


def storm(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    _sky(draw, "#0b1c24", "#294b58", 260)
    draw.rectangle([0, 260, 640, 400], fill=TEAL)
    draw.polygon([(0, 300), (420, 280), (420, 300), (0, 330)], fill="#3d4a4f")  # breakwater
    for _ in range(14):
        x = rng.randint(0, 640)
        draw.arc([x - 60, 250, x + 60, 330], 180, 360, fill=CREAM, width=5)
    for _ in range(160):
        x, y = rng.randint(0, 640), rng.randint(0, 400)
        draw.line([(x, y), (x - 8, y + 22)], fill="#9fb3b0", width=1)
    draw.line([(480, 0), (455, 90), (490, 110), (450, 220)], fill=CREAM, width=3)
    return image


def logo(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", (400, 400), TEAL)
    draw = ImageDraw.Draw(image)
    draw.ellipse([40, 40, 360, 360], outline=GOLD, width=10)
    for i in range(12):
        angle = i * math.pi / 6
        draw.line(
            [
                (200 + 120 * math.cos(angle), 200 + 120 * math.sin(angle)),
                (200 + 150 * math.cos(angle), 200 + 150 * math.sin(angle)),
            ],
            fill=CREAM,
            width=6,
        )
    draw.rectangle([170, 150, 230, 250], fill=GOLD)
    draw.polygon([(160, 150), (240, 150), (200, 115)], fill=RUST)
    draw.rectangle([160, 250, 240, 265], fill=RUST)
    return image


def night_market(rng: random.Random) -> Image.Image:
    image = Image.new("RGB", SIZE)
    draw = ImageDraw.Draw(image)
    colours = [NIGHT, TEAL, HARBOUR, RUST, GOLD]
    for i, colour in enumerate(colours):
        draw.rectangle([i * 128, 0, (i + 1) * 128, 260], fill=colour)
    for i in range(5):
        x = 20 + i * 125
        draw.polygon(
            [(x, 330), (x + 100, 330), (x + 90, 290), (x + 10, 290)], fill=rng.choice([RUST, GOLD])
        )
        draw.rectangle([x + 10, 330, x + 90, 390], fill=TEAL)
    draw.rectangle([0, 260, 640, 290], fill=CREAM)
    return image


STYLE_GUIDE = """# Lanternfall style guide

## Light
Every scene has at least one lantern. Lantern gold (#f5b942) is the only saturated warm colour;
it glows, it never flares. Reflections on water carry the light to the bottom of frame.

## Palette
Deep teal night (#0f3d4c), harbour blue (#1f6f8b), lantern gold (#f5b942), sailcloth cream
(#e8dcc2), rust (#b5523b). No pure black, no pure white. Fog is cream.

## Shapes
Chunky silhouettes, slightly leaning houses, triangles for coats and roofs. Mira reads as a
yellow triangle with a red scarf at any size; Tobin as a navy block with a white beard; Pip as
a ginger curve with one white sock.

## Camera
Eye level or lower. Slow pushes in fog, locked-off frames for the harbour. Never handheld.
"""

ASSETS = [
    (
        "harbour-dusk",
        "still",
        "Harbour at dusk",
        harbour_at_dusk,
        [],
        ["harbour", "dusk", "lanterns", "reflections", "town"],
        OWNED,
        "The town's lit windows doubled in the harbour water as the sun goes down.",
    ),
    (
        "lighthouse",
        "style_frame",
        "Lighthouse on the point",
        lighthouse,
        [],
        ["lighthouse", "cliff", "beam", "dawn"],
        OWNED,
        "Key art framing: the lighthouse beam sweeping across a cream dawn sky.",
    ),
    (
        "mira-lantern",
        "still",
        "Mira with her lantern",
        mira,
        ["mira"],
        ["mira", "lantern", "night", "character"],
        OWNED,
        "Mira at night on the quay holding her lantern pole high.",
    ),
    (
        "tobin-office",
        "still",
        "Tobin outside the harbour office",
        tobin,
        ["tobin"],
        ["tobin", "harbourmaster", "office"],
        OWNED,
        "Old Tobin in his peacoat in front of the rust-red harbour office.",
    ),
    (
        "pip-rooftops",
        "still",
        "Pip on the rooftops",
        pip_on_rooftops,
        ["pip"],
        ["pip", "cat", "rooftops", "moon"],
        OWNED,
        "The harbour cat curled on the roof ridge under a full moon.",
    ),
    (
        "festival",
        "style_frame",
        "Lantern festival on the water",
        lantern_festival,
        ["mira", "tobin"],
        ["festival", "lanterns", "water", "celebration"],
        OWNED,
        "Floating lanterns fill the harbour on festival night.",
    ),
    (
        "fog-quay",
        "still",
        "Fog on the quay",
        fog_on_the_quay,
        [],
        ["fog", "quay", "mist", "posts"],
        OWNED,
        "Mooring posts fading into cream fog, each with a small lantern.",
    ),
    (
        "fishing-boats",
        "still",
        "Fishing boats at their moorings",
        fishing_boats,
        [],
        ["boats", "sails", "harbour", "day"],
        {
            "holder": "Harbour Photo Co.",
            "licence": "Reference licence HP-2024-17",
            "worldwide": True,
            "valid_from": "2024-01-01",
            "valid_until": "2025-12-31",
            "notes": "Renewal under negotiation.",
        },
        "Photo-reference paintover of the fishing fleet; licensed reference.",
    ),
    (
        "storm",
        "still",
        "Storm over the breakwater",
        storm,
        [],
        ["storm", "rain", "waves", "breakwater", "lightning"],
        {
            "holder": "North Sea Pictures Ltd",
            "licence": "Territory licence NSP-88",
            "worldwide": False,
            "territories": ["GB", "IE"],
        },
        "Waves breaking over the breakwater in driving rain.",
    ),
    (
        "logo",
        "logo",
        "Lanternfall logo",
        logo,
        [],
        ["logo", "emblem", "lantern"],
        {
            **OWNED,
            "licence": "Registered trademark",
            "reference_use_allowed": False,
            "notes": "Trademark: never feed to generation; composite in post only.",
        },
        "The Lanternfall emblem: a lantern inside a ring of light.",
    ),
    (
        "night-market",
        "style_frame",
        "Colour script: the night market",
        night_market,
        [],
        ["colour script", "market", "palette", "night"],
        OWNED,
        "Colour script for the night-market sequence, teal to gold.",
    ),
]


def seed(*, stdout) -> None:
    """Create or refresh the Lanternfall demo IP and embed its assets."""
    rng = random.Random(7)
    with tempfile.TemporaryDirectory(prefix="lanternfall-") as folder:
        root = Path(folder)
        rows = []
        for key, kind, title, draw, characters, tags, rights, description in ASSETS:
            image = draw(rng)
            image.save(root / f"{key}.png", format="PNG")
            rows.append(
                {
                    "id": key,
                    "file": f"{key}.png",
                    "kind": kind,
                    "title": title,
                    "description": description,
                    "tags": tags,
                    "characters": characters,
                    "rights": rights,
                }
            )
        (root / "style-guide.md").write_text(STYLE_GUIDE, encoding="utf-8")
        rows.append(
            {
                "id": "style-guide",
                "file": "style-guide.md",
                "kind": "style_guide",
                "title": "Lanternfall style guide",
                "description": "Light, palette, shapes and camera rules for every shot.",
                "tags": ["style guide", "rules"],
                "characters": ["mira", "tobin", "pip"],
                "rights": OWNED,
            }
        )
        manifest = {"ip": IP_DATA, "characters": CHARACTERS, "assets": rows}
        (root / "manifest.json").write_text(json.dumps(manifest, indent=2), encoding="utf-8")
        summary = import_catalog(root)
    for asset in summary.assets:
        asset_embed(asset_id=asset.pk)
    stdout.write(f"Catalog: Lanternfall — {summary.lines()[0]}.")
    _seed_second_ip(stdout)


SECOND_IP = {
    "slug": "paper-comets",
    "name": "Paper Comets",
    "logline": "A client's origami mascots race paper comets across a rooftop city.",
    "style_notes": "Flat paper textures, crisp folds, bright primaries on off-white.",
    "palette": ["#f4efe6", "#d7263d", "#1b998b", "#2e294e", "#f46036"],
}


def _seed_second_ip(stdout) -> None:
    """A second, separate client IP, so the demo shows teams: its people see only it."""
    from retrieval.models import IP

    slug = SECOND_IP["slug"]
    IP.objects.update_or_create(
        slug=slug, defaults={k: v for k, v in SECOND_IP.items() if k != "slug"}
    )
    stdout.write("Catalog: Paper Comets (a second client's IP, no assets yet).")
