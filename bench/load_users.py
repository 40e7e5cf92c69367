"""Locust users for bench/load.py: directors on boards, producers on live brief pages, API clients.

Everything goes over HTTP to the served app; nothing here imports the app. bench/load.py writes
the scenario (users, passwords, brief ids, API tokens) to the file named by LOAD_SCENARIO and
reads back each decision's outcome from the file named by LOAD_OUTCOMES.
"""

import itertools
import json
import os
import random
import re
import uuid

from locust import HttpUser, between, events, task

SCENARIO = json.loads(open(os.environ["LOAD_SCENARIO"]).read())  # noqa: SIM115
OUTCOMES = open(os.environ["LOAD_OUTCOMES"], "a", buffering=1)  # noqa: SIM115
HTMX = {"HX-Request": "true"}
_directors = itertools.count()
_producers = itertools.count()
_clients = itertools.count()

BULK_CHECKBOX = re.compile(r'name="selected" value="(\d+):(\d+)"')
CARD_LINK = re.compile(r"/review/shots/(\d+)/card/")
DECIDE_FORM = re.compile(
    r'action="/review/takes/(\d+)/decide/".*?name="version" value="(\d+)"', re.DOTALL
)
BOARD_VERSION = re.compile(r'data-version="([^"]*)"')
LIVE_VERSION = re.compile(r"/live/\?v=([0-9a-f]+)")


class LoggedIn(HttpUser):
    """A signed-in user: bench/load.py made the session (people log in once, not per poll)."""

    abstract = True

    def sign_in(self, username: str) -> None:
        self.client.cookies.set("sessionid", SCENARIO["sessions"][username])

    def post(self, url: str, data: dict, name: str, **kwargs):
        headers = {**HTMX, "X-CSRFToken": self.client.cookies.get("csrftoken", "")}
        return self.client.post(url, data, headers=headers, name=name, **kwargs)


class Director(LoggedIn):
    """Polls a board of 100 shots, opens cards, adds notes and decides (several per board)."""

    fixed_count = SCENARIO["directors"]
    wait_time = between(0.5, 2.0)

    def on_start(self) -> None:
        n = next(_directors)
        self.sign_in(SCENARIO["director_usernames"][n % len(SCENARIO["director_usernames"])])
        self.brief = SCENARIO["board_briefs"][n % len(SCENARIO["board_briefs"])]
        self.version = ""
        self.shots: list[int] = []
        self.card: tuple[int, int] | None = None
        # All 20 directors open their board in the same second at the start: reported apart.
        self.load_board(name="board, first load")

    def load_board(self, name: str = "board") -> None:
        response = self.client.get(f"/review/briefs/{self.brief}/", name=name)
        if response.status_code == 200:
            self.shots = sorted({int(s) for s in CARD_LINK.findall(response.text)})
            found = BOARD_VERSION.search(response.text)
            self.version = found.group(1) if found else ""

    @task(2)
    def board(self) -> None:
        self.load_board()

    @task(10)
    def poll(self) -> None:
        url = f"/review/briefs/{self.brief}/changes/?since={self.version}"
        with self.client.get(url, headers=HTMX, name="poll", catch_response=True) as response:
            # 204 (nothing changed) and 200 (changed cards) are different work: report apart.
            response.request_meta["name"] = f"poll {response.status_code}"
            if response.status_code == 200:
                found = BOARD_VERSION.search(response.text)
                self.version = found.group(1) if found else self.version

    @task(5)
    def open_card(self) -> None:
        if not self.shots:
            return
        # Half the time one of the board's first five shots: directors on one board overlap
        # there, so some decisions race and must come back 409 rather than both apply.
        shot = random.choice(self.shots[:5] if random.random() < 0.5 else self.shots)
        response = self.client.get(f"/review/shots/{shot}/card/", headers=HTMX, name="card")
        found = DECIDE_FORM.search(response.text) if response.status_code == 200 else None
        self.card = (int(found.group(1)), int(found.group(2))) if found else None

    @task(2)
    def note(self) -> None:
        if self.card:
            take, _ = self.card
            self.post(
                f"/review/takes/{take}/notes/",
                {"body": "Lantern flickers here", "timecode_start": round(random.random() * 3, 2)},
                name="note",
            )

    @task(3)
    def decide(self) -> None:
        if not self.card:
            return
        take, version = self.card
        token = f"load-{uuid.uuid4().hex}"
        verdict = random.choice(["approved", "rejected"])
        data = {"verdict": verdict, "version": version, "reason_text": token}
        if verdict == "rejected":
            data["reason"] = "artefacts"
        with self.post(
            f"/review/takes/{take}/decide/", data, name="decide", catch_response=True
        ) as response:
            if response.status_code in (200, 409):
                response.success()
            outcome = {"take": take, "version": version, "token": token}
            OUTCOMES.write(json.dumps({**outcome, "status": response.status_code}) + "\n")
        self.card = None  # the card's version moved on either way; open it again to decide


class Producer(LoggedIn):
    """Watches a live brief page: loads it, then polls its live panel as htmx does."""

    fixed_count = SCENARIO["producers"]
    wait_time = between(1.5, 2.5)

    def on_start(self) -> None:
        n = next(_producers)
        self.sign_in(SCENARIO["producer_usernames"][n % len(SCENARIO["producer_usernames"])])
        self.brief = SCENARIO["live_briefs"][n % len(SCENARIO["live_briefs"])]
        self.version = ""
        self.page()

    def page(self) -> None:
        response = self.client.get(f"/briefs/{self.brief}/", name="live page")
        found = LIVE_VERSION.search(response.text) if response.status_code == 200 else None
        self.version = found.group(1) if found else self.version

    @task(1)
    def reload(self) -> None:
        self.page()

    @task(10)
    def live_poll(self) -> None:
        url = f"/briefs/{self.brief}/live/?v={self.version}"
        with self.client.get(url, headers=HTMX, name="live poll", catch_response=True) as response:
            response.request_meta["name"] = f"live poll {response.status_code}"
            ok = response.status_code in (200, 286)
            found = LIVE_VERSION.search(response.text) if ok else None
            self.version = found.group(1) if found else self.version


class ApiClient(HttpUser):
    """Lists briefs through the JSON API with a personal token, within the token's rate limit."""

    fixed_count = SCENARIO["api_clients"]
    wait_time = between(0.6, 1.0)  # under 120 calls a minute per token (API_RATE_LIMIT)

    def on_start(self) -> None:
        n = next(_clients)
        self.headers = {"Authorization": f"Bearer {SCENARIO['api_tokens'][n]}"}

    @task
    def list_briefs(self) -> None:
        offset = random.choice([0, 0, 20])
        self.client.get(
            f"/api/v1/briefs?limit=20&offset={offset}", headers=self.headers, name="api briefs"
        )


@events.quitting.add_listener
def _close(environment, **kwargs) -> None:
    OUTCOMES.close()
