"""Fault-injection benchmark: which silent failures do the pipeline's checks stop before review?

Briefs of six shots run through the real pipeline (retrieve, plan, generate, check) on a database
of its own. The benchmark's own providers stand in for the models: a planner, a renderer and a
critic that wrap the local ones and spoil their output the way real models and machines fail
(bench/clipfaults.py edits the rendered clip with Pillow and PyAV), plus the loud failures
(errors, timeouts, 429s). Every fault is a pure function of (seed, brief, shot, take) or
(seed, brief, plan attempt), so a seed replays everything, and checks-on and checks-off face
the same faults.

Ground truth is what the benchmark injected and the catalog's own labels (which character an
asset shows); it never calls the product's checks to grade. A fault is caught when the take was
re-rendered or routed before reaching review marked as passed (for a plan: when the spoiled plan
did not become the brief's shots; for references: when retrieval routed the brief), escaped when
it reached review marked as passed.

Modes: checks on, and checks off (PIPELINE_CHECKS_ENABLED=false: every take reaches review
unjudged; the retrieval and plan validators still run), both in-process with pipeline.run_inline;
then a smaller checks-on run through real Celery worker processes, SIGKILLed at random.

    .venv/bin/python bench/coordination.py [--shots 1002] [--quick] [--seed 1]
        [--worker-shots 36] [--workers 2] [--write-docs]

Prints a table, then one JSON line.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import random
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from pathlib import Path
from urllib.parse import quote

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import clipfaults
from bench.support import LANTERNFALL_BEATS, ROOT, progress, throwaway_database

DB_NAME = "bench_coordination"
DOCS = ROOT / "docs" / "reliability.md"
RESULTS_START, RESULTS_END = "<!-- bench:coordination -->", "<!-- /bench:coordination -->"
SHOTS_PER_BRIEF = 6
# How long a worker run may sit without a single new handoff before what is left counts as lost.
QUIET_SECONDS = 150
NEGATIVE_PROMPT = "text, captions, subtitles, logos, watermarks"
# Who each demo beat is about: the catalog's character slug (ground truth for references).
BEAT_LEADS = dict(zip(LANTERNFALL_BEATS, ("mira", "pip", "tobin"), strict=True))
UNRELATED_QUERY = "A red sports car drifts through a desert canyon at noon, dust in the sun"

CLIP_KINDS = (
    "black_start",
    "black_middle",
    "black_end",
    "partial_freeze",
    "flicker",
    "letterbox_pillarbox",
    "unexpected_cut",
    "truncated_file",
    "wrong_duration",
    "wrong_aspect",
    "wrong_character",
    "references_ignored",
    "off_brief",
    "near_duplicate",
    "burnt_text",
)
PLAN_KINDS = (
    "plan_wrong_shot_count",
    "plan_empty_prompt",
    "plan_unknown_reference",
    "plan_ungrounded_character",
)
RETRIEVAL_KINDS = ("irrelevant_references",)
SILENT_KINDS = (*CLIP_KINDS, *PLAN_KINDS, *RETRIEVAL_KINDS)
LOUD_KINDS = ("error", "timeout", "rate_limit")
UNDETECTABLE_OFFLINE = {
    "off_brief": (
        "the offline renderer draws nothing from the prompt's words, so whether a picture shows "
        "this shot's action rather than another shot's can only be judged by a model that reads "
        "the prompt (the online critic) or by a person"
    ),
    "burnt_text": (
        "telling lettering from picture needs text detection (OCR or a vision model), which "
        "nothing offline provides; the online critic is asked about the negative prompt"
    ),
}
COVERAGE = (
    "Both stay covered by people: every take the checks pass still goes to a director, and under "
    "earned autonomy a sampled share of automatic approvals is audited by a person, whose "
    "disagreement suspends the policy."
)


# --- The fault schedule: a pure function of the seed and where the fault lands ------------------
@dataclass(frozen=True)
class FaultRates:
    """How often each family of faults is drawn."""

    clip: float = 0.6  # per take
    plan: float = 0.3  # per plan attempt
    retrieval: float = 0.15  # per brief
    loud: float = 0.05  # per provider call (generate, plan, critique, search)
    inflated_critic: float = 0.15  # per critique


def rng_for(seed: int, *where: object) -> random.Random:
    """Return a Random fixed by the seed and a place (never a process id or the time)."""
    digest = hashlib.blake2b("|".join(map(str, (seed, *where))).encode(), digest_size=8).digest()
    return random.Random(int.from_bytes(digest, "little"))


def clip_fault(seed: int, rates: FaultRates, b: int, s: int, t: int) -> tuple[str, str] | None:
    """Return the (kind, severity) spoiling take t of shot s of brief b, or None."""
    rng = rng_for(seed, "clip", b, s, t)
    if rng.random() >= rates.clip:
        return None
    return rng.choice(CLIP_KINDS), rng.choice(clipfaults.SEVERITIES)


def plan_fault(seed: int, rates: FaultRates, b: int, attempt: int) -> tuple[str, str] | None:
    """Return the (kind, severity) spoiling plan attempt `attempt` of brief b, or None."""
    rng = rng_for(seed, "plan", b, attempt)
    if rng.random() >= rates.plan:
        return None
    return rng.choice(PLAN_KINDS), rng.choice(clipfaults.SEVERITIES)


def retrieval_fault(seed: int, rates: FaultRates, b: int) -> tuple[str, str] | None:
    """Return the (kind, severity) spoiling brief b's reference search, or None."""
    rng = rng_for(seed, "retrieve", b)
    if rng.random() >= rates.retrieval:
        return None
    return RETRIEVAL_KINDS[0], rng.choice(clipfaults.SEVERITIES)


def loud_fault(seed: int, rates: FaultRates, step: str, *where: object) -> str | None:
    """Return the loud fault (error, timeout, rate_limit) raised by one provider call, or None."""
    rng = rng_for(seed, "loud", step, *where)
    return rng.choice(LOUD_KINDS) if rng.random() < rates.loud else None


def raise_loud(kind: str, where: str) -> None:
    from studio.ai.types import PermanentProviderError, TransientProviderError

    message = f"injected {kind} in {where}"
    if kind == "timeout":
        raise TransientProviderError(message)
    if kind == "rate_limit":
        raise TransientProviderError(message + " (429)", retry_after=0.5)
    raise PermanentProviderError(message)


def brief_index(title: str) -> int:
    """Return the benchmark's index of a brief from its title ("on #12" -> 12)."""
    match = re.search(r"#(\d+)$", title.strip()) or re.search(r"#(\d+)\b", title)
    if not match:
        raise ValueError(f"not a benchmark brief: {title!r}")
    return int(match.group(1))


# --- The catalog as the benchmark knows it (its own labels, not the checks) ---------------------
@dataclass
class Catalog:
    """The IP's assets: image path, palette, characters shown."""

    ip_palette: tuple[str, ...]
    by_path: dict[str, dict]
    by_id: dict[int, dict]
    character_names: dict[str, str]

    @classmethod
    def load(cls, ip_id: int) -> Catalog:
        from briefs.pipeline import references_for
        from retrieval.models import IP, Asset

        ip = IP.objects.get(pk=ip_id)
        assets = list(Asset.objects.filter(ip=ip).prefetch_related("characters").order_by("pk"))
        by_id = {}
        for asset, ref in zip(assets, references_for(assets), strict=True):
            by_id[asset.pk] = {
                "id": asset.pk,
                "path": ref.image_path,
                "palette": tuple(asset.palette or ()),
                "characters": sorted(c.slug for c in asset.characters.all()),
            }
        names = {c.slug: c.name for a in assets for c in a.characters.all()}
        return cls(
            ip_palette=tuple(ip.palette or ()),
            by_path={row["path"]: row for row in by_id.values() if row["path"]},
            by_id=by_id,
            character_names=names,
        )

    def portrait(self, character: str) -> dict:
        """Return the asset showing this character alone."""
        rows = [r for r in self.by_id.values() if r["characters"] == [character] and r["path"]]
        return rows[0]

    def characters_in(self, paths: Sequence[str]) -> set[str]:
        return {c for p in paths for c in self.by_path.get(p, {}).get("characters", ())}

    def scenery(self) -> list[dict]:
        return [r for r in self.by_id.values() if not r["characters"] and r["path"]]


_catalogs: dict[int, Catalog] = {}


def catalog_for(ip_id: int) -> Catalog:
    if ip_id not in _catalogs:
        _catalogs[ip_id] = Catalog.load(ip_id)
    return _catalogs[ip_id]


# --- The benchmark's providers ------------------------------------------------------------------
def log_fault(**row) -> None:
    """Append one injected fault to the run's ground-truth log (BENCH_FAULT_LOG)."""
    path = os.environ.get("BENCH_FAULT_LOG")
    if path:
        with open(path, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(row, sort_keys=True) + "\n")


def read_fault_log(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line]


class BenchPlanner:
    """The local planner, with plan faults and loud failures drawn per (brief, attempt)."""

    def __init__(self, inner, seed: int, rates: FaultRates) -> None:
        self.inner, self.seed, self.rates = inner, seed, rates
        self.model = inner.model

    def plan(self, request):
        from briefs.models import Brief
        from briefs.pipeline.handoffs import attempt_number
        from studio.ai.types import MalformedOutputError

        brief = Brief.objects.get(title=request.title)
        b = brief_index(brief.title)
        attempt = attempt_number(brief_id=brief.pk, step="plan")
        loud = loud_fault(self.seed, self.rates, "plan", b, attempt)
        if loud:
            log_fault(brief=brief.title, step="plan", attempt=attempt, kind=loud)
            if loud == "error":
                raise MalformedOutputError(f"injected malformed plan for brief #{b}")
            raise_loud(loud, f"plan #{b}")
        plan = self.inner.plan(request)
        fault = plan_fault(self.seed, self.rates, b, attempt)
        if fault is None:
            return plan
        rng = rng_for(self.seed, "plan-edit", b, attempt)
        plan, spoiled = spoil_plan(plan, request, fault, rng, catalog_for(brief.ip_id))
        if spoiled is not None:
            log_fault(
                brief=brief.title,
                step="plan",
                attempt=attempt,
                kind=fault[0],
                severity=fault[1],
                shots=spoiled,
            )
        return plan


def spoil_plan(plan, request, fault: tuple[str, str], rng: random.Random, catalog: Catalog):
    """Spoil a plan as planners do: miscount shots, drop prompts, invent refs, name strangers.

    Returns the plan and the (1-based) shots it spoiled, or None when it could not apply.
    """
    kind, severity = fault
    shots = list(plan.shots)
    many = {"mild": 1, "moderate": 2, "severe": len(shots)}[severity]
    targets = sorted(rng.sample(range(len(shots)), min(many, len(shots))))
    if kind == "plan_wrong_shot_count":
        if severity == "mild":
            shots = shots[:-1]
        elif severity == "moderate":
            shots = [*shots, replace(shots[-1])]
        else:
            shots = shots[:1]
        return replace(plan, shots=tuple(shots)), []
    if kind == "plan_empty_prompt":
        for n in targets:
            shots[n] = replace(shots[n], prompt="" if severity != "moderate" else " \n ")
    elif kind == "plan_unknown_reference":
        known = {r.asset_id for r in request.references}
        others = sorted(set(catalog.by_id) - known)
        for n in targets:
            if severity == "severe" or not others:
                invented = max([*known, *catalog.by_id]) + 1000 + n
            else:
                invented = rng.choice(others)
            shots[n] = replace(shots[n], reference_ids=(*shots[n].reference_ids, invented))
    else:  # plan_ungrounded_character: a shot names a character none of its references show
        applied = []
        for n in targets:
            shown = {c for ref in shots[n].reference_ids for c in catalog.by_id[ref]["characters"]}
            strangers = sorted(set(catalog.character_names) - shown)
            if strangers:
                name = catalog.character_names[rng.choice(strangers)]
                shots[n] = replace(shots[n], prompt=f"{shots[n].prompt} {name} steps into frame.")
                applied.append(n)
        if not applied:
            return plan, None
        targets = applied
    return replace(plan, shots=tuple(shots)), [n + 1 for n in targets]


def caption_for(prompt: str, negative_prompt: str) -> str:
    """The local renderer captions its frames; a clean take honours "no text" in the negative."""
    forbidden = re.search(r"\b(text|caption|subtitle)s?\b", negative_prompt or "", re.I)
    return "" if forbidden else prompt


def render_seed(seed: int, b: int, s: int, t: int) -> int:
    return rng_for(seed, "render", b, s, t).randrange(2**31)


class BenchGenerator:
    """Render each take with the local renderer, then spoil it as the fault schedule says."""

    model = "local-bench-renderer-1"

    def __init__(self, seed: int, rates: FaultRates, workdir: Path, cache: Path) -> None:
        self.seed, self.rates, self.workdir, self.cache = seed, rates, workdir, cache

    def start(self, request) -> str:
        from briefs.models import Take
        from briefs.pipeline.handoffs import attempt_number

        take = Take.objects.select_related("shot__brief").get(
            idempotency_key=request.idempotency_key
        )
        brief = take.shot.brief
        b, s, t = brief_index(brief.title), take.shot.order - 1, take.number
        attempt = attempt_number(brief_id=brief.pk, step="generate", take_id=take.pk)
        loud = loud_fault(self.seed, self.rates, "generate", b, s, t, attempt)
        if loud:
            log_fault(brief=brief.title, step="generate", shot=s, take=t, kind=loud)
            raise_loud(loud, f"generate #{b}/{s}/{t}")
        operation_id = (
            "bench-" + hashlib.blake2b(request.idempotency_key.encode(), digest_size=12).hexdigest()
        )
        path = self.workdir / f"{operation_id}.mp4"
        if not path.exists():
            from studio.ai.local import write_atomically

            fault = clip_fault(self.seed, self.rates, b, s, t)
            req = request_dict(request)
            video = self.cached(
                ["take", b, s, t, fault, req],
                lambda: make_take(self, fault, req, take, b, s, t),
            )
            write_atomically(path, video)
            if fault:
                log_fault(
                    brief=brief.title, step="clip", shot=s, take=t, kind=fault[0],
                    severity=fault[1], key=request.idempotency_key,
                )  # fmt: skip
        return operation_id

    def poll(self, operation_id: str):
        from studio.ai.types import GenerationStatus, PermanentProviderError

        try:
            video = (self.workdir / f"{operation_id}.mp4").read_bytes()
        except FileNotFoundError as exc:
            raise PermanentProviderError(f"unknown operation {operation_id}") from exc
        return GenerationStatus(done=True, operation_id=operation_id, video=video)

    def cached(self, key: list, make) -> bytes:
        """Return the clip made for this key (checks-on and checks-off share every render)."""
        digest = hashlib.blake2b(json.dumps(key, default=str).encode(), digest_size=16).hexdigest()
        path = self.cache / f"{digest}.mp4"
        if path.exists():
            return path.read_bytes()
        video = make()
        from studio.ai.local import write_atomically

        write_atomically(path, video)
        return video

    def clean(self, req: dict, seed: int) -> bytes:
        from studio.ai import media

        return self.cached(
            ["clean", seed, req],
            lambda: media.render_clip(
                prompt=caption_for(req["prompt"], req["negative_prompt"]),
                camera=req["camera"],
                duration_s=req["duration_s"],
                aspect_ratio=req["aspect_ratio"],
                seed=seed,
                palette=tuple(req["palette"]),
                reference_images=tuple(req["reference_images"]),
            ),
        )


def request_dict(request) -> dict:
    return {
        "prompt": request.prompt,
        "negative_prompt": request.negative_prompt,
        "camera": request.camera,
        "duration_s": request.duration_s,
        "aspect_ratio": request.aspect_ratio,
        "palette": list(request.palette),
        "reference_images": list(request.reference_images),
    }


def shot_request(shot, catalog: Catalog, negative_prompt: str) -> dict:
    """Rebuild the request another shot of the brief was (or will be) rendered from."""
    refs = [catalog.by_id[pk] for pk in shot.references.values_list("pk", flat=True)]
    palette = dict.fromkeys([*catalog.ip_palette, *(c for r in refs for c in r["palette"])])
    return {
        "prompt": shot.prompt,
        "negative_prompt": shot.negative_prompt or negative_prompt,
        "camera": shot.camera,
        "duration_s": shot.duration_s,
        "aspect_ratio": shot.brief.aspect_ratio,
        "palette": list(palette),
        "reference_images": [r["path"] for r in refs if r["path"]],
    }


def elsewhere(req: dict, catalog: Catalog, rng: random.Random) -> dict:
    """A request for another beat: another character and other scenery, another camera."""
    shown = catalog.characters_in(req["reference_images"])
    others = sorted(set(catalog.character_names) - shown) or sorted(catalog.character_names)
    portrait = catalog.portrait(rng.choice(others))
    scenery = [r for r in catalog.scenery() if r["path"] not in req["reference_images"]]
    pick = rng.sample(scenery, min(2, len(scenery))) if scenery else []
    palette = dict.fromkeys([*catalog.ip_palette, *portrait["palette"]])
    return req | {
        "camera": rng.choice(("static wide", "whip pan left", "slow tilt down", "crane up")),
        "palette": list(palette),
        "reference_images": [portrait["path"], *(r["path"] for r in pick)],
    }


def random_palette(rng: random.Random) -> list[str]:
    return [f"#{rng.randrange(0x1000000):06x}" for _ in range(4)]


def make_take(gen: BenchGenerator, fault, req: dict, take, b: int, s: int, t: int) -> bytes:
    """Render the take; when the schedule says so, spoil it like a real generator would."""
    seed = render_seed(gen.seed, b, s, t)
    if fault is None:
        return gen.clean(req, seed)
    kind, severity = fault
    rng = rng_for(gen.seed, "clip-edit", b, s, t)
    catalog = catalog_for(take.shot.brief.ip_id)
    cf = clipfaults
    if kind == "truncated_file":
        return cf.truncate(gen.clean(req, seed), severity=severity)
    if kind == "wrong_duration":
        if severity == "severe":  # the model runs twice as long as asked
            return gen.clean(req | {"duration_s": req["duration_s"] * 2}, seed)
        frames, fps = cf.decode(gen.clean(req, seed))
        share = 0.75 if severity == "mild" else 0.5
        return cf.encode(cf.trim(frames, fps, seconds=req["duration_s"] * share), fps)
    if kind == "wrong_character":
        portrait = wrong_character_portrait(req, catalog, rng)
        refs = req["reference_images"]
        with_people = [p for p in refs if catalog.by_path.get(p, {}).get("characters")]
        if severity == "severe":
            refs = [portrait["path"]]
        else:
            swap = set(with_people) or set(refs[:1])
            refs = [portrait["path"] if p in swap else p for p in refs] or [portrait["path"]]
        palette = req["palette"]
        if severity != "mild":
            palette = list(dict.fromkeys([*portrait["palette"], *catalog.ip_palette]))
        return gen.clean(req | {"reference_images": refs, "palette": palette}, seed)
    if kind == "references_ignored":
        palette = {"mild": req["palette"], "moderate": [], "severe": random_palette(rng)}
        return gen.clean(req | {"reference_images": [], "palette": palette[severity]}, seed)
    if kind == "off_brief":
        if severity == "mild":
            other = other_shot(take, s)
            if other is not None:
                return gen.clean(shot_request(other, catalog, req["negative_prompt"]), seed)
        away = elsewhere(req, catalog, rng)
        if severity == "severe":
            away["palette"] = random_palette(rng)
        return gen.clean(away, seed)
    if kind == "near_duplicate":
        other = other_shot(take, s)
        if other is not None:
            source = gen.clean(
                shot_request(other, catalog, req["negative_prompt"]),
                render_seed(gen.seed, b, other.order - 1, 1),
            )
        else:
            source = gen.clean(elsewhere(req, catalog, rng), seed)
        if severity == "severe":
            return source
        frames, fps = cf.decode(source)
        return cf.encode(cf.near_copy(frames, severity=severity, rng=rng), fps)
    frames, fps = cf.decode(gen.clean(req, seed))
    if kind.startswith("black_"):
        where = kind.removeprefix("black_")
        out = cf.black_segment(frames, fps, where=where, severity=severity, rng=rng)
    elif kind == "partial_freeze":
        out = cf.partial_freeze(frames, fps, severity=severity, rng=rng)
    elif kind == "flicker":
        out = cf.flicker(frames, fps, severity=severity, rng=rng)
    elif kind == "letterbox_pillarbox":
        out = cf.matte(frames, fps, severity=severity, rng=rng)
    elif kind == "unexpected_cut":
        other_frames, _ = cf.decode(gen.clean(elsewhere(req, catalog, rng), seed + 1))
        out = cf.cut_to(frames, other_frames, fps, severity=severity, rng=rng)
    elif kind == "wrong_aspect":
        wanted = {"mild": "4:3", "moderate": "1:1", "severe": "9:16"}[severity]
        if req["aspect_ratio"] != "16:9":
            return gen.clean(req | {"aspect_ratio": "16:9"}, seed)
        out = cf.reframe(frames, aspect=wanted)
    elif kind == "burnt_text":
        out = cf.burnt_text(frames, fps, severity=severity, rng=rng)
    else:
        raise ValueError(f"unknown clip fault {kind}")
    return cf.encode(out, fps)


def wrong_character_portrait(req: dict, catalog: Catalog, rng: random.Random) -> dict:
    """Pick a character the shot neither names nor shows."""
    shown = catalog.characters_in(req["reference_images"])
    named = {slug for slug, name in catalog.character_names.items() if name in req["prompt"]}
    strangers = sorted(set(catalog.character_names) - shown - named)
    strangers = strangers or sorted(set(catalog.character_names) - shown)
    strangers = strangers or sorted(catalog.character_names)
    return catalog.portrait(rng.choice(strangers))


def other_shot(take, s: int):
    """Return an earlier shot of the same brief (the next one for the first shot), or None."""
    from briefs.models import Shot

    order = s if s > 0 else s + 2  # 1-based order of shot s-1, or of shot s+1
    return (
        Shot.objects.select_related("brief")
        .filter(brief_id=take.shot.brief_id, order=order)
        .first()
    )


class BenchCritic:
    """The local critic, sometimes failing loudly, sometimes praising whatever it is shown."""

    def __init__(self, inner, seed: int, rates: FaultRates) -> None:
        self.inner, self.seed, self.rates = inner, seed, rates
        self.model = inner.model
        self.calls: Counter[str] = Counter()

    def critique(self, *, prompt: str, poster_png: bytes, references, **seen):
        from studio.ai.types import Critique

        poster = hashlib.blake2b(poster_png, digest_size=8).hexdigest()
        self.calls[poster] += 1
        loud = loud_fault(self.seed, self.rates, "critique", poster, self.calls[poster])
        if loud:
            raise_loud("timeout" if loud == "error" else loud, f"critique {poster}")
        if rng_for(self.seed, "inflate", poster).random() < self.rates.inflated_critic:
            log_fault(step="critique", kind="inflated", poster=poster)
            return Critique(
                score=0.97, reasons=("on model, on palette, on brief",), model=self.model
            )
        # Frames and the negative prompt go through untouched: the critic judges what it is shown.
        return self.inner.critique(
            prompt=prompt, poster_png=poster_png, references=references, **seen
        )


def faulty_search(real, seed: int, rates: FaultRates):
    """Wrap the reference search: sometimes it fails, sometimes it searches for the wrong thing."""

    def search_assets(*, ip, query: str, **kwargs):
        from briefs.models import Brief
        from briefs.pipeline.handoffs import attempt_number

        title = re.match(r"^\s*(\w+ #\d+)", query).group(1)
        brief = Brief.objects.get(title=title)
        b = brief_index(title)
        attempt = attempt_number(brief_id=brief.pk, step="retrieve")
        loud = loud_fault(seed, rates, "retrieve", b, attempt)
        if loud:
            log_fault(brief=title, step="retrieve", attempt=attempt, kind=loud)
            raise_loud(loud, f"search #{b}")
        fault = retrieval_fault(seed, rates, b)
        if fault:
            # A query built from the wrong brief (a stale form, a mixed-up id), or from nothing
            # the IP contains.
            others = [beat for beat in LANTERNFALL_BEATS if beat != brief.beat]
            wrong = {
                "mild": f"{title} {others[0]} {brief.tone}",
                "moderate": others[1],
                "severe": UNRELATED_QUERY,
            }[fault[1]]
            log_fault(brief=title, step="retrieve", kind=fault[0], severity=fault[1])
            query = wrong
        return real(ip=ip, query=query, **kwargs)

    return search_assets


@contextlib.contextmanager
def bench_search_installed(seed: int, rates: FaultRates) -> Iterator[None]:
    """Route the retrieve step's search through the faulty wrapper while the block runs."""
    from briefs.pipeline import retrieving

    real = retrieving.search_assets
    retrieving.search_assets = faulty_search(real, seed, rates)
    try:
        yield
    finally:
        retrieving.search_assets = real


def bench_providers(seed: int, rates: FaultRates, scratch: Path):
    from briefs.pipeline import Providers
    from studio.ai.local import LocalCritic, LocalPlanner

    return Providers(
        planner=BenchPlanner(LocalPlanner(), seed, rates),
        generator=BenchGenerator(seed, rates, scratch / "ops", scratch / "render-cache"),
        critic=BenchCritic(LocalCritic(), seed, rates),
    )


# --- Briefs, the scripted reviewer and the grading ----------------------------------------------
def create_briefs(*, ip, producer, mode: str, indices: Sequence[int]) -> list[int]:
    """Create one queued six-shot brief per index, titled "<mode> #<index>"; return their ids."""
    from django.utils import timezone

    from briefs.models import Brief

    return [
        Brief.objects.create(
            ip=ip,
            producer=producer,
            title=f"{mode} #{b}",
            beat=LANTERNFALL_BEATS[b % len(LANTERNFALL_BEATS)],
            tone=("mysterious", "playful", "calm")[b % 3],
            shot_count=SHOTS_PER_BRIEF,
            aspect_ratio="16:9",
            seconds_per_shot=4,
            territory="GB",
            release_date=timezone.localdate() + timedelta(days=30),
            negative_prompt=NEGATIVE_PROMPT,
            # The bench's faults are in the picture and its clips are silent (bench/sound.py
            # measures sound).
            sound=Brief.Sound.NONE,
        ).pk
        for b in indices
    ]


def wilson(successes: int, trials: int, z: float = 1.96) -> tuple[float, float]:
    """Return the Wilson score interval of a proportion."""
    if trials == 0:
        return (0.0, 1.0)
    p = successes / trials
    centre = p + z * z / (2 * trials)
    margin = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials))
    denominator = 1 + z * z / trials
    return (max(0.0, (centre - margin) / denominator), min(1.0, (centre + margin) / denominator))


@dataclass
class Tally:
    """What happened to one fault kind's injections."""

    injected: int = 0
    caught: int = 0
    escaped: int = 0
    unresolved: int = 0
    by_severity: dict[str, list[int]] = field(default_factory=dict)

    def add(self, severity: str, outcome: str) -> None:
        if outcome == "unresolved":
            self.unresolved += 1
            return
        self.injected += 1
        row = self.by_severity.setdefault(severity, [0, 0])
        row[1] += 1
        if outcome == "caught":
            self.caught += 1
            row[0] += 1
        else:
            self.escaped += 1


@dataclass
class Truth:
    """Per brief and shot, what the run spoiled (from the schedule and the fault log)."""

    bad_shots: set[tuple[int, int]] = field(default_factory=set)  # (brief id, shot order)
    bad_briefs: set[int] = field(default_factory=set)  # references chosen for something else

    def take_is_good(self, take, seed: int, rates: FaultRates) -> bool:
        brief = take.shot.brief
        if brief.pk in self.bad_briefs or (brief.pk, take.shot.order) in self.bad_shots:
            return False
        fault = clip_fault(seed, rates, brief_index(brief.title), take.shot.order - 1, take.number)
        return fault is None


def grade(*, brief_ids: Sequence[int], log: list[dict], seed: int, rates: FaultRates) -> dict:
    """Count, per fault kind, what was injected, caught and escaped; and the clean-take FPs."""
    from briefs.models import Brief, Handoff, Take

    briefs = {b.pk: b for b in Brief.objects.filter(pk__in=brief_ids).select_related("ip")}
    by_title = {b.title: b for b in briefs.values()}
    tallies = {kind: Tally() for kind in SILENT_KINDS}
    truth = Truth()
    harmless = 0
    handoffs = defaultdict(list)
    for row in Handoff.objects.filter(brief_id__in=brief_ids).values(
        "brief_id", "step", "attempt", "outcome", "take_id"
    ):
        handoffs[row["brief_id"]].append(row)
    loud = Counter()
    seen_retrieval = set()
    inflated = 0
    for row in log:
        if row.get("kind") == "inflated":
            inflated += 1
            continue
        brief = by_title.get(row.get("brief", ""))
        if brief is None:
            continue
        if row["kind"] in LOUD_KINDS:
            loud[f"{row['step']}_{row['kind']}"] += 1
        elif row["step"] == "plan":
            rows = [
                h for h in handoffs[brief.pk]
                if h["step"] == "plan" and h["attempt"] == row["attempt"]
            ]  # fmt: skip
            if not rows:
                outcome = "unresolved"
            elif any(h["outcome"] == "passed" for h in rows):
                outcome = "escaped"
                truth.bad_shots |= {(brief.pk, n) for n in row["shots"]}
            else:
                outcome = "caught"
            tallies[row["kind"]].add(row["severity"], outcome)
        elif row["step"] == "retrieve" and brief.pk not in seen_retrieval:
            seen_retrieval.add(brief.pk)
            steps = [h for h in handoffs[brief.pk] if h["step"] == "retrieve"]
            if any(h["outcome"] == "passed" for h in steps):
                lead = BEAT_LEADS.get(brief.beat)
                shown = set(brief.references.values_list("characters__slug", flat=True))
                if lead in shown:
                    harmless += 1  # the wrong query still found the brief's lead character
                    continue
                truth.bad_briefs.add(brief.pk)
                outcome = "escaped"
            else:
                outcome = "caught" if steps else "unresolved"
            tallies[row["kind"]].add(row["severity"], outcome)
    takes = list(
        Take.objects.filter(shot__brief_id__in=brief_ids, operation_id__startswith="bench-")
        .select_related("shot__brief")
        .order_by("pk")
    )
    stopped = (Take.Status.FAILED, Take.Status.ROUTED)
    clean_judged = clean_routed = 0
    for take in takes:
        brief = take.shot.brief
        fault = clip_fault(seed, rates, brief_index(brief.title), take.shot.order - 1, take.number)
        if take.checks_passed:
            outcome = "escaped"
        elif take.status in stopped or take.status in (
            Take.Status.APPROVED,
            Take.Status.REJECTED,
        ):
            outcome = "caught"
        else:
            outcome = "unresolved"
        if fault is not None:
            tallies[fault[0]].add(fault[1], outcome)
            continue
        if brief.pk in truth.bad_briefs or (brief.pk, take.shot.order) in truth.bad_shots:
            continue
        failed_findings = any(not f.get("passed", True) for f in take.checks or [])
        if take.checks_passed or failed_findings:
            clean_judged += 1
            clean_routed += failed_findings and not take.checks_passed
    return {
        "tallies": tallies,
        "truth": truth,
        "harmless_retrieval_faults": harmless,
        "loud": dict(loud),
        "inflated_critiques": inflated,
        "clean_takes": clean_judged,
        "clean_takes_routed": clean_routed,
        "takes": len(takes),
    }


def review_waiting_takes(*, brief_ids, reviewer, truth: Truth, seed: int, rates) -> int:
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
        good = take.operation_id.startswith("bench-") and truth.take_is_good(take, seed, rates)
        try:
            services.decide(
                take=take,
                user=reviewer,
                verdict="approved" if good else "rejected",
                expected_version=take.version,
                reason_code="" if good else "artefacts",
            )
        except services.ReviewError:
            continue  # the pipeline moved the take meanwhile; it comes back next round
        touches += 1
    return touches


def outcome_figures(*, brief_ids, graded: dict, seed: int, rates: FaultRates) -> dict:
    """End to end, predicted and measured, lost briefs and check latency for one mode."""
    from briefs import pipeline
    from briefs.models import Brief, Handoff, Take

    truth = graded["truth"]
    takes = Take.objects.filter(
        shot__brief_id__in=brief_ids, is_current=True, status=Take.Status.APPROVED
    ).select_related("shot__brief")
    good_approved = sum(
        1
        for t in takes
        if t.operation_id.startswith("bench-") and truth.take_is_good(t, seed, rates)
    )
    requested = len(brief_ids) * SHOTS_PER_BRIEF
    handoffs = Handoff.objects.filter(brief_id__in=brief_ids)
    predicted = 1.0
    for step in ("retrieve", "plan", "generate", "check"):
        rows = handoffs.filter(step=step)
        total = rows.count()
        if total:
            predicted *= rows.filter(outcome="passed").count() / total
    latencies = list(handoffs.filter(step="check").values_list("latency_ms", flat=True))
    active = [*pipeline.BRIEF_STEP_FOR_STATUS, Brief.Status.GENERATING]
    return {
        "requested_shots": requested,
        "measured_e2e": good_approved / requested if requested else 0.0,
        "predicted_e2e": predicted,
        "lost_briefs": Brief.objects.filter(pk__in=brief_ids, status__in=active).count(),
        "briefs_needing_attention": Brief.objects.filter(
            pk__in=brief_ids, status=Brief.Status.NEEDS_ATTENTION
        ).count(),
        "check_ms_p50": statistics.median(latencies) if latencies else None,
        "retries": handoffs.filter(outcome="retried").count(),
    }


# --- Running a mode in this process -------------------------------------------------------------
def run_inline_mode(
    *, mode: str, checks: bool, ip, people, indices, seed: int, rates: FaultRates, scratch: Path
) -> dict:
    """Run briefs in this process through pipeline.run_inline, then grade and review them."""
    from django.conf import settings

    from briefs import pipeline

    producer, reviewer = people
    log_path = scratch / f"faults-{mode}.jsonl"
    log_path.unlink(missing_ok=True)
    saved_log = os.environ.get("BENCH_FAULT_LOG")
    os.environ["BENCH_FAULT_LOG"] = str(log_path)
    saved = settings.PIPELINE_CHECKS_ENABLED
    settings.PIPELINE_CHECKS_ENABLED = checks
    providers = bench_providers(seed, rates, scratch)
    catalog_for(ip.pk)
    ids = create_briefs(ip=ip, producer=producer, mode=mode, indices=indices)
    started = time.perf_counter()
    crashed = 0
    try:
        with bench_search_installed(seed, rates):
            for n, pk in enumerate(ids, 1):
                try:
                    pipeline.run_inline(pk, providers=providers, owner=f"bench-{mode}")
                except Exception as exc:  # a crash is a finding, not the end of the run
                    crashed += 1
                    progress(f"{mode}: brief {pk} crashed: {exc!r}")
                if n % 10 == 0 or n == len(ids):
                    progress(
                        f"{mode}: {n}/{len(ids)} briefs ({time.perf_counter() - started:.0f} s)"
                    )
    finally:
        settings.PIPELINE_CHECKS_ENABLED = saved
        if saved_log is None:
            os.environ.pop("BENCH_FAULT_LOG", None)
        else:
            os.environ["BENCH_FAULT_LOG"] = saved_log
    wall = time.perf_counter() - started
    log = read_fault_log(log_path)
    graded = grade(brief_ids=ids, log=log, seed=seed, rates=rates)
    touches = review_waiting_takes(
        brief_ids=ids, reviewer=reviewer, truth=graded["truth"], seed=seed, rates=rates
    )
    figures = outcome_figures(brief_ids=ids, graded=graded, seed=seed, rates=rates)
    return graded | figures | {
        "mode": mode, "briefs": len(ids), "crashed": crashed, "wall_s": wall, "touches": touches,
        "log": log,
    }  # fmt: skip


# --- Worker processes ---------------------------------------------------------------------------
def install_in_worker(seed: int, rates: FaultRates, scratch: Path) -> None:
    """Make this process's configured providers and reference search the benchmark's."""
    from briefs.pipeline import retrieving
    from studio.ai import providers

    bench = bench_providers(seed, rates, scratch)
    providers.get_planner = lambda: bench.planner
    providers.get_generator = lambda: bench.generator
    providers.get_critic = lambda: bench.critic
    retrieving.search_assets = faulty_search(retrieving.search_assets, seed, rates)


def worker_main(argv: Sequence[str]) -> None:
    """Run one Celery worker whose providers are the benchmark's (same seed as the driver)."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--name", required=True)
    parser.add_argument("--seed", type=int, required=True)
    parser.add_argument("--scratch", required=True)
    args = parser.parse_args(argv)
    import django

    django.setup()
    from studio.celery import app

    install_in_worker(args.seed, FaultRates(), Path(args.scratch))
    app.worker_main(
        ["worker", "-n", f"{args.name}@%h", "--concurrency", "1", "--without-mingle",
         "--without-gossip", "-l", "warning"]
    )  # fmt: skip


class Workers:
    """A pool of benchmark worker processes that can be killed and replaced."""

    def __init__(self, *, env: dict, seed: int, scratch: Path):
        self.env, self.seed, self.scratch = env, seed, scratch
        self.processes: list[subprocess.Popen] = []
        self.started = 0
        self.kills = 0

    def start(self, count: int) -> None:
        from studio.models import WorkerHeartbeat

        names = []
        for _ in range(count):
            self.started += 1
            name = f"coord{self.started}-{self.seed}"
            names.append(name)
            log = (self.scratch / f"{name}.log").open("wb")
            self.processes.append(
                subprocess.Popen(
                    [sys.executable, str(Path(__file__)), "worker", "--name", name,
                     "--seed", str(self.seed), "--scratch", str(self.scratch)],
                    cwd=ROOT, env={**os.environ, **self.env}, stdout=log, stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )  # fmt: skip
        deadline = time.monotonic() + 120
        beating = WorkerHeartbeat.objects.filter
        while not all(beating(hostname__startswith=name).exists() for name in names):
            if time.monotonic() > deadline:
                raise SystemExit(f"benchmark workers did not start; see {self.scratch}")
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


def run_with_workers(
    *, ip, people, indices, seed: int, rates: FaultRates, scratch: Path, env: dict, workers: int
) -> dict:
    """Run checks-on briefs through real worker processes, SIGKILLing one every 5 to 12 s."""
    from briefs import pipeline
    from briefs.models import Brief, Handoff

    producer, reviewer = people
    mode = "killed"
    log_path = scratch / f"faults-{mode}.jsonl"
    log_path.unlink(missing_ok=True)
    broker = Path(env["STUDIO_BROKER_DIR"]) / "queue"
    shutil.rmtree(broker, ignore_errors=True)
    broker.mkdir(parents=True)
    env = env | {"BENCH_FAULT_LOG": str(log_path), "PIPELINE_CHECKS_ENABLED": "true"}
    pool = Workers(env=env, seed=seed, scratch=scratch)
    progress(f"{mode}: starting {workers} workers")
    pool.start(workers)
    catalog_for(ip.pk)
    ids = create_briefs(ip=ip, producer=producer, mode=mode, indices=indices)
    rng = rng_for(seed, "kills")
    started = time.perf_counter()
    touches = 0
    next_kill = time.monotonic() + rng.uniform(5, 12)
    last_progress, last_count = time.monotonic(), -1
    active = [*pipeline.BRIEF_STEP_FOR_STATUS, Brief.Status.GENERATING]
    try:
        pipeline.enqueue(pipeline.NextStep("retrieve", pk) for pk in ids)
        while True:
            time.sleep(1.0)
            pipeline.enqueue(pipeline.sweep_expired_leases())
            if time.monotonic() >= next_kill:
                pool.kill_one(rng)
                next_kill = time.monotonic() + rng.uniform(5, 12)
            count = Handoff.objects.filter(brief_id__in=ids).count()
            if count != last_count:
                last_progress, last_count = time.monotonic(), count
            busy = Brief.objects.filter(pk__in=ids, status__in=active).exists()
            if not busy or time.monotonic() - last_progress > QUIET_SECONDS:
                break
    finally:
        pool.stop()
    wall = time.perf_counter() - started
    log = read_fault_log(log_path)
    graded = grade(brief_ids=ids, log=log, seed=seed, rates=rates)
    touches = review_waiting_takes(
        brief_ids=ids, reviewer=reviewer, truth=graded["truth"], seed=seed, rates=rates
    )
    figures = outcome_figures(brief_ids=ids, graded=graded, seed=seed, rates=rates)
    progress(f"{mode}: done in {wall:.0f} s, {pool.kills} workers killed")
    return graded | figures | {
        "mode": mode, "briefs": len(ids), "crashed": 0, "wall_s": wall, "touches": touches,
        "workers_killed": pool.kills, "log": log,
    }  # fmt: skip


# --- Figures, the table and the docs ------------------------------------------------------------
def silent_totals(run: dict, kinds: Sequence[str]) -> tuple[int, int, int]:
    tallies = run["tallies"]
    return (
        sum(tallies[k].injected for k in kinds),
        sum(tallies[k].caught for k in kinds),
        sum(tallies[k].escaped for k in kinds),
    )


def summarise(args, on: dict, off: dict, killed: dict | None, load: str) -> dict:
    """Return the JSON figures of the whole run."""
    detectable = [k for k in SILENT_KINDS if k not in UNDETECTABLE_OFFLINE]
    injected, caught, _ = silent_totals(on, detectable)
    per_kind = {}
    for kind in SILENT_KINDS:
        tally, tally_off = on["tallies"][kind], off["tallies"][kind]
        low, high = wilson(tally.caught, tally.injected)
        per_kind[kind] = {
            "injected": tally.injected,
            "caught": tally.caught,
            "escaped": tally.escaped,
            "unresolved": tally.unresolved,
            "catch_rate": round(tally.caught / tally.injected, 4) if tally.injected else None,
            "wilson95": [round(low, 4), round(high, 4)],
            "by_severity": {
                sev: tally.by_severity.get(sev, [0, 0]) for sev in clipfaults.SEVERITIES
            },
            "injected_checks_off": tally_off.injected,
            "escaped_checks_off": tally_off.escaped,
            "detectable_offline": kind not in UNDETECTABLE_OFFLINE,
        }
    fp_low, fp_high = wilson(on["clean_takes_routed"], on["clean_takes"])
    runs = [on, off, *([killed] if killed else [])]
    return {
        "seed": args.seed,
        "shots": on["requested_shots"],
        "shots_checks_off": off["requested_shots"],
        "worker_shots": killed["requested_shots"] if killed else 0,
        "fault_kinds": len(SILENT_KINDS),
        "loud_fault_kinds": len(LOUD_KINDS),
        "silent_faults_injected": silent_totals(on, SILENT_KINDS)[0],
        "silent_faults_injected_checks_off": silent_totals(off, SILENT_KINDS)[0],
        "silent_escapes_checks_on": silent_totals(on, SILENT_KINDS)[2],
        "silent_escapes_checks_off": silent_totals(off, SILENT_KINDS)[2],
        "silent_escapes_workers_killed": silent_totals(killed, SILENT_KINDS)[2] if killed else None,
        "catch_rate_detectable": round(caught / injected, 4) if injected else None,
        "catch_rate_detectable_wilson95": [round(x, 4) for x in wilson(caught, injected)],
        "undetectable_offline": sorted(UNDETECTABLE_OFFLINE),
        "clean_takes": on["clean_takes"],
        "false_positive_rate": (
            round(on["clean_takes_routed"] / on["clean_takes"], 4) if on["clean_takes"] else None
        ),
        "false_positive_wilson95": [round(fp_low, 4), round(fp_high, 4)],
        "lost_briefs": sum(r["lost_briefs"] for r in runs),
        "crashed_briefs": sum(r["crashed"] for r in runs),
        "predicted_e2e": round(on["predicted_e2e"], 4),
        "measured_e2e_checks_on": round(on["measured_e2e"], 4),
        "measured_e2e_checks_off": round(off["measured_e2e"], 4),
        "measured_e2e_workers_killed": round(killed["measured_e2e"], 4) if killed else None,
        "harmless_retrieval_faults": on["harmless_retrieval_faults"],
        "loud_faults_injected": sum(on["loud"].values()),
        "inflated_critic_scores": on["inflated_critiques"],
        "workers_killed": killed["workers_killed"] if killed else 0,
        "qc_ms_per_clip": on["check_ms_p50"],
        "load_average": load,
        "wall_s": {r["mode"]: round(r["wall_s"], 1) for r in runs},
        "per_kind": per_kind,
    }


def pct(value: float | None) -> str:
    return "—" if value is None else f"{value:.1%}"


def table(summary: dict, on: dict, off: dict, killed: dict | None) -> str:
    """Render the figures as Markdown: per fault kind, then per mode, then what is not covered."""
    lines = [
        f"Seed {summary['seed']}; {summary['shots']} shots per in-process mode "
        f"({summary['shots'] // SHOTS_PER_BRIEF} briefs x {SHOTS_PER_BRIEF}); "
        f"{summary['worker_shots']} more through real worker processes; load average at the "
        f"start {summary['load_average']}.",
        "",
        "| fault kind | injected | caught | escaped | catch rate [Wilson 95 %] | caught by "
        "severity (mild / moderate / severe) | escaped, checks off | detectable offline |",
        "| --- | ---: | ---: | ---: | --- | --- | ---: | --- |",
    ]
    for kind, row in summary["per_kind"].items():
        sev = " / ".join(f"{c}/{n}" for c, n in row["by_severity"].values())
        low, high = row["wilson95"]
        lines.append(
            f"| {kind} | {row['injected']} | {row['caught']} | {row['escaped']} | "
            f"{pct(row['catch_rate'])} [{low:.0%}, {high:.0%}] | {sev} | "
            f"{row['escaped_checks_off']} of {row['injected_checks_off']} | "
            f"{'yes' if row['detectable_offline'] else 'no'} |"
        )
    runs = [off, on, *([killed] if killed else [])]

    def cells(fn) -> str:
        return " | ".join(fn(r) for r in runs)

    rows = [
        ("shots requested", cells(lambda r: str(r["requested_shots"]))),
        ("takes rendered", cells(lambda r: str(r["takes"]))),
        ("silent faults injected", cells(lambda r: str(silent_totals(r, SILENT_KINDS)[0]))),
        ("silent escapes (reached review marked passed)",
         cells(lambda r: str(silent_totals(r, SILENT_KINDS)[2]))),
        ("clean takes judged / routed by a check",
         cells(lambda r: f"{r['clean_takes']} / {r['clean_takes_routed']}")),
        ("measured end to end (shots approved with a good take)",
         cells(lambda r: pct(r["measured_e2e"]))),
        ("predicted end to end (product of step pass rates)",
         cells(lambda r: pct(r["predicted_e2e"]))),
        ("lost briefs", cells(lambda r: str(r["lost_briefs"]))),
        ("briefs routed to their producer", cells(lambda r: str(r["briefs_needing_attention"]))),
        ("loud faults injected", cells(lambda r: str(sum(r["loud"].values())))),
        ("inflated critic scores", cells(lambda r: str(r["inflated_critiques"]))),
        ("retries", cells(lambda r: str(r["retries"]))),
        ("check step p50", cells(lambda r: "—" if r["check_ms_p50"] is None
                                 else f"{r['check_ms_p50']:.0f} ms")),
        ("wall time", cells(lambda r: f"{r['wall_s']:.0f} s")),
    ]  # fmt: skip
    if killed:
        rows.append(("workers SIGKILLed", f"— | — | {killed['workers_killed']}"))
    heads = ["checks off", "checks on"] + (["checks on, workers killed"] if killed else [])
    lines += [
        "",
        f"| figure | {' | '.join(heads)} |",
        "| --- |" + " --- |" * len(heads),
        *(f"| {name} | {value} |" for name, value in rows),
        "",
        f"- **catch_rate_detectable** (checks on, every kind but those below): "
        f"{pct(summary['catch_rate_detectable'])} "
        f"[{summary['catch_rate_detectable_wilson95'][0]:.1%}, "
        f"{summary['catch_rate_detectable_wilson95'][1]:.1%}]; target ≥ 98 %: "
        f"{target(summary['catch_rate_detectable'], 0.98, above=True)}.",
        f"- **false_positive_rate** on {summary['clean_takes']} clean takes: "
        f"{pct(summary['false_positive_rate'])} [{summary['false_positive_wilson95'][0]:.1%}, "
        f"{summary['false_positive_wilson95'][1]:.1%}]; target ≤ 2 %: "
        f"{target(summary['false_positive_rate'], 0.02, above=False)}.",
        f"- **lost_briefs**: {summary['lost_briefs']}; target 0: "
        f"{'met' if summary['lost_briefs'] == 0 else 'missed'}.",
        f"- Wrong-query searches that still found the brief's lead character (not counted as "
        f"faults): {summary['harmless_retrieval_faults']}.",
        "",
        "Named undetectable offline (excluded from catch_rate_detectable, still counted above):",
        *(f"- **{kind}**: {why}." for kind, why in UNDETECTABLE_OFFLINE.items()),
        f"- {COVERAGE}",
    ]
    return "\n".join(lines)


def target(value: float | None, bar: float, *, above: bool) -> str:
    if value is None:
        return "not measured"
    return "met" if (value >= bar if above else value <= bar) else "missed"


def write_docs(markdown: str) -> None:
    text = DOCS.read_text(encoding="utf-8")
    block = f"{RESULTS_START}\n{markdown}\n{RESULTS_END}"
    pattern = re.compile(re.escape(RESULTS_START) + ".*?" + re.escape(RESULTS_END), re.S)
    DOCS.write_text(pattern.sub(lambda _: block, text), encoding="utf-8")
    progress(f"wrote the results into {DOCS.relative_to(ROOT)}")


# --- The driver ---------------------------------------------------------------------------------
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
        # A lease longer than any step under load, short enough that a killed worker's step is
        # picked up within a minute.
        "PIPELINE_LEASE_SECONDS": "60",
        "PIPELINE_BACKOFF_BASE_S": "0.5",
        "PIPELINE_BACKOFF_MAX_S": "4",
        "PIPELINE_POLL_SECONDS": "1",
    }


def seed_people_and_catalog():
    """Create a producer, a director and the Lanternfall demo catalog."""
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


def load_average() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "worker":
        worker_main(sys.argv[2:])
        return
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--shots", type=int, default=1002, help="shots per in-process mode")
    parser.add_argument("--worker-shots", type=int, default=36, help="0 skips the worker run")
    parser.add_argument("--quick", action="store_true", help="60 shots, 12 through workers")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--write-docs", action="store_true")
    args = parser.parse_args()
    if args.quick:
        args.shots, args.worker_shots = 60, 12
    briefs = math.ceil(args.shots / SHOTS_PER_BRIEF)
    worker_briefs = math.ceil(args.worker_shots / SHOTS_PER_BRIEF)
    rates = FaultRates()
    load = load_average()
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
        common = {"ip": ip, "people": people, "seed": args.seed, "rates": rates}
        indices = range(briefs)
        on = run_inline_mode(mode="on", checks=True, indices=indices, scratch=scratch, **common)
        off = run_inline_mode(mode="off", checks=False, indices=indices, scratch=scratch, **common)
        killed = None
        if worker_briefs:
            killed = run_with_workers(
                indices=range(100_000, 100_000 + worker_briefs),
                scratch=scratch,
                env=env,
                workers=args.workers,
                **common,
            )
    summary = summarise(args, on, off, killed, load)
    markdown = table(summary, on, off, killed)
    print(markdown)
    if args.write_docs:
        write_docs(markdown)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
