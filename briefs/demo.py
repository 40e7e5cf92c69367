"""Demo briefs on Lanternfall, run through the pipeline in-process with the local providers.

The review board then has real takes at once: one brief ready for review, one whose take was
routed to a human with its reasons, and one whose shot plan waits at the gate.
"""

import random
from datetime import timedelta
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import timezone

from briefs import pipeline
from briefs.models import Brief
from retrieval.models import IP
from studio.ai import faults, local

DEMO_BRIEFS = [
    {
        "title": "Mira lights the harbour",
        "beat": (
            "Mira climbs the sea wall with her brass lantern, then lights the harbour lamps one by "
            "one while the fog rolls in over the boats."
        ),
        "tone": "mysterious",
        "shot_count": 3,
        "checklist": ["Mira is on model: yellow oilskin, red scarf", "No pure black"],
    },
    {
        "title": "Pip at the night market",
        "beat": "Pip slips between the lantern stalls of the night market.",
        "tone": "playful",
        "shot_count": 1,
        # Seed 15 makes the demo generator render black clips, so the checks route the take.
        "fault_seed": 15,
    },
    {
        "title": "Tobin reads the tide tables",
        "beat": "Old Tobin checks the tide tables by lantern light, then looks out to sea.",
        "tone": "calm",
        "shot_count": 2,
        "requires_plan_approval": True,
        "sound": Brief.Sound.DIALOGUE,
    },
]


def seed(*, stdout) -> None:
    """Create the demo briefs once and run each through the pipeline in this process."""
    ip = IP.objects.filter(slug="lanternfall").first()
    producer = get_user_model().objects.filter(username="producer").first()
    if ip is None or producer is None:
        stdout.write("Briefs: skipped (the Lanternfall catalog or the demo producer is missing).")
        return
    ops = Path(settings.LOCAL_OPS_DIR)
    created = 0
    for spec in DEMO_BRIEFS:
        if Brief.objects.filter(ip=ip, title=spec["title"]).exists():
            continue
        brief = Brief.objects.create(
            ip=ip,
            producer=producer,
            title=spec["title"],
            beat=spec["beat"],
            tone=spec["tone"],
            shot_count=spec["shot_count"],
            aspect_ratio=Brief.AspectRatio.LANDSCAPE,
            seconds_per_shot=4,
            territory="GB",
            release_date=timezone.localdate() + timedelta(days=45),
            negative_prompt="pure black, text, logos",
            requires_plan_approval=spec.get("requires_plan_approval", False),
            checklist=spec.get("checklist", ["On model", "On palette"]),
            sound=spec.get("sound", Brief.Sound.AMBIENCE),
        )
        generator = local.LocalGenerator(ops)
        if "fault_seed" in spec:
            injector = faults.FaultInjector(
                {"generate": {"silent": 1.0}}, random.Random(spec["fault_seed"])
            )
            generator = faults.FaultyGenerator(generator, injector, workdir=ops)
        providers = pipeline.Providers(
            planner=local.LocalPlanner(), generator=generator, critic=local.LocalCritic()
        )
        brief = pipeline.run_inline(brief.pk, providers=providers, owner="demo")
        created += 1
        stdout.write(f"Briefs: “{brief.title}” — {brief.get_status_display().lower()}.")
    if not created:
        stdout.write("Briefs: demo briefs already present.")
