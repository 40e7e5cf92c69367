"""Benchmark the brief pipeline: our own work per shot, QC per clip, throughput, worker memory.

Creates its own database on the embedded server (never the dev or test data) and its own broker,
media and local-ops folders, migrates, seeds the Lanternfall demo catalog, then measures:

1. our own work per shot, in-process: briefs run with instant providers (a plan, a tiny clip
   and a score returned at once; the embedder timed as a provider). Everything else counts as
   ours: queries, leases, state changes, storage writes, Handoff rows, the poster, the probe's
   bookkeeping and the checks, except the QC decode (media.probe_video), reported on its own
   as qc_ms_per_clip;
2. the same through the real broker and two real worker processes (bench/pipeline_worker.py:
   the project's Celery app with the same instant, timed providers): task time per shot less
   provider and QC-decode time, queries per shot counted in the workers, and wall time per shot
   from enqueue to the last brief leaving the pipeline (broker latency included);
3. throughput: --briefs briefs x --shots shots through two real Celery worker processes with the
   local providers (real H.264 renders), from enqueue until every brief has left the pipeline;
4. peak worker memory: the largest resident set of a worker process (parent or pool child)
   sampled every 100 ms during the throughput run.

Prints a table, then one JSON line. Drops the database at the end.

    .venv/bin/python bench/pipeline.py [--briefs 20] [--shots 6] [--overhead-briefs 5]
        [--worker-briefs 5]
"""

import argparse
import cProfile
import functools
import io
import json
import os
import pstats
import re
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.support import ROOT, make_briefs, progress, throwaway_database

DB_NAME = "bench_pipeline"
TARGET_OVERHEAD_MS = 50
TARGET_QUERIES_PER_SHOT = 20
WORKERS = 2


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--briefs", type=int, default=20)
    parser.add_argument("--shots", type=int, default=6)
    parser.add_argument("--overhead-briefs", type=int, default=5)
    parser.add_argument("--worker-briefs", type=int, default=5)
    parser.add_argument(
        "--profile", action="store_true", help="CPU profile and query shapes of the in-process run"
    )
    args = parser.parse_args()
    with (
        throwaway_database(DB_NAME) as socket_dir,
        tempfile.TemporaryDirectory(prefix="bench-pipeline-") as scratch,
    ):
        run(socket_dir, Path(scratch), args)


def bench_env(socket_dir: str, scratch: Path) -> dict[str, str]:
    """Return the environment shared by this process and the workers: all paths private."""
    return {
        "DATABASE_URL": f"postgresql://postgres@{quote(socket_dir, safe='')}/{DB_NAME}",
        "DJANGO_SETTINGS_MODULE": "studio.settings",
        "DJANGO_DEBUG": "false",
        "AI_PROVIDER": "local",
        "STUDIO_STATE_DIR": str(scratch / "state"),
        "MEDIA_ROOT": str(scratch / "media"),
        "STUDIO_BROKER_DIR": str(scratch / "broker"),
        "LOG_LEVEL": "WARNING",
    }


def run(socket_dir: str, scratch: Path, args: argparse.Namespace) -> None:
    env = bench_env(socket_dir, scratch)
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    progress(f"migrating {DB_NAME}")
    call_command("migrate", verbosity=0)
    producer = seed_catalog()
    overhead = measure_overhead(producer, args.overhead_briefs, args.shots, args.profile)
    through_workers = measure_through_workers(
        producer, env, scratch, args.worker_briefs, args.shots
    )
    throughput = measure_throughput(producer, env, args.briefs, args.shots)
    report(overhead, through_workers, throughput, args)


def seed_catalog():
    """Create a producer and the Lanternfall demo catalog (real pictures, embedded)."""
    import io

    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group

    from retrieval import demo
    from studio.roles import Role

    producer = get_user_model().objects.create(username="bench-producer", first_name="Priya")
    producer.groups.add(Group.objects.get(name=Role.PRODUCER.value))
    progress("seeding the Lanternfall catalog")
    demo.seed(stdout=io.StringIO())
    return producer


def lanternfall():
    from retrieval.models import IP

    return IP.objects.get(slug="lanternfall")


# --- 1. overhead with instant providers ---------------------------------------------------------
class InstantPlanner:
    model = "local-instant-planner"

    def plan(self, request):
        from studio.ai.types import Plan, ShotSpec

        refs = tuple(r.asset_id for r in request.references[:2])
        shots = tuple(
            ShotSpec(
                prompt=f"Shot {n + 1}: {request.beat}",
                negative_prompt="",
                camera="static",
                duration_s=request.seconds_per_shot,
                reference_ids=refs,
                audio="Ambience: harbour wind." if request.sound != "none" else "",
            )
            for n in range(request.shot_count)
        )
        return Plan(shots=shots, model=self.model)


class InstantGenerator:
    model = "local-instant-renderer"

    def __init__(self) -> None:
        from studio.ai import media

        # A real but tiny clip (128x72, 2 fps), so storing and checking it costs almost nothing.
        self.video = media.render_clip(
            prompt="",
            camera="pan right",
            duration_s=4,
            aspect_ratio="16:9",
            seed=1,
            palette=("#0f3d4c", "#f5b942"),
            reference_images=(),
            fps=2,
            size_short_side=72,
        )

    def start(self, request) -> str:
        return "instant-" + request.idempotency_key.replace("-", "")

    def poll(self, operation_id: str):
        from studio.ai.types import GenerationStatus

        return GenerationStatus(done=True, operation_id=operation_id, video=self.video)


class InstantCritic:
    model = "local-instant-critic"

    def critique(self, *, prompt, poster_png, references):
        from studio.ai.types import Critique

        return Critique(score=0.9, reasons=("instant",), model=self.model)


class Stopwatch:
    """Accumulate the time spent inside wrapped callables (providers and media decoding)."""

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0  # this process's CPU time inside: robust to a busy machine

    def wrap(self, func):
        @functools.wraps(func)
        def timed(*args, **kwargs):
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds += time.perf_counter() - started
                self.cpu_seconds += time.process_time() - cpu

        return timed


def measure_overhead(producer, briefs: int, shots: int, profile: bool = False) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext, override_settings

    from bench.pipeline_worker import TimedEmbedder
    from briefs import pipeline
    from briefs.models import Brief, Shot
    from studio.ai import media
    from studio.ai import providers as provider_registry

    watch, qc_watch = Stopwatch(), Stopwatch()
    planner, generator, critic = InstantPlanner(), InstantGenerator(), InstantCritic()
    planner.plan = watch.wrap(planner.plan)
    generator.start, generator.poll = watch.wrap(generator.start), watch.wrap(generator.poll)
    critic.critique = watch.wrap(critic.critique)
    real_get_embedder = provider_registry.get_embedder
    provider_registry.get_embedder = lambda **kw: TimedEmbedder(real_get_embedder(**kw), watch)
    probe_video, probed = media.probe_video, []

    def counted_probe(*args, **kwargs):
        probed.append(1)
        return probe_video(*args, **kwargs)

    media.probe_video = qc_watch.wrap(counted_probe)
    # The tiny clip is not on the demo palette; the checks' thresholds are not under test here.
    # Warm up as a long-running worker is: URL resolver, imports, template and query caches.
    [warm_up] = make_briefs(ip=lanternfall(), producer=producer, count=1, shots=1, prefix="Warm")
    with override_settings(PIPELINE_MIN_CRITIC_SCORE=0):
        pipeline.run_inline(
            warm_up,
            providers=pipeline.Providers(planner=planner, generator=generator, critic=critic),
        )
    watch.seconds = qc_watch.seconds = watch.cpu_seconds = qc_watch.cpu_seconds = 0.0
    probed.clear()
    ids = make_briefs(
        ip=lanternfall(), producer=producer, count=briefs, shots=shots, prefix="Overhead brief"
    )
    progress(f"overhead: {briefs} briefs x {shots} shots in-process with instant providers")
    try:
        with (
            override_settings(PIPELINE_MIN_CRITIC_SCORE=0),
            CaptureQueriesContext(connection) as queries,
        ):
            profiler = cProfile.Profile(time.process_time) if profile else None
            started, cpu_started = time.perf_counter(), time.process_time()
            for pk in ids:
                run = functools.partial(
                    pipeline.run_inline,
                    pk,
                    providers=pipeline.Providers(
                        planner=planner, generator=generator, critic=critic
                    ),
                )
                profiler.runcall(run) if profiler else run()
            elapsed = time.perf_counter() - started
            cpu = time.process_time() - cpu_started
    finally:
        media.probe_video = probe_video
        provider_registry.get_embedder = real_get_embedder
    if profiler:
        print_profile(profiler, queries.captured_queries, briefs * shots)
    ready = Shot.objects.filter(brief_id__in=ids, status=Shot.Status.READY).count()
    in_review = Brief.objects.filter(pk__in=ids, status=Brief.Status.IN_REVIEW).count()
    total_shots = briefs * shots
    return {
        "shots": total_shots,
        "ready": ready,
        "briefs_in_review": in_review,
        "wall_ms_per_shot": 1000 * elapsed / total_shots,
        "provider_ms_per_shot": 1000 * watch.seconds / total_shots,
        "qc_ms_per_clip": 1000 * qc_watch.seconds / max(1, len(probed)),
        "clips_probed": len(probed),
        "overhead_ms_per_shot": 1000 * (elapsed - watch.seconds - qc_watch.seconds) / total_shots,
        "overhead_cpu_ms_per_shot": 1000
        * (cpu - watch.cpu_seconds - qc_watch.cpu_seconds)
        / total_shots,
        "qc_cpu_ms_per_clip": 1000 * qc_watch.cpu_seconds / max(1, len(probed)),
        "queries_per_shot": len(queries) / total_shots,
        "load_average": os.getloadavg()[0],
    }


def print_profile(profiler, captured: list[dict], shots: int) -> None:
    """Print the CPU profile (by cumulative time) and the commonest query shapes per shot."""
    out = io.StringIO()
    stats = pstats.Stats(profiler, stream=out).strip_dirs()
    stats.sort_stats("cumulative").print_stats(45)
    shapes = Counter(re.sub(r"\b\d+\b", "N", " ".join(q["sql"].split()))[:110] for q in captured)
    lines = [f"{n / shots:6.2f}  {sql}" for sql, n in shapes.most_common(25)]
    print(out.getvalue(), file=sys.stderr)
    print("queries per shot by shape:\n" + "\n".join(lines), file=sys.stderr)


# --- 2. the same work through the real broker and worker processes -----------------------------
def measure_through_workers(producer, env: dict[str, str], scratch: Path, briefs: int, shots: int):
    from briefs import pipeline, tasks
    from briefs.models import Brief, Shot

    stats_dir = scratch / "worker-stats"
    worker_env = {
        **os.environ,
        **env,
        "BENCH_WORKER_STATS": str(stats_dir),
        # As the in-process run: the tiny clip is not on the palette, the critic is a stub.
        "PIPELINE_MIN_CRITIC_SCORE": "0",
    }
    progress(f"workers: starting {WORKERS} worker processes with instant providers")
    command = [sys.executable, str(ROOT / "bench" / "pipeline_worker.py")]
    workers = start_workers(worker_env, [[*command, f"benchinstant{n}@%h"] for n in range(WORKERS)])
    ids = make_briefs(
        ip=lanternfall(), producer=producer, count=briefs, shots=shots, prefix="Worker brief"
    )
    progress(f"workers: {briefs} briefs x {shots} shots through the broker")
    started = time.perf_counter()
    try:
        tasks.enqueue(pipeline.NextStep("retrieve", pk) for pk in ids)
        active = [*pipeline.BRIEF_STEP_FOR_STATUS, Brief.Status.GENERATING]
        deadline = time.monotonic() + 900
        while Brief.objects.filter(pk__in=ids, status__in=active).exists():
            if time.monotonic() > deadline:
                raise SystemExit("the worker run did not finish in 15 minutes")
            time.sleep(0.1)
        elapsed = time.perf_counter() - started
    finally:
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
    totals: dict[str, float] = {}
    for path in stats_dir.glob("*.json"):
        for key, value in json.loads(path.read_text()).items():
            totals[key] = totals.get(key, 0) + value
    total_shots = briefs * shots
    ours = totals["task_seconds"] - totals["provider_seconds"] - totals["qc_seconds"]
    return {
        "shots": total_shots,
        "ready": Shot.objects.filter(brief_id__in=ids, status=Shot.Status.READY).count(),
        "tasks": int(totals["tasks"]),
        "wall_ms_per_shot": 1000 * elapsed / total_shots,
        "task_ms_per_shot": 1000 * totals["task_seconds"] / total_shots,
        "overhead_ms_per_shot": 1000 * ours / total_shots,
        "qc_ms_per_clip": 1000 * totals["qc_seconds"] / max(1, totals["clips_probed"]),
        "queries_per_shot": totals["queries"] / total_shots,
        "load_average": os.getloadavg()[0],
    }


# --- 3 and 4. throughput and memory with two real workers ---------------------------------------
def start_workers(env: dict[str, str], commands: list[list[str]]) -> list[subprocess.Popen]:
    from studio.models import WorkerHeartbeat

    full_env = {**os.environ, **env}
    names = [command[-1].split("@")[0] for command in commands]
    workers = [
        subprocess.Popen(
            command, cwd=ROOT, env=full_env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for command in commands
    ]
    deadline = time.monotonic() + 60
    heartbeats = WorkerHeartbeat.objects.filter(hostname__regex=r"^(" + "|".join(names) + ")@")
    while heartbeats.count() < len(commands):
        if time.monotonic() > deadline or any(w.poll() is not None for w in workers):
            raise SystemExit("the benchmark workers did not start")
        time.sleep(0.2)
    return workers


def sample_rss(workers: list[subprocess.Popen], stop: threading.Event, peak: dict) -> None:
    import psutil

    while not stop.is_set():
        for worker in workers:
            try:
                parent = psutil.Process(worker.pid)
                for process in [parent, *parent.children(recursive=True)]:
                    peak["rss"] = max(peak["rss"], process.memory_info().rss)
            except psutil.NoSuchProcess:
                continue
        stop.wait(0.1)


def measure_throughput(producer, env: dict[str, str], briefs: int, shots: int) -> dict:
    from briefs import pipeline
    from briefs.models import Brief, Handoff, Shot

    progress(f"throughput: starting {WORKERS} workers")
    command = [sys.executable, "-m", "celery", "-A", "studio", "worker", "--concurrency", "1"]
    command += ["--without-mingle", "--without-gossip", "-l", "warning"]
    workers = start_workers(env, [[*command, "-n", f"bench{n}@%h"] for n in range(WORKERS)])
    ids = make_briefs(
        ip=lanternfall(), producer=producer, count=briefs, shots=shots, prefix="Throughput brief"
    )
    stop, peak = threading.Event(), {"rss": 0}
    sampler = threading.Thread(target=sample_rss, args=(workers, stop, peak), daemon=True)
    sampler.start()
    progress(f"throughput: {briefs} briefs x {shots} shots with local renders")
    started = time.perf_counter()
    try:
        pipeline.enqueue(pipeline.NextStep("retrieve", pk) for pk in ids)
        active = [*pipeline.BRIEF_STEP_FOR_STATUS, Brief.Status.GENERATING]
        deadline = time.monotonic() + 1800
        while Brief.objects.filter(pk__in=ids, status__in=active).exists():
            if time.monotonic() > deadline:
                raise SystemExit("throughput run did not finish in 30 minutes")
            time.sleep(0.25)
        elapsed = time.perf_counter() - started
    finally:
        stop.set()
        sampler.join()
        for worker in workers:
            worker.terminate()
        for worker in workers:
            worker.wait(30)
    failed_checks: dict[str, int] = {}
    for detail in (
        Handoff.objects.filter(brief_id__in=ids, step="check")
        .exclude(outcome="passed")
        .values_list("detail", flat=True)
    ):
        for finding in detail.get("checks", []):
            if not finding["passed"]:
                failed_checks[finding["name"]] = failed_checks.get(finding["name"], 0) + 1
    done = Shot.objects.filter(brief_id__in=ids).exclude(status=Shot.Status.FAILED).count()
    ready = Shot.objects.filter(brief_id__in=ids, status=Shot.Status.READY).count()
    return {
        "shots": briefs * shots,
        "shots_done": done,
        "shots_ready": ready,
        "seconds": elapsed,
        "shots_per_minute": 60 * done / elapsed,
        "peak_worker_rss_mb": peak["rss"] / (1024 * 1024),
        "failed_checks": failed_checks,
    }


def report(overhead: dict, workers: dict, throughput: dict, args: argparse.Namespace) -> None:
    rows = [
        ("in-process: shots (instant providers)", f"{overhead['shots']}"),
        ("in-process: wall time per shot", f"{overhead['wall_ms_per_shot']:.1f} ms"),
        ("in-process: providers per shot", f"{overhead['provider_ms_per_shot']:.1f} ms"),
        ("in-process: QC decode per clip", f"{overhead['qc_ms_per_clip']:.1f} ms"),
        (
            f"in-process: ours per shot (target <= {TARGET_OVERHEAD_MS} ms)",
            f"{overhead['overhead_ms_per_shot']:.1f} ms",
        ),
        (
            "in-process: ours per shot, this process's CPU only",
            f"{overhead['overhead_cpu_ms_per_shot']:.1f} ms",
        ),
        ("in-process: QC decode per clip, CPU", f"{overhead['qc_cpu_ms_per_clip']:.1f} ms"),
        (
            f"in-process: queries per shot (target <= {TARGET_QUERIES_PER_SHOT})",
            f"{overhead['queries_per_shot']:.1f}",
        ),
        ("in-process: load average then", f"{overhead['load_average']:.1f}"),
        ("in-process: shots ready", f"{overhead['ready']} / {overhead['shots']}"),
        (f"workers: shots through broker + {WORKERS} workers", f"{workers['shots']}"),
        ("workers: tasks run", f"{workers['tasks']}"),
        ("workers: task time per shot", f"{workers['task_ms_per_shot']:.1f} ms"),
        (
            "workers: ours per shot (task - providers - QC)",
            f"{workers['overhead_ms_per_shot']:.1f} ms",
        ),
        ("workers: QC decode per clip", f"{workers['qc_ms_per_clip']:.1f} ms"),
        ("workers: queries per shot", f"{workers['queries_per_shot']:.1f}"),
        ("workers: wall per shot, enqueue to done", f"{workers['wall_ms_per_shot']:.1f} ms"),
        ("workers: shots ready", f"{workers['ready']} / {workers['shots']}"),
        ("workers: load average then", f"{workers['load_average']:.1f}"),
        (f"throughput: {args.briefs} briefs x {args.shots} shots", f"{throughput['shots']}"),
        ("throughput: shots through the checks", f"{throughput['shots_done']}"),
        ("throughput: shots ready for review", f"{throughput['shots_ready']}"),
        (
            "throughput: checks that failed (auto-retake or route)",
            ", ".join(f"{k} {v}" for k, v in sorted(throughput["failed_checks"].items())) or "none",
        ),
        ("throughput: elapsed", f"{throughput['seconds']:.1f} s"),
        (
            f"throughput: shots per minute ({WORKERS} workers)",
            f"{throughput['shots_per_minute']:.1f}",
        ),
        ("peak worker RSS while rendering", f"{throughput['peak_worker_rss_mb']:.0f} MB"),
        (f"throughput: machine load average ({os.cpu_count()} CPUs)", f"{os.getloadavg()[0]:.1f}"),
    ]
    width = max(len(label) for label, _ in rows)
    for label, value in rows:
        print(f"{label:<{width}}  {value:>12}")
    missed = [
        f"{name} {value:.1f} > {limit}"
        for name, value, limit in (
            ("overhead_ms_per_shot", overhead["overhead_ms_per_shot"], TARGET_OVERHEAD_MS),
            ("worker_overhead_ms_per_shot", workers["overhead_ms_per_shot"], TARGET_OVERHEAD_MS),
            ("queries_per_shot", overhead["queries_per_shot"], TARGET_QUERIES_PER_SHOT),
            ("worker_queries_per_shot", workers["queries_per_shot"], TARGET_QUERIES_PER_SHOT),
        )
        if value > limit
    ]
    print("targets missed: " + ("; ".join(missed) if missed else "none"))
    print(
        json.dumps(
            {
                "overhead_ms_per_shot": round(overhead["overhead_ms_per_shot"], 2),
                "queries_per_shot": round(overhead["queries_per_shot"], 1),
                "qc_ms_per_clip": round(overhead["qc_ms_per_clip"], 1),
                "overhead_cpu_ms_per_shot": round(overhead["overhead_cpu_ms_per_shot"], 2),
                "qc_cpu_ms_per_clip": round(overhead["qc_cpu_ms_per_clip"], 1),
                "worker_overhead_ms_per_shot": round(workers["overhead_ms_per_shot"], 2),
                "worker_queries_per_shot": round(workers["queries_per_shot"], 1),
                "worker_qc_ms_per_clip": round(workers["qc_ms_per_clip"], 1),
                "worker_wall_ms_per_shot": round(workers["wall_ms_per_shot"], 1),
                "shots_per_minute": round(throughput["shots_per_minute"], 1),
                "peak_worker_rss_mb": round(throughput["peak_worker_rss_mb"], 1),
                "throughput_shots": throughput["shots"],
                "throughput_seconds": round(throughput["seconds"], 1),
                "load_average_1m": round(os.getloadavg()[0], 1),
            }
        )
    )


if __name__ == "__main__":
    main()
