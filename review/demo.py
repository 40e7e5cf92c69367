"""Demo review activity: a note with a frame region and an approval on the demo briefs' takes."""

from django.contrib.auth import get_user_model

from briefs.models import Take
from review import services
from review.models import Note

DEMO_BRIEF = "Mira lights the harbour"


def seed(*, stdout) -> None:
    """Add a few notes and one approval to the first demo brief, once."""
    users = get_user_model().objects
    director, producer = (
        users.filter(username="director").first(),
        users.filter(username="producer").first(),
    )
    takes = list(
        Take.objects.filter(shot__brief__title=DEMO_BRIEF, is_current=True, media__gt="")
        .select_related("shot__brief")
        .order_by("shot__order")
    )
    if director is None or producer is None or not takes:
        stdout.write("Review: skipped (no demo director, producer or reviewable takes).")
        return
    if Note.objects.filter(take__in=takes).exists():
        stdout.write("Review: demo notes already there.")
        return
    first = takes[0]
    services.add_note(
        take=first,
        user=director,
        body="Lantern glow blooms too hot here; keep it amber.",
        timecode_start=1.0,
        timecode_end=2.0,
        rect={"x": 0.35, "y": 0.2, "w": 0.3, "h": 0.35},
    )
    services.add_note(
        take=first,
        user=producer,
        body="Logo-safe area: keep the sea wall clear.",
        timecode_start=0.5,
    )
    decided = 0
    if len(takes) > 1 and takes[-1].status in (Take.Status.READY, Take.Status.ROUTED):
        last = takes[-1]
        criteria = {item: True for item in last.shot.brief.checklist or []}
        services.decide(
            take=last,
            user=director,
            verdict="approved",
            expected_version=last.version,
            checklist=criteria,
        )
        decided = 1
    stdout.write(f"Review: 2 notes and {decided} decision on “{DEMO_BRIEF}”.")
