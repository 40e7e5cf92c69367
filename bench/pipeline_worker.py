"""A real Celery worker process for bench/pipeline.py, with instant, timed providers.

It runs the project's Celery app on the project's broker, like `celery -A studio worker`, but
first swaps the configured planner, generator, critic and embedder for instant ones whose time
is counted, times the QC decode (media.probe_video), counts queries, and times every task. On
shutdown it writes its totals as JSON to $BENCH_WORKER_STATS/<pid>.json.

    python bench/pipeline_worker.py NAME   (started by bench/pipeline.py)
"""

import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def main(name: str) -> None:
    import django

    django.setup()
    from celery.signals import task_postrun, task_prerun, worker_shutdown
    from django.db.backends.signals import connection_created
    from django.urls import get_resolver

    from bench.pipeline import InstantCritic, InstantGenerator, InstantPlanner, Stopwatch
    from studio.ai import media, providers
    from studio.celery import app

    provider_watch, qc_watch = Stopwatch(), Stopwatch()
    totals = {"tasks": 0, "task_seconds": 0.0, "queries": 0, "clips_probed": 0}
    planner, generator, critic = InstantPlanner(), InstantGenerator(), InstantCritic()
    planner.plan = provider_watch.wrap(planner.plan)
    generator.start = provider_watch.wrap(generator.start)
    generator.poll = provider_watch.wrap(generator.poll)
    critic.critique = provider_watch.wrap(critic.critique)
    providers.get_planner = lambda: planner
    providers.get_generator = lambda: generator
    providers.get_critic = lambda: critic
    real_embedder = providers.get_embedder

    def timed_embedder(**kwargs):
        return TimedEmbedder(real_embedder(**kwargs), provider_watch)

    providers.get_embedder = timed_embedder
    probe = media.probe_video

    def counted_probe(*args, **kwargs):
        totals["clips_probed"] += 1
        return probe(*args, **kwargs)

    media.probe_video = qc_watch.wrap(counted_probe)

    def count_queries(execute, sql, params, many, context):
        totals["queries"] += 1
        return execute(sql, params, many, context)

    def on_connection(sender, connection, **kwargs):
        # The wrapper list outlives each reconnection: add the counter once.
        if count_queries not in connection.execute_wrappers:
            connection.execute_wrappers.append(count_queries)

    connection_created.connect(on_connection, weak=False)
    started: dict[str, float] = {}

    def before(task_id=None, **kwargs):
        started[task_id] = time.perf_counter()

    def after(task_id=None, **kwargs):
        if task_id in started:
            totals["tasks"] += 1
            totals["task_seconds"] += time.perf_counter() - started.pop(task_id)

    def write_totals(**kwargs):
        folder = Path(os.environ["BENCH_WORKER_STATS"])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{os.getpid()}.json").write_text(
            json.dumps(
                {
                    **totals,
                    "provider_seconds": provider_watch.seconds,
                    "qc_seconds": qc_watch.seconds,
                }
            )
        )

    task_prerun.connect(before, weak=False)
    task_postrun.connect(after, weak=False)
    worker_shutdown.connect(write_totals, weak=False)
    # Import the URLconf now, as a long-running worker has long since done (webhooks reverse).
    get_resolver().url_patterns  # noqa: B018
    app.worker_main(
        [
            "worker",
            "--pool=solo",
            "-n",
            name,
            "--without-mingle",
            "--without-gossip",
            "-l",
            "warning",
        ]
    )


class TimedEmbedder:
    """An embedder whose embed() time counts as provider time (the real one may be shared)."""

    def __init__(self, inner, watch) -> None:
        self.inner, self.model, self.dimensions = inner, inner.model, inner.dimensions
        self.embed = watch.wrap(inner.embed)


if __name__ == "__main__":
    main(sys.argv[1])
