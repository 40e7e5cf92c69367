"""Fault-injection benchmark: do the handoff checks stop silent failures from reaching people?

Runs K briefs x 6 shots through the real pipeline: real Celery worker processes, the embedded
PostgreSQL (a database of its own, created and dropped here), local providers wrapped by
studio.ai.faults at a per-step fault rate p that mixes loud faults (errors, timeouts, 429s,
malformed plans) with silent ones (blank, black, frozen or off-palette clips, empty or truncated
plans, inflated critic scores, random query vectors that fetch irrelevant references). A scripted
reviewer approves good takes and rejects bad ones, knowing the ground truth from the fault log.

Three runs in one go:
1. checks off: a naive chain, each step hands its output straight on (the validators in
   briefs.checks are replaced by ones that always pass, in the worker processes only);
2. checks on: the pipeline as shipped;
3. checks on while workers are SIGKILLed at random and replaced (the lease sweeper recovers).

Prints a table (also written into docs/reliability.md with --write-docs), then one JSON line.

    .venv/bin/python bench/coordination.py [--briefs 30] [--shots 6] [--fault-rate 0.03]
        [--seed 1] [--workers 2] [--write-docs]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.support import (
    LANTERNFALL_BEATS,
    ROOT,
    make_briefs,
    progress,
    throwaway_database,
)

DB_NAME = "bench_coordination"
DOCS = ROOT / "docs" / "reliability.md"
RESULTS_START, RESULTS_END = "<!-- bench:coordination -->", "<!-- /bench:coordination -->"
# How long a run may sit without a single new handoff before what is left counts as lost.
QUIET_SECONDS = 150


# --- Faults and the naive chain (shared with tests/reliability) ---------------------------------
def fault_rates(p: float) -> dict[str, dict[str, float]]:
    """Split a per-step fault rate p into loud and silent faults for every faulted step."""
    loud = {"error": p * 0.15, "timeout": p * 0.15, "rate_limit": p * 0.15}
    return {
        "plan": {**loud, "malformed": p * 0.15, "silent": p * 0.4},
        "generate": {**loud, "malformed": p * 0.15, "silent": p * 0.4},
        "critique": {"timeout": p * 0.3, "rate_limit": p * 0.3, "silent": p * 0.4},
        # Retrieval lets a permanent embedding error escape its step (see docs/reliability.md),
        # so the embedder gets transient faults and random vectors only.
        "embed": {"timeout": p * 0.3, "rate_limit": p * 0.3, "silent": p * 0.4},
    }


def disable_checks() -> dict:
    """Make every handoff validator pass (the naive chain); return what to restore."""
    from briefs import checks

    saved = {
        name: getattr(checks, name)
        for name in ("check_retrieval", "check_plan", "check_take", "is_strong_hit")
    }

    def passes(**_kwargs) -> checks.CheckResult:
        return checks.CheckResult(passed=True, confidence=1.0, reasons=())

    checks.check_retrieval = checks.check_plan = checks.check_take = passes
    checks.is_strong_hit = lambda hit: True
    return saved


@contextlib.contextmanager
def checks_disabled() -> Iterator[None]:
    """Run the block with the naive chain, then put the validators back."""
    from briefs import checks

    saved = disable_checks()
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(checks, name, value)


def short_hash(text: str) -> str:
    """Hash text the way studio.ai.faults keys its log."""
    return hashlib.blake2b(text.encode(), digest_size=6).hexdigest()


@dataclass
class GroundTruth:
    """What the fault injector spoiled, read from its log."""

    # Idempotency key of each spoiled take -> how it was spoiled (black, blank, frozen, ...).
    bad_take_keys: dict[str, str] = field(default_factory=dict)
    spoiled_queries: set[str] = field(default_factory=set)
    injected: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, log_path: Path) -> GroundTruth:
        truth = cls()
        if not log_path.exists():
            return truth
        for line in log_path.read_text(encoding="utf-8").splitlines():
            fault = json.loads(line)
            kind = "silent" if fault["kind"] == "silent" else "loud"
            name = f"{fault['step']}_{kind}"
            truth.injected[name] = truth.injected.get(name, 0) + 1
            if fault["step"] == "generate" and fault["kind"] == "silent":
                truth.bad_take_keys[fault["key"]] = fault["detail"]
            if fault["step"] == "embed" and fault["kind"] == "silent":
                truth.spoiled_queries.add(fault["key"])
        return truth

    def take_is_bad(self, take) -> bool:
        """Tell whether a take's content is wrong: a spoiled clip or a shot without a prompt."""
        return str(take.idempotency_key) in self.bad_take_keys or not take.shot.prompt.strip()


# --- Briefs, the scripted reviewer and the assessment -------------------------------------------
def review_waiting_takes(*, brief_ids: Sequence[int], reviewer, truth: GroundTruth) -> int:
    """Approve every good take waiting for a person and reject every bad one; return touches."""
    from briefs.models import Take
    from review import services

    waiting = Take.objects.filter(
        shot__brief_id__in=brief_ids,
        is_current=True,
        status__in=(Take.Status.READY, Take.Status.ROUTED),
    ).select_related("shot__brief")
    touches = 0
    for take in waiting:
        bad = truth.take_is_bad(take)
        try:
            services.decide(
                take=take,
                user=reviewer,
                verdict="rejected" if bad else "approved",
                expected_version=take.version,
                reason_code="artefacts" if bad else "",
            )
        except services.ReviewError:
            continue  # the pipeline moved the take meanwhile; it comes back next round
        touches += 1
    return touches


def irrelevant_reference_escapes(brief_ids: Sequence[int], truth: GroundTruth) -> int:
    """Count briefs that went on with references the real retrieval check would have refused."""
    from django.test.utils import override_settings

    from briefs import checks
    from briefs.models import Brief, Handoff
    from retrieval.selectors import search_assets

    escapes = 0
    spoiled = Brief.objects.filter(pk__in=brief_ids).select_related("ip")
    for brief in spoiled:
        query = " ".join(part for part in (brief.title, brief.beat, brief.tone) if part)
        if short_hash(query.strip()) not in truth.spoiled_queries:
            continue
        passed = brief.handoffs.filter(step=Handoff.Step.RETRIEVE, outcome="passed").exists()
        if not passed:
            continue
        # The true ranking: the same search without injected faults.
        with override_settings(AI_FAULTS={}):
            hits = search_assets(
                ip=brief.ip,
                query=query,
                k=50,
                territory=brief.territory,
                on_date=brief.release_date,
                use="reference",
            )
        strong = {hit.asset.pk for hit in hits if checks.is_strong_hit(hit)}
        pinned = set(brief.pinned_references.values_list("pk", flat=True))
        used = set(brief.references.values_list("pk", flat=True))
        escapes += bool(used - strong - pinned)
    return escapes


def assess(
    *, brief_ids: Sequence[int], truth: GroundTruth, shots_per_brief: int, touches: int
) -> dict:
    """Return the run's figures: e2e, silent escapes, routed share, retries, touches, lost."""
    from briefs import pipeline
    from briefs.models import Brief, Handoff, Take
    from reliability.metrics import reason_category

    briefs = Brief.objects.filter(pk__in=brief_ids).prefetch_related("shots")
    takes = list(Take.objects.filter(shot__brief_id__in=brief_ids).select_related("shot"))
    bad_takes = [take for take in takes if truth.take_is_bad(take)]
    escaped = [t for t in bad_takes if t.checks_passed or t.status == Take.Status.APPROVED]
    clip_escapes = len(escaped)
    plan_escapes = 0
    for brief in briefs:
        shots = list(brief.shots.all())
        planned = brief.status not in pipeline.BRIEF_STEP_FOR_STATUS
        wrong = len(shots) != brief.shot_count or any(not s.prompt.strip() for s in shots)
        plan_escapes += planned and brief.status != Brief.Status.NEEDS_ATTENTION and wrong
    reference_escapes = irrelevant_reference_escapes(brief_ids, truth)
    good_approved = sum(
        1
        for take in takes
        if take.is_current and take.status == Take.Status.APPROVED and not truth.take_is_bad(take)
    )
    handoffs = Handoff.objects.filter(brief_id__in=brief_ids)
    routed_takes = handoffs.filter(outcome="routed", take__isnull=False).count()
    routed_reasons = Counter(
        reason_category(step, detail, reasons)
        for step, detail, reasons in handoffs.filter(outcome="routed").values_list(
            "step", "detail", "reasons"
        )
    )
    presented = routed_takes + handoffs.filter(step="check", outcome="passed").count()
    approved_shots = sum(
        1 for take in takes if take.is_current and take.status == Take.Status.APPROVED
    )
    active = [*pipeline.BRIEF_STEP_FOR_STATUS, Brief.Status.GENERATING]
    requested = len(brief_ids) * shots_per_brief
    return {
        "briefs": len(brief_ids),
        "shots": requested,
        "measured_e2e": good_approved / requested if requested else 0.0,
        "silent_escapes": clip_escapes + plan_escapes + reference_escapes,
        "escapes_by_kind": {
            "clips": clip_escapes,
            "plans": plan_escapes,
            "references": reference_escapes,
        },
        "escaped_clips": [
            {
                "take": take.pk,
                "spoiled": truth.bad_take_keys.get(str(take.idempotency_key), "empty prompt"),
                "status": take.status,
                "checks": {f["name"]: f["value"] for f in take.checks},
            }
            for take in escaped
        ],
        "routed_share": routed_takes / presented if presented else 0.0,
        "routed_reasons": dict(routed_reasons.most_common()),
        "retries": handoffs.filter(outcome="retried").count(),
        "human_touches": touches,
        "human_touches_per_approved_shot": touches / approved_shots if approved_shots else 0.0,
        "lost_briefs": Brief.objects.filter(pk__in=brief_ids, status__in=active).count(),
        "briefs_needing_attention": briefs.filter(status=Brief.Status.NEEDS_ATTENTION).count(),
        "injected": truth.injected,
    }


def run_inline_scenario(
    *,
    ip,
    producer,
    reviewer,
    briefs: int,
    shots: int,
    fault_log: Path,
    beats: Sequence[str],
    checks: bool = True,
) -> dict:
    """Run briefs in this process (settings already carry the faults) and assess them."""
    from briefs import pipeline

    ids = make_briefs(
        ip=ip, producer=producer, count=briefs, shots=shots, prefix="Inline", beats=beats
    )
    started = time.perf_counter()
    with contextlib.nullcontext() if checks else checks_disabled():
        for pk in ids:
            pipeline.run_inline(pk, owner="bench-inline")
    truth = GroundTruth.read(fault_log)
    touches = review_waiting_takes(brief_ids=ids, reviewer=reviewer, truth=truth)
    figures = assess(brief_ids=ids, truth=truth, shots_per_brief=shots, touches=touches)
    return figures | {"wall_s": time.perf_counter() - started}


# --- Worker processes ---------------------------------------------------------------------------
def worker_main(argv: Sequence[str]) -> None:
    """Run one Celery worker with faults (and, for the naive chain, no checks)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--checks", choices=("on", "off"), required=True)
    parser.add_argument("--fault-rate", type=float, required=True)
    parser.add_argument("--seed", type=int, required=True)
    args = parser.parse_args(argv)
    import django

    django.setup()
    from celery.signals import worker_process_init
    from django.conf import settings

    from studio.celery import app

    settings.AI_FAULTS = fault_rates(args.fault_rate)
    settings.AI_FAULT_SEED = args.seed
    if args.checks == "off":
        disable_checks()

    @worker_process_init.connect
    def reseed(**_kwargs) -> None:
        # Each pool child draws its own fault sequence; a shared seed would repeat the same faults.
        settings.AI_FAULT_SEED = args.seed * 100_003 + os.getpid()

    app.worker_main(
        ["worker", "-n", f"{args.name}@%h", "--concurrency", "1", "--without-mingle",
         "--without-gossip", "-l", "warning"]
    )  # fmt: skip


class Workers:
    """A pool of benchmark worker processes that can be killed and replaced."""

    def __init__(self, *, env: dict, checks: bool, fault_rate: float, seed: int, logs: Path):
        self.env = env
        self.checks = checks
        self.fault_rate = fault_rate
        self.seed = seed
        self.logs = logs
        self.processes: list[subprocess.Popen] = []
        self.started = 0
        self.kills = 0

    def start(self, count: int) -> None:
        from studio.models import WorkerHeartbeat

        names = []
        for _ in range(count):
            self.started += 1
            name = f"coord{self.started}-{os.getpid()}"
            names.append(name)
            log = (self.logs / f"{name}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, str(Path(__file__)), "worker", "--name", name,
                     "--checks", "on" if self.checks else "off",
                     "--fault-rate", str(self.fault_rate), "--seed", str(self.seed + self.started)],
                    cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )  # fmt: skip
        deadline = time.monotonic() + 90
        beating = WorkerHeartbeat.objects.filter
        while not all(beating(hostname__startswith=name).exists() for name in names):
            if time.monotonic() > deadline:
                raise SystemExit(f"benchmark workers did not start; see {self.logs}")
            time.sleep(0.3)

    def kill_one(self, rng: random.Random) -> None:
        """SIGKILL a random worker and its pool child (a crash), then start a replacement."""
        alive = [p for p in self.processes if p.poll() is None]
        if not alive:
            return
        victim = rng.choice(alive)
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait(10)
        self.kills += 1
        self.start(1)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)


# --- The benchmark driver -----------------------------------------------------------------------
def bench_env(socket_dir: str, scratch: Path) -> dict[str, str]:
    """Return the environment this process and the workers share: every path private."""
    return {
        "DATABASE_URL": f"postgresql://postgres@{quote(socket_dir, safe='')}/{DB_NAME}",
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DJANGO_DEBUG": "false",
        "AI_PROVIDER": "local",
        "STUDIO_STATE_DIR": str(scratch / "state"),
        "MEDIA_ROOT": str(scratch / "media"),
        "STUDIO_BROKER_DIR": str(scratch / "broker"),
        "LOG_LEVEL": "WARNING",
        # A lease longer than any step under load (a shorter one makes workers steal each other's
        # work), short enough that a killed worker's step is picked up within a minute.
        "PIPELINE_LEASE_SECONDS": "60",
        "PIPELINE_BACKOFF_BASE_S": "0.5",
        "PIPELINE_BACKOFF_MAX_S": "4",
        "PIPELINE_POLL_SECONDS": "1",
    }


def run_with_workers(
    *, name: str, checks: bool, kill: bool, args, env: dict, scratch: Path, ip, people
) -> dict:
    """Run one scenario through real worker processes while the scripted reviewer works."""
    from briefs import pipeline
    from briefs.models import Brief, Handoff

    producer, reviewer = people
    fault_log = scratch / f"faults-{name}.jsonl"
    broker = Path(env["STUDIO_BROKER_DIR"]) / "queue"
    shutil.rmtree(broker, ignore_errors=True)
    broker.mkdir(parents=True)
    env = env | {"AI_FAULT_LOG": str(fault_log)}
    workers = Workers(
        env=env, checks=checks, fault_rate=args.fault_rate, seed=args.seed, logs=scratch
    )
    progress(f"{name}: starting {args.workers} workers (checks {'on' if checks else 'off'})")
    workers.start(args.workers)
    ids = make_briefs(
        ip=ip,
        producer=producer,
        count=args.briefs,
        shots=args.shots,
        prefix=f"{name} brief",
        beats=LANTERNFALL_BEATS,
    )
    rng = random.Random(args.seed)
    started = time.perf_counter()
    touches = 0
    next_kill = time.monotonic() + rng.uniform(4, 10)
    last_progress, last_count = time.monotonic(), -1
    active = [*pipeline.BRIEF_STEP_FOR_STATUS, Brief.Status.GENERATING]
    try:
        pipeline.enqueue(pipeline.NextStep("retrieve", pk) for pk in ids)
        while True:
            time.sleep(1.0)
            pipeline.enqueue(pipeline.sweep_expired_leases())
            truth = GroundTruth.read(fault_log)
            touches += review_waiting_takes(brief_ids=ids, reviewer=reviewer, truth=truth)
            if kill and time.monotonic() >= next_kill:
                workers.kill_one(rng)
                next_kill = time.monotonic() + rng.uniform(5, 12)
            count = Handoff.objects.filter(brief_id__in=ids).count()
            if count != last_count:
                last_progress, last_count = time.monotonic(), count
            busy = Brief.objects.filter(pk__in=ids, status__in=active).exists()
            quiet = time.monotonic() - last_progress > QUIET_SECONDS
            if (not busy and not review_pending(ids)) or quiet:
                break
        elapsed = time.perf_counter() - started
    finally:
        workers.stop()
    truth = GroundTruth.read(fault_log)
    figures = assess(brief_ids=ids, truth=truth, shots_per_brief=args.shots, touches=touches)
    progress(f"{name}: done in {elapsed:.0f} s")
    return figures | {"wall_s": elapsed, "workers_killed": workers.kills}


def review_pending(brief_ids: Sequence[int]) -> bool:
    from briefs.models import Take

    return Take.objects.filter(
        shot__brief_id__in=brief_ids,
        is_current=True,
        status__in=(Take.Status.READY, Take.Status.ROUTED),
    ).exists()


def seed_people_and_catalog():
    """Create a producer, a director and the Lanternfall demo catalog (embedded)."""
    import io

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from retrieval import demo
    from retrieval.models import IP
    from studio.roles import Role

    users = get_user_model().objects
    producer = users.create(username="bench-producer", first_name="Priya")
    producer.groups.add(Group.objects.get(name=Role.PRODUCER.value))
    reviewer = users.create(username="bench-reviewer", first_name="Rae")
    reviewer.groups.add(Group.objects.get(name=Role.CREATIVE_DIRECTOR.value))
    progress("seeding the Lanternfall catalog")
    demo.seed(stdout=io.StringIO())
    return IP.objects.get(slug="lanternfall"), (producer, reviewer)


def table(args, off: dict, on: dict, killed: dict) -> str:
    """Render the results side by side as a Markdown table."""
    predicted = (1 - args.fault_rate) ** 6

    def pct(value: float) -> str:
        return f"{value:.1%}"

    rows = [
        ("shots (briefs x shots)", *(f"{r['shots']} ({r['briefs']} x {args.shots})" for r in
                                     (off, on, killed))),
        ("predicted end to end, (1 - p)^6", pct(predicted), pct(predicted), pct(predicted)),
        ("measured: shots approved with a good take", *(pct(r["measured_e2e"]) for r in
                                                         (off, on, killed))),
        ("silent escapes (clips / plans / references)",
         *(f"{r['silent_escapes']} ({r['escapes_by_kind']['clips']} / "
           f"{r['escapes_by_kind']['plans']} / {r['escapes_by_kind']['references']})"
           for r in (off, on, killed))),
        ("routed-to-human share of takes shown to people", *(pct(r["routed_share"]) for r in
                                                            (off, on, killed))),
        ("escaped clips, by injected fault",
         *(", ".join(f"{k} {v}" for k, v in Counter(e["spoiled"] for e in r["escaped_clips"])
                     .items()) or "—" for r in (off, on, killed))),
        ("why takes were routed",
         *(", ".join(f"{k} {v}" for k, v in r["routed_reasons"].items()) or "—"
           for r in (off, on, killed))),
        ("retries", *(str(r["retries"]) for r in (off, on, killed))),
        ("human touches per approved shot",
         *(f"{r['human_touches_per_approved_shot']:.2f}" for r in (off, on, killed))),
        ("lost briefs", *(str(r["lost_briefs"]) for r in (off, on, killed))),
        ("briefs routed to their producer", *(str(r["briefs_needing_attention"]) for r in
                                              (off, on, killed))),
        ("faults injected (loud / silent)",
         *(f"{sum(v for k, v in r['injected'].items() if k.endswith('loud'))} / "
           f"{sum(v for k, v in r['injected'].items() if k.endswith('silent'))}"
           for r in (off, on, killed))),
        ("workers killed", "0", "0", str(killed["workers_killed"])),
        ("wall time", *(f"{r['wall_s']:.0f} s" for r in (off, on, killed))),
    ]  # fmt: skip
    lines = [
        f"Fault rate p = {args.fault_rate:.0%} per step, seed {args.seed}, "
        f"{args.workers} worker processes, local providers.",
        "",
        "| figure | checks off (naive chain) | checks on | checks on, workers killed |",
        "| --- | --- | --- | --- |",
        *(f"| {' | '.join(row)} |" for row in rows),
    ]
    return "\n".join(lines)


def write_docs(markdown: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = f"{RESULTS_START}\n{markdown}\n{RESULTS_END}"
    pattern = re.compile(re.escape(RESULTS_START) + ".*?" + re.escape(RESULTS_END), re.S)
    DOCS.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")
    progress(f"wrote the results into {DOCS.relative_to(ROOT)}")


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--briefs", type=int, default=30)
    parser.add_argument("--shots", type=int, default=6)
    parser.add_argument("--fault-rate", type=float, default=0.03)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    with (
        throwaway_database(DB_NAME) as socket_dir,
        tempfile.TemporaryDirectory(prefix="bench-coordination-") as folder,
    ):
        scratch = Path(folder)
        env = bench_env(socket_dir, scratch)
        os.environ.update(env)
        import django

        django.setup()
        from django.core.management import call_command

        progress(f"migrating {DB_NAME}")
        call_command("migrate", verbosity=0)
        ip, people = seed_people_and_catalog()
        common = {"args": args, "env": env, "scratch": scratch, "ip": ip, "people": people}
        off = run_with_workers(name="checks-off", checks=False, kill=False, **common)
        on = run_with_workers(name="checks-on", checks=True, kill=False, **common)
        killed = run_with_workers(name="killed", checks=True, kill=True, **common)
    markdown = table(args, off, on, killed)
    print(markdown)
    if args.write_docs:
        write_docs(markdown)
    print(
        json.dumps(
            {
                "shots": on["shots"],
                "fault_rate": args.fault_rate,
                "predicted_e2e": round((1 - args.fault_rate) ** 6, 4),
                "measured_e2e_checks_off": round(off["measured_e2e"], 4),
                "measured_e2e_checks_on": round(on["measured_e2e"], 4),
                "measured_e2e_workers_killed": round(killed["measured_e2e"], 4),
                "silent_escapes_checks_off": off["silent_escapes"],
                "silent_escapes_checks_on": on["silent_escapes"],
                "silent_escapes_workers_killed": killed["silent_escapes"],
                "lost_briefs": on["lost_briefs"] + killed["lost_briefs"],
                "lost_briefs_checks_off": off["lost_briefs"],
                "routed_share": round(on["routed_share"], 4),
                "retries": on["retries"],
                "human_touches_per_approved_shot": round(on["human_touches_per_approved_shot"], 3),
                "workers_killed": killed["workers_killed"],
                "wall_s": {
                    "checks_off": round(off["wall_s"], 1),
                    "checks_on": round(on["wall_s"], 1),
                    "workers_killed": round(killed["wall_s"], 1),
                },
            }
        )
    )


if __name__ == "__main__":
    main()
