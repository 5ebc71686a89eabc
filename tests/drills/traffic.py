"""Traffic for the drills, sent over HTTP to a real web server the way clients send it.

`EventSender` posts order event batches as the integration guide tells a brand to: a batch
that gets no answer, a 5xx or a 429 is sent again, unchanged, after a pause. `Clicker`
follows tracking links as visitors do and keeps every click id the redirects hand out.
Both run in a thread until their work is done (or `stop()`), and count what went wrong.
`assert_nothing_lost_or_doubled` then checks what they were answered against the database.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from collections import Counter
from typing import Any

from django.core.management import call_command

from campaigns.models import CampaignClickDay, Click, ClickDailyCount, Collaboration
from payouts.models import OrderEvent
from tests.payouts.scenario import assert_earnings


def _request(
    base: str,
    method: str,
    path: str,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    url = urllib.parse.urlsplit(base)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=30)
    try:
        conn.request(method, path, body=body, headers=headers or {})
        response = conn.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        conn.close()


class EventSender(threading.Thread):
    def __init__(
        self, base: str, key: str, events: list[dict[str, Any]], *, batch: int, pause: float
    ) -> None:
        super().__init__(daemon=True)
        self.base, self.key, self.pause = base, key, pause
        self.batches = [events[i : i + batch] for i in range(0, len(events), batch)]
        self.sent = 0  # batches answered 202
        self.accepted = 0
        self.duplicates = 0
        self.failures: Counter[str] = Counter()  # what made a batch go again
        self.rejected: list[Any] = []

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.key}", "Content-Type": "application/json"}
        for events in self.batches:
            body = json.dumps({"events": events}).encode()
            while True:
                try:
                    status, answer_headers, raw = _request(
                        self.base, "POST", "/api/v1/order-events", body, headers
                    )
                except OSError as error:
                    self.failures[type(error).__name__] += 1
                    time.sleep(0.5)
                    continue
                if status == 202:
                    answer = json.loads(raw)
                    self.accepted += answer["accepted"]
                    self.duplicates += answer["duplicates"]
                    self.rejected += answer["rejected"]
                    break
                self.failures[str(status)] += 1
                if status < 500 and status != 429:
                    raise AssertionError(f"a batch was refused: {status} {raw[:500]!r}")
                time.sleep(min(float(answer_headers.get("Retry-After", "0.5")), 1.0))
            self.sent += 1
            time.sleep(self.pause)


class Clicker(threading.Thread):
    def __init__(self, base: str, codes: list[str], *, pause: float) -> None:
        super().__init__(daemon=True)
        self.base, self.codes, self.pause = base, codes, pause
        self.click_ids: list[str] = []
        self.failures: Counter[str] = Counter()
        self._halt = threading.Event()

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        n = 0
        while not self._halt.is_set():
            code = self.codes[n % len(self.codes)]
            n += 1
            try:
                status, headers, _ = _request(
                    self.base, "GET", f"/r/{code}", headers={"User-Agent": "Mozilla/5.0 drill"}
                )
            except OSError as error:
                self.failures[type(error).__name__] += 1
                continue
            if status != 302:
                self.failures[str(status)] += 1
                continue
            query = urllib.parse.urlsplit(headers["Location"]).query
            self.click_ids += urllib.parse.parse_qs(query)["click_id"]
            time.sleep(self.pause)


def assert_nothing_lost_or_doubled(
    sender: EventSender,
    clicker: Clicker,
    events: list[dict[str, Any]],
    collabs: list[Collaboration],
    expected: dict[int, int],
) -> None:
    """Every event stored once and turned into exactly the expected earnings; every click id
    a redirect handed out stored once and counted once; every ledger check passing."""
    assert sender.rejected == []
    assert OrderEvent.objects.count() == len(events)
    assert sender.accepted + sender.duplicates >= len(events)
    assert_earnings(collabs, expected)

    handed_out = set(clicker.click_ids)
    assert len(handed_out) == len(clicker.click_ids)
    ours = Click.objects.filter(collaboration__in=collabs)
    stored = {str(c) for c in ours.values_list("click_id", flat=True)}
    assert stored == handed_out
    assert sum(ClickDailyCount.objects.values_list("clicks", flat=True)) == len(handed_out)
    assert sum(CampaignClickDay.objects.values_list("clicks", flat=True)) == len(handed_out)
    call_command("check_ledger")  # exits 1 on any failure
