"""A small fault-injection run in the suite: the checks let no silent fault through, lose no brief.

The same run with the validators switched off (the naive chain) lets silent faults through,
which is what shows the count can fail.
"""

from pathlib import Path

import pytest

from bench.coordination import fault_rates, run_inline_scenario
from tests.factories.retrieval import IPFactory, embedded_asset
from tests.factories.users import director, producer

BEATS = ("The lantern keeper walks the pier at dusk, then the tide rolls in over the stones.",)


@pytest.fixture
def harbour(db):
    ip = IPFactory()
    embedded_asset(
        ip=ip, title="Lantern keeper on the pier", description="the lantern keeper walks the pier"
    )
    embedded_asset(
        ip=ip, title="Tide over stones", description="the tide rolls in over the harbour stones"
    )
    return ip


@pytest.fixture
def faulty_local_ai(harbour, settings, tmp_path):
    """Faults on every provider call from here on; the catalog was embedded without them."""
    settings.AI_PROVIDER = "local"
    settings.LOCAL_OPS_DIR = tmp_path / "ops"
    settings.AI_FAULTS = fault_rates(0.3)
    settings.AI_FAULT_SEED = 5
    settings.AI_FAULT_LOG = str(tmp_path / "faults.jsonl")
    return settings


def run(harbour, settings, *, checks: bool) -> dict:
    return run_inline_scenario(
        ip=harbour,
        producer=producer(),
        reviewer=director(),
        briefs=3,
        shots=3,
        fault_log=Path(settings.AI_FAULT_LOG),
        beats=BEATS,
        checks=checks,
    )


def test_with_checks_on_no_silent_fault_escapes_and_no_brief_is_lost(faulty_local_ai, harbour):
    figures = run(harbour, faulty_local_ai, checks=True)

    assert figures["injected"].get("generate_silent", 0) >= 1
    assert figures["silent_escapes"] == 0, figures["escapes_by_kind"]
    assert figures["lost_briefs"] == 0
    assert figures["measured_e2e"] > 0


def test_the_naive_chain_lets_silent_faults_through(faulty_local_ai, harbour):
    figures = run(harbour, faulty_local_ai, checks=False)

    assert figures["silent_escapes"] >= 1
