"""A small fault run in the suite: a seed replays the same faults and outcomes, nothing is lost.

The run uses the benchmark's own fault kinds (bench/coordination.py) on the demo catalog. It does
not assert a catch rate: the benchmark measures that; this checks the measurement is repeatable.
"""

import io
from pathlib import Path

import pytest

from bench.coordination import SILENT_KINDS, FaultRates, run_inline_mode
from retrieval import demo
from retrieval.models import IP
from tests.factories.users import director, producer

BRIEFS = range(2)


@pytest.fixture
def lanternfall(db, settings):
    """The demo catalog, embedded with the local providers and no injected faults."""
    settings.AI_PROVIDER = "local"
    settings.AI_FAULTS = {}
    demo.seed(stdout=io.StringIO())
    return IP.objects.get(slug="lanternfall")


def run(ip, scratch: Path, *, mode: str, checks: bool = True, seed: int = 7) -> dict:
    scratch.mkdir()
    return run_inline_mode(
        mode=mode,
        checks=checks,
        ip=ip,
        people=(producer(), director()),
        indices=BRIEFS,
        seed=seed,
        rates=FaultRates(),
        scratch=scratch,
    )


def injected(figures: dict) -> list[tuple]:
    """The run's fault log without what differs between runs (row ids, take keys, titles)."""
    return sorted(
        (
            row.get("brief", "").split("#")[-1],
            row["step"],
            row.get("shot"),
            row.get("take"),
            row.get("attempt"),
            row["kind"],
            row.get("severity"),
        )
        for row in figures["log"]
    )


def outcomes(figures: dict) -> dict:
    return {
        kind: (tally.injected, tally.caught, tally.escaped, tally.by_severity)
        for kind, tally in figures["tallies"].items()
    }


def test_the_same_seed_injects_the_same_faults_with_the_same_outcomes(lanternfall, tmp_path):
    first = run(lanternfall, tmp_path / "first", mode="first")
    second = run(lanternfall, tmp_path / "second", mode="second")

    assert sum(tally.injected for tally in first["tallies"].values()) >= 3
    assert injected(first) == injected(second)
    assert outcomes(first) == outcomes(second)
    assert (first["clean_takes"], first["clean_takes_routed"]) == (
        second["clean_takes"],
        second["clean_takes_routed"],
    )
    assert first["lost_briefs"] == second["lost_briefs"] == 0
    assert first["crashed"] == 0


def test_with_checks_off_the_same_faults_reach_review_and_no_brief_is_lost(lanternfall, tmp_path):
    on = run(lanternfall, tmp_path / "on", mode="on")
    off = run(lanternfall, tmp_path / "off", mode="off", checks=False)

    first_takes = [row for row in injected(on) if row[1] == "clip" and row[3] == 1]
    assert first_takes == [row for row in injected(off) if row[1] == "clip" and row[3] == 1]
    clip_kinds = [k for k in SILENT_KINDS if not k.startswith(("plan_", "irrelevant"))]
    # Unjudged, every spoiled clip that decodes reaches review marked as passed.
    assert sum(off["tallies"][k].caught for k in clip_kinds if k != "truncated_file") == 0
    assert off["clean_takes_routed"] == 0
    assert on["lost_briefs"] == off["lost_briefs"] == 0
