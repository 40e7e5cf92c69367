"""Offline providers: no network, no downloaded model, real artefacts."""

from __future__ import annotations

import hashlib
import itertools
import math
import os
import re
import tempfile
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

from studio.ai import media
from studio.ai.types import (
    ClipFrame,
    Critique,
    EmbedTask,
    GenerationRequest,
    GenerationStatus,
    NoteSpec,
    PermanentProviderError,
    Plan,
    PlanRequest,
    Reference,
    Revision,
    RevisionRequest,
    ShotSpec,
)

_CAMERA_BY_TONE: dict[str, tuple[str, ...]] = {
    "tense": ("handheld push-in", "whip pan right", "handheld close push-in", "fast tilt up"),
    "action": ("fast tracking shot right", "handheld push-in", "whip pan left", "crane up"),
    "calm": ("slow pan left", "static wide", "slow push-in", "slow tilt down"),
    "joyful": ("pan right", "push-in", "tilt up", "tracking shot right"),
    "mysterious": ("slow push-in", "static", "slow tilt up", "slow pan right"),
    "sad": ("slow pull out", "static", "slow tilt down", "slow pan left"),
}
_TONE_SYNONYMS: dict[str, str] = {
    "suspense": "tense",
    "thriller": "tense",
    "dramatic": "tense",
    "urgent": "tense",
    "epic": "action",
    "energetic": "action",
    "serene": "calm",
    "peaceful": "calm",
    "gentle": "calm",
    "playful": "joyful",
    "happy": "joyful",
    "whimsical": "joyful",
    "eerie": "mysterious",
    "dark": "mysterious",
    "melancholy": "sad",
    "wistful": "sad",
    # How review notes ask for a change of mood ("calmer here", "make it eerier").
    "calmer": "calm",
    "quieter": "calm",
    "softer": "calm",
    "tenser": "tense",
    "scarier": "tense",
    "happier": "joyful",
    "brighter": "joyful",
    "eerier": "mysterious",
    "creepier": "mysterious",
    "sadder": "sad",
}
# What a mood sounds like, in words a video model (and media.ambience) can follow.
_AMBIENCE_BY_TONE: dict[str, str] = {
    "calm": "soft room tone and a gentle breeze",
    "joyful": "a bright airy pad and distant birdsong",
    "sad": "a slow low pad and light rain",
    "mysterious": "a hollow distant hum",
    "tense": "a low pulsing drone and gusting wind",
    "action": "a driving rumble and rushing air",
}
_BED = re.compile(rf"\b(?:{'|'.join(_AMBIENCE_BY_TONE)}) ambience, [^;.]+")
_QUOTED = re.compile(r'["“]([^"”]+)["”]')
_DEFAULT_CAMERAS = ("static", "slow push-in", "pan right", "tilt up")
# Varies repeated beats when the beat has fewer clauses than shots.
_FRAMINGS = ("Wide shot:", "Medium shot:", "Close-up:", "Detail insert:", "Over-the-shoulder:")


class LocalPlanner:
    """Split the beat into shots by rule, with tone-driven camera moves."""

    model = "local-planner-1"

    def plan(self, request: PlanRequest) -> Plan:
        """Turn a beat and its references into shots."""
        # Quoted speech is the dialogue's, not a picture to split into shots.
        beats = _split_beat(" ".join(_QUOTED.sub("", request.beat).split())) or [
            request.title or "establishing view"
        ]
        cameras = _cameras_for(request.tone)
        colours = ", ".join(dict.fromkeys(media.colour_name(c) for c in request.palette))
        lines = [q.strip() for q in _QUOTED.findall(request.beat) if q.strip()]
        shots = []
        for index in range(request.shot_count):
            beat = beats[index % len(beats)]
            cast = _named_in(beat, request.characters)
            assigned = _references_for_cast(request.references, cast, index)
            framing = _FRAMINGS[index % len(_FRAMINGS)]
            parts = [
                f"{framing} {beat}.",
                f"Style: {request.ip_name}, {request.style_notes.rstrip('. ')}."
                if request.style_notes
                else "",
                f"{request.tone} mood." if request.tone else "",
                f"Palette: {colours}." if colours else "",
                f"Featuring {', '.join(r.title for r in assigned)}." if assigned else "",
            ]
            shots.append(
                ShotSpec(
                    prompt=" ".join(p for p in parts if p),
                    negative_prompt=request.negative_prompt,
                    camera=cameras[index % len(cameras)],
                    duration_s=request.seconds_per_shot,
                    reference_ids=tuple(dict.fromkeys(r.asset_id for r in assigned)),
                    characters=cast,
                    audio=_audio_line(
                        request.sound,
                        mood=_tone_of(request.tone) or "calm",
                        beat=beat,
                        speaker=cast[0] if cast else "",
                        line=lines[index] if index < len(lines) else "",
                    ),
                )
            )
        return Plan(shots=tuple(shots), model=self.model)


def _bed(mood: str) -> str:
    return f"{mood} ambience, {_AMBIENCE_BY_TONE[mood]}"


def _audio_line(sound: str, *, mood: str, beat: str, speaker: str, line: str) -> str:
    """Write what a shot sounds like: the ambience of its mood, under a spoken line if asked."""
    if sound == "none":
        return ""
    if sound == "ambience":
        return f"Ambience: {_bed(mood)}; no dialogue."
    who = speaker or "A narrator"
    # A line quoted in the beat is spoken as written; otherwise the model writes a short one.
    said = f'says "{line}"' if line else f"speaks one short line about this moment ({beat})"
    return f"Dialogue: {who} {said}; under it, {_bed(mood)}."


def _named_in(text: str, characters: Sequence[str]) -> tuple[str, ...]:
    """Return the characters a stretch of the beat names (by first name or full name)."""
    lowered = text.lower()
    return tuple(
        name
        for name in characters
        if re.search(rf"\b{re.escape(name.lower())}\b", lowered)
        or re.search(rf"\b{re.escape(name.split()[0].lower())}\b", lowered)
    )


def _references_for_cast(
    references: Sequence[Reference], cast: Sequence[str], index: int
) -> tuple[Reference, ...]:
    """Pick up to three references: each named character's, then art that shows nobody.

    A reference showing a character the shot does not name is never picked: it would steer
    the render towards the wrong character.
    """
    chosen: list[Reference] = []
    for name in cast:
        shows = [r for r in references if name in r.characters and set(r.characters) <= set(cast)]
        chosen.extend(shows[:1])
    neutral = [r for r in references if not r.characters]
    if neutral:
        for offset in range(len(neutral)):
            if len(chosen) >= 3:
                break
            candidate = neutral[(index + offset) % len(neutral)]
            if candidate not in chosen:
                chosen.append(candidate)
    return tuple(dict.fromkeys(chosen))[:3]


def _split_beat(beat: str) -> list[str]:
    """Split into sentences, then clauses if sentences alone are few."""
    sentences = [s.strip() for s in re.split(r"[.!?;\n]+", beat) if s.strip()]
    clauses = [
        c.strip()
        for s in sentences
        for c in re.split(r",|\bthen\b|\band then\b|\bwhile\b|\bas\b", s)
        if len(c.split()) >= 2
    ]
    return clauses if len(clauses) > len(sentences) else sentences


def _cameras_for(tone: str) -> tuple[str, ...]:
    key = _tone_of(tone)
    return _CAMERA_BY_TONE[key] if key else _DEFAULT_CAMERAS


def _tone_of(text: str) -> str | None:
    """Return the first tone the text names (synonyms folded), or None."""
    for word in re.findall(r"[a-z]+", text.lower()):
        key = _TONE_SYNONYMS.get(word, word)
        if key in _CAMERA_BY_TONE:
            return key
    return None


# A note that asks for something to go away becomes a negative-prompt term, not a prompt fix.
_REMOVAL = re.compile(
    r"^(?:please\s+)?(?:no|remove|lose|avoid|drop|get rid of|without|don't show|do not show)\s+",
    re.IGNORECASE,
)
_REVISION_MARK = "\n\nReview fixes: "
_SOUND_MARK = " Sound fixes: "


class LocalReviser:
    """Rewrite a prompt from review notes by rule: fixes with their time and place, removals.

    Notes about sound revise the audio line instead: a mood they name replaces the line's
    ambience, anything else is appended as a timed sound fix.
    """

    model = "local-reviser-1"

    def revise(self, request: RevisionRequest) -> Revision:
        """Append each note as a located fix, or as a negative term when it asks for a removal."""
        # Re-prompting a revised take replaces its fixes rather than stacking them.
        base = request.prompt.split(_REVISION_MARK)[0].rstrip()
        fixes, removals = [], []
        for note in request.notes:
            if note.about_sound:
                continue
            body = _plain(note.body)
            removal = _REMOVAL.match(body)
            if removal:
                removals.append(body[removal.end() :].strip())
            else:
                fixes.append(f"{_where(note)}: {body[:1].lower()}{body[1:]}")
        prompt = base + (_REVISION_MARK + "; ".join(fixes) + "." if fixes else "")
        terms = [t.strip() for t in request.negative_prompt.split(",") if t.strip()]
        terms += [term for term in removals if term.lower() not in {t.lower() for t in terms}]
        return Revision(
            prompt=prompt,
            negative_prompt=", ".join(terms),
            answered_note_ids=tuple(note.note_id for note in request.notes),
            model=self.model,
            audio=_revised_audio(request.audio, [n for n in request.notes if n.about_sound]),
        )


def _plain(body: str) -> str:
    return " ".join(body.split()).rstrip(".!")


def _revised_audio(audio: str, notes: Sequence[NoteSpec]) -> str:
    """Answer sound notes in the audio line: a named mood swaps the bed, the rest are fixes."""
    if not notes:
        return audio
    line = audio.split(_SOUND_MARK)[0].rstrip()
    fixes = []
    for note in notes:
        body = _plain(note.body)
        mood = _tone_of(body)
        if mood and _BED.search(line):
            line = _BED.sub(_bed(mood), line)
        elif mood:
            line = f"{line} Ambience: {_bed(mood)}.".strip()
        removal = _REMOVAL.match(body)
        if removal:
            fixes.append(f"at {_when(note)}: without {body[removal.end() :].strip()}")
        elif not mood:
            fixes.append(f"at {_when(note)}: {body[:1].lower()}{body[1:]}")
    return line + (_SOUND_MARK + "; ".join(fixes) + "." if fixes else "")


def _when(note: NoteSpec) -> str:
    """Say when a note applies, e.g. "1.5 s" or "1.5-2.0 s"."""
    if note.end_s is not None and note.end_s > note.start_s:
        return f"{note.start_s:.1f}-{note.end_s:.1f} s"
    return f"{note.start_s:.1f} s"


def _where(note: NoteSpec) -> str:
    """Say when (and where in the frame) a note applies, e.g. "1.5-2.0 s, upper left"."""
    when = _when(note)
    if note.region is None:
        return f"at {when}"
    x, y, w, h = note.region
    row = ("upper", "middle", "lower")[min(int((y + h / 2) * 3), 2)]
    column = ("left", "centre", "right")[min(int((x + w / 2) * 3), 2)]
    place = "centre" if (row, column) == ("middle", "centre") else f"{row} {column}"
    return f"at {when}, {place} of the frame"


def default_ops_dir() -> Path:
    """Return the directory local takes are rendered into when none is configured."""
    return Path(tempfile.gettempdir()) / "studio-local-ops"


class LocalGenerator:
    """Render takes with media.render_clip into a directory shared by every process.

    A take whose request wants sound gets an ambience track shaped by the mood its audio line
    (else its prompt) names; `audio` gives every take one, whatever its brief asked.
    """

    model = "local-renderer-1"
    # A second start() with the same key finds the first render on disk.
    start_is_idempotent = True

    def __init__(self, workdir: Path | None = None, *, audio: bool = False) -> None:
        self.workdir = workdir or default_ops_dir()
        self.audio = audio

    def start(self, request: GenerationRequest) -> str:
        """Render the take unless this idempotency key already has one; return its op id."""
        operation_id = (
            "local-" + hashlib.blake2b(request.idempotency_key.encode(), digest_size=12).hexdigest()
        )
        path = self._path(operation_id)
        if path.exists():
            return operation_id
        video = media.render_clip(
            prompt=request.prompt,
            camera=request.camera,
            duration_s=request.duration_s,
            aspect_ratio=request.aspect_ratio,
            seed=request.seed,
            palette=request.palette,
            reference_images=request.reference_images,
            negative_prompt=request.negative_prompt,
            mood=sound_mood(request) if self.audio or request.wants_sound else None,
        )
        write_atomically(path, video)
        return operation_id

    def poll(self, operation_id: str) -> GenerationStatus:
        """Return the finished take."""
        try:
            video = self._path(operation_id).read_bytes()
        except FileNotFoundError as exc:
            raise PermanentProviderError(f"unknown operation {operation_id}") from exc
        return GenerationStatus(done=True, operation_id=operation_id, video=video)

    def _path(self, operation_id: str) -> Path:
        if not re.fullmatch(r"[a-z]+-[0-9a-f]+", operation_id):
            raise PermanentProviderError(f"malformed operation id {operation_id!r}")
        return self.workdir / f"{operation_id}.mp4"


def sound_mood(request: GenerationRequest) -> str:
    """Return the mood a take's ambience follows: its audio line's, else its prompt's, else calm."""
    bed = _BED.search(request.audio)
    return (
        (_tone_of(bed.group(0)) if bed else None)
        or _tone_of(request.audio)
        or _tone_of(request.prompt)
        or "calm"
    )


def write_atomically(path: Path, data: bytes) -> None:
    """Write through a temp file so a reader in another process never sees half a clip."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".part")
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.replace(tmp, path)


class LocalCritic:
    """Judge what can be measured offline: blank frames and how far colours stray from the palette.

    It cannot judge the prompt offline: who is on screen, what they do, where, in what style,
    and whether text or logos appear need a vision model, so it returns no criterion verdicts
    and leaves those to Gemini, the clip checks (identity) and people. Matching colour words in
    the prompt was tried and failed good takes ("no pure black" in an IP's style notes).
    """

    model = "local-critic-1"
    # Below this luma standard deviation a frame is effectively one flat colour.
    blank_std = 6.0

    def critique(
        self,
        *,
        prompt: str,
        poster_png: bytes,
        references: Sequence[Reference],
        frames: Sequence[ClipFrame] = (),
        negative_prompt: str = "",
    ) -> Critique:
        """Score the take's frames (else its poster) against the references' palettes."""
        images = [media.open_image(frame.image) for frame in frames] or [
            media.open_image(poster_png)
        ]
        sheet = media.contact_sheet(images)
        mean, std = media.luma_stats_of(sheet)
        reasons = [f"luma mean {mean:.0f}, std {std:.1f}"]
        if std < self.blank_std:
            reasons.append("frame is blank or nearly flat")
            return Critique(score=0.02, reasons=tuple(reasons), model=self.model)
        contrast = min(1.0, std / 40)
        reference_palette = [c for r in references for c in r.palette]
        if not reference_palette:
            reasons.append("no reference palette to compare against")
            return Critique(
                score=round(0.5 * contrast, 3), reasons=tuple(reasons), model=self.model
            )
        stray = media.palette_stray(media.weighted_colours(sheet), reference_palette)
        reasons.append(f"colours stray {stray:.2f} from the references' palette")
        score = 0.3 * contrast + 0.7 * (1 - stray)
        return Critique(score=round(score, 3), reasons=tuple(reasons), model=self.model)


_STOPWORD_TEXT = (
    "a an and are as at be by for from has he her his in is it its of on or she that the their them"
    " they this to was were with into onto over under"
)
_STOPWORDS = frozenset(_STOPWORD_TEXT.split())
# Film and visual vocabulary that should meet in the same bucket even when the words differ.
_CONCEPTS: dict[str, tuple[str, ...]] = {
    "forest": ("forest", "woods", "wood", "tree", "woodland", "jungle", "pine", "grove"),
    "night": ("night", "dark", "moon", "moonlight", "midnight", "nocturnal", "starry", "dusk"),
    "sea": ("sea", "ocean", "wave", "surf", "tide", "beach", "shore", "coast", "marine"),
    "robot": ("robot", "android", "mech", "cyborg", "droid", "automaton", "machine"),
    "cat": ("cat", "kitten", "feline", "kitty", "tabby"),
    "dog": ("dog", "puppy", "hound", "canine", "pup"),
    "red": ("red", "crimson", "scarlet", "ruby", "vermilion"),
    "blue": ("blue", "azure", "navy", "cobalt", "cyan", "teal"),
    "green": ("green", "emerald", "verdant", "lime"),
    "gold": ("gold", "golden", "yellow", "amber"),
    "city": ("city", "urban", "street", "downtown", "skyline", "metropolis", "neon"),
    "mountain": ("mountain", "peak", "summit", "cliff", "alpine", "ridge"),
    "snow": ("snow", "winter", "ice", "frost", "frozen", "blizzard"),
    "fire": ("fire", "flame", "blaze", "burning", "ember", "inferno"),
    "rain": ("rain", "storm", "thunder", "downpour", "drizzle"),
    "space": ("space", "galaxy", "star", "planet", "cosmic", "nebula", "orbit"),
    "sun": ("sun", "sunny", "daylight", "sunrise", "sunset", "dawn", "bright"),
    "child": ("child", "kid", "boy", "girl", "toddler"),
    "dragon": ("dragon", "wyvern", "drake", "serpent"),
    "castle": ("castle", "fortress", "palace", "keep", "citadel"),
    "car": ("car", "vehicle", "automobile", "truck", "racing"),
    "fight": ("fight", "battle", "combat", "duel", "clash", "brawl"),
    "happy": ("happy", "joyful", "cheerful", "smiling", "laughing", "playful"),
    "sad": ("sad", "melancholy", "crying", "tearful", "grief", "lonely"),
    "closeup": ("closeup", "close-up", "portrait", "face", "detail"),
    "aerial": ("aerial", "drone", "overhead", "bird's-eye", "birdseye"),
    "bird": ("bird", "eagle", "owl", "hawk", "sparrow", "crow", "raven"),
    "flower": ("flower", "blossom", "bloom", "petal", "rose", "garden"),
    "desert": ("desert", "dune", "sand", "arid"),
    "food": ("food", "meal", "dish", "cake", "bread", "kitchen"),
}
_CONCEPT_OF = {word: concept for concept, words in _CONCEPTS.items() for word in words}
_WEIGHTS = {"w": 1.0, "b": 0.6, "c": 0.25, "k": 1.6}


class LocalEmbedder:
    """Deterministic feature-hashing embeddings with a small concept table."""

    def __init__(self, dimensions: int = 768) -> None:
        self.dimensions = dimensions
        self.model = f"local-hash-{dimensions}"

    def embed(self, texts: Sequence[str], *, task: EmbedTask = "document") -> list[list[float]]:
        """Return one L2-normalised vector per text; queries and documents share one space."""
        return [self._vector(text) for text in texts]

    def _vector(self, text: str) -> list[float]:
        vector = [0.0] * self.dimensions
        for feature, count in _features(text).items():
            digest = hashlib.blake2b(feature.encode(), digest_size=8).digest()
            value = int.from_bytes(digest, "little")
            sign = 1.0 if value >> 63 else -1.0
            vector[value % self.dimensions] += sign * _WEIGHTS[feature[0]] * (1 + math.log(count))
        norm = math.sqrt(sum(v * v for v in vector))
        return [v / norm for v in vector] if norm else vector


def _features(text: str) -> Counter[str]:
    """Count word, bigram, character n-gram and concept features, each tagged by kind."""
    words = [_stem(w) for w in re.findall(r"[a-z0-9][a-z0-9'-]*", text.lower())]
    words = [w for w in words if w not in _STOPWORDS] or ["<empty>"]
    features: Counter[str] = Counter()
    for word in words:
        features[f"w:{word}"] += 1
        if word in _CONCEPT_OF:
            features[f"k:{_CONCEPT_OF[word]}"] += 1
        padded = f"<{word}>"
        for n in (3, 4):
            for i in range(len(padded) - n + 1):
                features[f"c:{padded[i : i + n]}"] += 1
    for first, second in itertools.pairwise(words):
        features[f"b:{first} {second}"] += 1
    return features


def _stem(word: str) -> str:
    """Fold plurals, which is most of what a tiny vocabulary needs."""
    if len(word) > 4 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


class LocalCaptioner:
    """Caption from the hint plus the image's measured colours, named in words."""

    model = "local-captioner-1"

    def caption(self, image_bytes: bytes, *, hint: str) -> str:
        """Describe an image for search, guided by a hint such as its title."""
        names = dict.fromkeys(media.colour_name(c) for c in media.dominant_colours(image_bytes, 4))
        mean, _ = media.luma_stats(image_bytes)
        light = "dark" if mean < 70 else "bright" if mean > 180 else "mid-toned"
        description = f"A {light} image in {', '.join(names)}."
        return f"{hint.strip()}. {description}" if hint.strip() else description
