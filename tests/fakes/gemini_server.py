"""A loopback fake of the Google generative REST API, speaking the wire format google-genai uses.

Routes are matched on the method suffix of the path, so both the Gemini Developer API
(`/v1/models/{m}:generateContent`) and Vertex (`/v1beta1/publishers/google/models/{m}:...`,
`/v1beta1/projects/.../models/{m}:fetchPredictOperation`) are served. Each route answers from
a queue of scripted responses first, then with a valid default answer.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
import threading
import uuid
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from studio.ai import media

ROUTES = ("generateContent", "batchEmbedContents", "predictLongRunning", "fetchPredictOperation")
_VIDEO_RESPONSE_TYPE = "type.googleapis.com/cloud.ai.large_models.vision.GenerateVideoResponse"
_STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


@dataclass(frozen=True)
class Received:
    """A request the fake received."""

    method: str
    path: str
    route: str
    headers: dict[str, str]
    body: Any


@dataclass(frozen=True)
class Canned:
    """A scripted response; body may be a callable of the received request."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


def error(status: int, message: str = "scripted error", **headers: str) -> Canned:
    """Return a Google-style error response."""
    body = {"error": {"code": status, "message": message, "status": _STATUS_NAMES.get(status, "")}}
    return Canned(
        status=status, body=body, headers={k.replace("_", "-"): v for k, v in headers.items()}
    )


def text_answer(text: str, *, prompt_tokens: int = 12, output_tokens: int = 34) -> Canned:
    """Return a generateContent response whose only part is text."""
    return Canned(body=_candidate(text, prompt_tokens, output_tokens))


def operation_error(code: int, message: str) -> Canned:
    """Return a finished Veo operation that failed."""
    return Canned(
        body=lambda received: {
            "name": received.body["operationName"],
            "done": True,
            "error": {"code": code, "message": message},
        }
    )


def operation_filtered(*reasons: str) -> Canned:
    """Return a finished Veo operation whose video the safety filter removed."""
    return Canned(
        body=lambda received: {
            "name": received.body["operationName"],
            "done": True,
            "response": {
                "@type": _VIDEO_RESPONSE_TYPE,
                "raiMediaFilteredCount": 1,
                "raiMediaFilteredReasons": list(reasons),
            },
        }
    )


class FakeGemini:
    """A threaded HTTP server on 127.0.0.1 that plays Gemini, Veo and the embedding API."""

    def __init__(self, *, polls_until_done: int = 1) -> None:
        self.polls_until_done = polls_until_done
        self.requests: list[Received] = []
        self.operations: dict[str, dict[str, Any]] = {}
        self._queues: dict[str, deque[Canned]] = {route: deque() for route in ROUTES}
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )

    @property
    def url(self) -> str:
        """Return the base URL to pass as HttpOptions(base_url=...)."""
        return f"http://127.0.0.1:{self._server.server_port}"

    def start(self) -> FakeGemini:
        """Serve in a background thread."""
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop serving and free the port."""
        self._server.shutdown()
        self._server.server_close()

    def script(self, route: str, *responses: Canned) -> None:
        """Queue responses for a route; they are used, in order, before the defaults."""
        if route not in ROUTES:
            raise ValueError(f"unknown route {route}")
        with self._lock:
            self._queues[route].extend(responses)

    def received(self, route: str) -> list[Received]:
        """Return the requests received on a route, oldest first."""
        return [r for r in self.requests if r.route == route]

    def _respond(self, received: Received) -> Canned:
        with self._lock:
            self.requests.append(received)
            queue = self._queues.get(received.route)
            scripted = queue.popleft() if queue else None
        if scripted is None:
            return self._default(received)
        if callable(scripted.body):
            return Canned(scripted.status, scripted.body(received), scripted.headers)
        return scripted

    def _default(self, received: Received) -> Canned:
        if received.route == "generateContent":
            return Canned(body=_generate_content(received))
        if received.route == "batchEmbedContents":
            return Canned(body=_embeddings(received))
        if received.route == "predictLongRunning":
            return Canned(body=self._start_operation(received))
        if received.route == "fetchPredictOperation":
            return self._fetch_operation(received)
        return error(404, f"no route for {received.path}")

    def _start_operation(self, received: Received) -> dict[str, Any]:
        model = re.search(r"models/([^/:]+):", received.path).group(1)
        name = (
            f"projects/fake-project/locations/us-central1/publishers/google/models/{model}"
            f"/operations/{uuid.uuid4()}"
        )
        with self._lock:
            self.operations[name] = {"polls": 0, "request": received.body}
        return {"name": name}

    def _fetch_operation(self, received: Received) -> Canned:
        name = received.body.get("operationName", "")
        with self._lock:
            operation = self.operations.get(name)
            if operation is None:
                return error(404, f"operation {name} not found")
            operation["polls"] += 1
            polls = operation["polls"]
        if polls <= self.polls_until_done:
            return Canned(body={"name": name, "done": False})
        instance = operation["request"]["instances"][0]
        parameters = operation["request"].get("parameters", {})
        video = media.render_clip(
            prompt=instance.get("prompt", ""),
            camera="slow push-in",
            duration_s=int(parameters.get("durationSeconds", 4)),
            aspect_ratio=parameters.get("aspectRatio", "16:9"),
            seed=int(parameters.get("seed", 0)),
            palette=(),
            reference_images=(),
            size_short_side=180,
            # Veo 3 renders sound with the picture when generateAudio asks for it.
            mood="calm" if parameters.get("generateAudio") else None,
        )
        return Canned(
            body={
                "name": name,
                "done": True,
                "response": {
                    "@type": _VIDEO_RESPONSE_TYPE,
                    "videos": [
                        {
                            "bytesBase64Encoded": base64.b64encode(video).decode(),
                            "mimeType": "video/mp4",
                        }
                    ],
                },
            }
        )

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else {}
                except json.JSONDecodeError:
                    body = raw.decode(errors="replace")
                route = self.path.split("?")[0].rsplit(":", 1)[-1]
                received = Received(
                    method=self.command,
                    path=self.path,
                    route=route,
                    headers={k.lower(): v for k, v in self.headers.items()},
                    body=body,
                )
                self._send(fake._respond(received))

            do_GET = do_POST

            def _send(self, canned: Canned) -> None:
                body = canned.body
                payload = (
                    body
                    if isinstance(body, bytes)
                    else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
                )
                self.send_response(canned.status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                for key, value in canned.headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, format: str, *args: Any) -> None:
                """Keep test output quiet."""

        return Handler


def _candidate(text: str, prompt_tokens: int, output_tokens: int) -> dict[str, Any]:
    return {
        "candidates": [
            {
                "content": {"parts": [{"text": text}], "role": "model"},
                "finishReason": "STOP",
                "index": 0,
            }
        ],
        "usageMetadata": {
            "promptTokenCount": prompt_tokens,
            "candidatesTokenCount": output_tokens,
            "totalTokenCount": prompt_tokens + output_tokens,
        },
        "modelVersion": "fake",
    }


def _prompt_text(body: dict[str, Any]) -> str:
    return "\n".join(
        part.get("text", "")
        for content in body.get("contents", [])
        for part in content.get("parts", [])
    )


def _generate_content(received: Received) -> dict[str, Any]:
    """Answer like the model would for Studio's planner, critic and captioner prompts."""
    config = received.body.get("generationConfig", {})
    schema = config.get("responseSchema") or config.get("responseJsonSchema") or {}
    properties = schema.get("properties", {})
    prompt = _prompt_text(received.body)
    if "shots" in properties:
        count = int(re.search(r"exactly (\d+) shots", prompt).group(1))
        seconds = int(re.search(r"Seconds per shot: (\d+)", prompt).group(1))
        assets = [int(a) for a in re.findall(r"\[asset (\d+)\]", prompt)]
        sound = re.search(r"^Sound: (\w+)", prompt, re.MULTILINE)
        wants_sound = bool(sound) and sound.group(1) != "none"
        shot_schema = properties["shots"]["items"]["properties"]
        shots = [
            {
                "prompt": f"Shot {n + 1}: a cinematic view, {prompt.splitlines()[-3][:60]}",
                "negative_prompt": "",
                "camera": ("slow push-in", "pan left", "static")[n % 3],
                "duration_s": seconds,
                "reference_ids": assets[n % len(assets) : n % len(assets) + 1] if assets else [],
            }
            | (
                {"audio": f"Ambience: shot {n + 1}, waves on the pier, gulls far off."}
                if wants_sound and "audio" in shot_schema
                else {}
            )
            for n in range(count)
        ]
        return _candidate(json.dumps({"shots": shots}), len(prompt) // 4, 40 * count)
    if "answered_note_ids" in properties:
        notes = [int(n) for n in re.findall(r"\[note (\d+)\]", prompt)]
        original = re.search(r"Prompt: (.*)", prompt).group(1)
        sound_notes = re.findall(r"\[note (\d+)\][^\n]*\(sound\)", prompt)
        audio = re.search(r"Audio line: (.*)", prompt)
        revision = {
            "prompt": f"{original} Revised to answer {len(notes)} note(s).",
            "negative_prompt": "smearing",
            "answered_note_ids": notes,
        }
        if sound_notes and audio:
            revision["audio"] = f"{audio.group(1)} Quieter under the line ({len(sound_notes)})."
        return _candidate(json.dumps(revision), len(prompt) // 4, 40)
    if "score" in properties:
        answer: dict[str, Any] = {"score": 0.82, "reasons": ["on palette", "subject is clear"]}
        if "criteria" in properties:
            # google-genai inlines the nested model, so the names are the schema's enum.
            names = properties["criteria"]["items"]["properties"]["name"]["enum"]
            answer["criteria"] = [
                {"name": name, "passed": True, "reason": "looks right", "start_s": 0.0}
                for name in names
            ]
        return _candidate(json.dumps(answer), 300, 20)
    return _candidate("A fake caption of the image.", 300, 10)


def _embeddings(received: Received) -> dict[str, Any]:
    """Return a deterministic, deliberately un-normalised vector per request."""
    vectors = []
    for request in received.body.get("requests", []):
        config = request.get("embedContentConfig", request)
        dimensions = int(config.get("outputDimensionality", 3072))
        text = " ".join(p.get("text", "") for p in request["content"]["parts"])
        seed = hashlib.sha256(text.encode()).digest()
        vectors.append({"values": [3 * math.sin(seed[i % 32] + i) for i in range(dimensions)]})
    return {"embeddings": vectors}
