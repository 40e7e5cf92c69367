"""Every clip check catches its own kind of bad take, and passes a good one."""

import pytest

from briefs import checks, qc
from studio.ai import media
from studio.ai.types import Critique, Plan, ShotSpec

PALETTE = ("#0f3d4c", "#1f6f8b", "#f5b942", "#e8dcc2")
GOOD_CRITIQUE = Critique(score=0.8, reasons=("on palette",), model="local-critic-1")


def clip(**overrides) -> bytes:
    options = {
        "prompt": "the lantern keeper on the pier",
        "camera": "pan right",
        "duration_s": 4,
        "aspect_ratio": "16:9",
        "seed": 1,
        "palette": PALETTE,
        "reference_images": (),
        "size_short_side": 180,
    }
    return media.render_clip(**(options | overrides))


def verdict(video: bytes, *, critique: Critique = GOOD_CRITIQUE, duration: int = 4, aspect="16:9"):
    report = qc.qc_clip(video, expected_duration_s=duration, aspect_ratio=aspect, palette=PALETTE)
    return checks.check_clip(report=report, critique=critique)


def failed(result: checks.CheckResult) -> set[str]:
    return {finding.name for finding in result.findings if not finding.passed}


def test_a_good_clip_passes_every_check_with_the_critics_confidence():
    result = verdict(clip())

    assert result.passed and result.reasons == ()
    assert result.confidence == 0.8


@pytest.mark.parametrize(
    ("video", "expected", "reason"),
    [
        (
            lambda: media.render_flat_clip(colour="#000000", duration_s=4, aspect_ratio="16:9"),
            {"black"},
            "black from 0.00 s to 4.00 s",
        ),
        (
            lambda: media.render_flat_clip(colour="#7f7f7f", duration_s=4, aspect_ratio="16:9"),
            {"blank", "frozen"},
            "picture is flat",
        ),
        (lambda: clip(still=True), {"frozen"}, "picture frozen from"),
        (lambda: clip(duration_s=6), {"duration"}, "clip lasts 6.00 s, the shot needs 4 s"),
        (lambda: clip(aspect_ratio="9:16"), {"aspect"}, "the shot needs 16:9"),
    ],
    ids=["black", "blank", "frozen", "wrong-duration", "wrong-aspect"],
)
def test_each_bad_clip_fails_with_its_reason_and_time_range(video, expected, reason):
    result = verdict(video())

    assert not result.passed
    assert failed(result) == expected
    assert any(reason in text for text in result.reasons)
    timed = [f for f in result.findings if not f.passed and f.name != "aspect"]
    assert all(f.start_s is not None and f.end_s >= f.start_s for f in timed)


def test_an_off_palette_clip_is_shown_but_not_routed_because_palette_does_not_separate():
    result = verdict(clip(palette=media.complementary_palette(PALETTE)))

    palette = next(f for f in result.findings if f.name == "palette")
    assert result.passed and palette.value > 0.155
    assert "does not route" in palette.limit


def test_a_low_critic_score_fails_with_the_critics_reasons():
    low = Critique(score=0.2, reasons=("subject missing",), model="gemini-2.5-flash")

    result = verdict(clip(), critique=low)

    assert failed(result) == {"critic"}
    assert result.reasons == ("gemini-2.5-flash scored 0.20: subject missing",)


def _shot(prompt="Wide: the pier", duration=4, refs=(1,)) -> ShotSpec:
    return ShotSpec(
        prompt=prompt, negative_prompt="", camera="static", duration_s=duration, reference_ids=refs
    )


def test_a_plan_with_wrong_count_empty_prompt_bad_duration_and_unknown_ref_fails_each():
    plan = Plan(shots=(_shot(prompt=" "), _shot(duration=5), _shot(refs=(99,))), model="m")

    result = checks.check_plan(plan=plan, shot_count=4, known_reference_ids={1})

    assert failed(result) == {"shot_count", "prompts", "durations", "references"}
    assert result.reasons == (
        "plan has 3 shot(s), the brief asks for 4",
        "shot(s) 1 have an empty prompt",
        "shot(s) 2 have a duration Veo does not accept",
        "plan names unknown reference id(s) 99",
    )
    assert result.confidence == 0.0


def test_a_sound_plan_passes():
    plan = Plan(shots=(_shot(), _shot(duration=8)), model="m")

    assert checks.check_plan(plan=plan, shot_count=2, known_reference_ids={1}).passed
