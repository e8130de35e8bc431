"""The ticket's own page on the visitor's phone, pushed vs polled (issue 17): `python -m broker.sim.bench_ticket`.

One run, everything as in production and each in its own process: a private Mosquitto, `antrian serve`
with its durable log, `antrian web` (waitress, the ticket page's event stream) and Debian's chromium under
Playwright. The site is the bench's sample MPP. Measured side by side, in the same run:

- **press to the called banner**: a ticket of service B is the only one waiting; its page is open twice,
  once as shipped (the stream, `/langsung`) and once in a context without EventSource, where the page polls
  `/status` every 5 s as it did before the stream; after a random pause (so the poll's phase is uniform)
  counter 1 presses "next", and each page's MutationObserver notes `Date.now()` when `.live.called`
  appears (the same clock as this process's `time.time()` on one machine);
- **N open streams** held by a small client (raw HTTP connections of this process, one per waiting
  ticket of one service): the web process's resident memory and thread count before and while they are
  open, the time from a press until each stream whose ticket moved carries its new place (the called
  one, the 49 listed behind it and the one that came into the state's 50 listed numbers), the web
  tier's CPU meanwhile, and a ticket page's GET timed before and while the streams are open; then the
  same tier at rest beside one started with a single stream slot (what the slots' idle threads cost).

A benchmark, not a test: nothing here asserts a time. Needs Playwright (the test extras) and
/usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import re
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from broker.mqtt.client import EngineClient, StateMirror
from broker.server.mosquitto import PrivateMosquitto, free_port
from broker.sim.bench import (
    SITE,
    Processes,
    bench_config,
    cpu_seconds,
    http_up,
    machine,
    percentiles,
    rss_mb,
    wait_until,
)
from broker.site.config import load_config

CHROMIUM = "/usr/bin/chromium"
SERVICE, COUNTER = "B", "1"
POLL_S = 5  # the page's poll (broker.web.ticket.POLL_S), as before the stream

# installed before any page script (an init script is not subject to the page's CSP)
OBSERVER = """
window.__called = null;
document.addEventListener('DOMContentLoaded', () => {
  new MutationObserver(() => {
    if (window.__called === null && document.querySelector('.live.called')) { window.__called = Date.now(); }
  }).observe(document.body, {subtree: true, childList: true});
});
"""
NO_EVENTSOURCE = "Object.defineProperty(window, 'EventSource', {value: undefined});"


def threads_of(pid: int) -> int:
    found = re.search(r"Threads:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    return int(found.group(1)) if found else 0


def path_of(issued: dict) -> str:
    return f"/tiket/{issued['ticket']['id']}/{issued['survey_token']}"


def waiting(mirror: StateMirror, number: str) -> bool:
    state = mirror.retained.services.get(SERVICE)
    return state is not None and number in state.waiting_numbers


def press_to_banner(client: EngineClient, mirror: StateMirror, web: str, push_page, poll_page,
                    presses: int) -> dict[str, list[float]]:
    """Each press: one waiting ticket, its page open pushed and polled, then "next": ms until each showed the call."""
    times: dict[str, list[float]] = {"push": [], "poll": []}
    for _ in range(presses):
        issued = client.issue("bench", SERVICE)
        wait_until(lambda n=issued["ticket"]["number"]: waiting(mirror, n), 10, "the ticket in the state")
        for page in (push_page, poll_page):
            page.goto(web + path_of(issued))
            page.wait_for_selector(".live.waiting", timeout=15_000)
        push_page.wait_for_selector("#live[data-live='push']", timeout=15_000)
        time.sleep(random.uniform(0, POLL_S))  # the poll's phase at the press: anywhere in its 5 s
        began = time.time() * 1000
        reply = client.counter(COUNTER, "next")
        if (reply.get("ticket") or {}).get("id") != issued["ticket"]["id"]:
            raise RuntimeError(f"counter {COUNTER} did not call the bench's ticket: {reply}")
        for name, page in (("push", push_page), ("poll", poll_page)):
            try:
                shown = wait_until(lambda p=page: p.evaluate("window.__called"), POLL_S * 3, f"the {name} banner")
                times[name].append(float(shown) - began)
            except TimeoutError:
                pass  # a page that never showed it counts as missing: n says so
        for page in (push_page, poll_page):  # closed first: a served ticket's page reloads by itself
            page.goto("about:blank")
        client.counter(COUNTER, "finish")
    return times


class Held:
    """One event stream held open by this process, noting when each `event: live` arrives."""

    def __init__(self, host: str, port: int, path: str):
        self.conn = http.client.HTTPConnection(host, port, timeout=60)
        self.conn.request("GET", path + "/langsung", headers={"Accept": "text/event-stream"})
        self.response = self.conn.getresponse()
        self.arrivals: list[float] = []
        self.first = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            while True:
                chunk = self.response.read1(65536)
                if not chunk:
                    return
                now = time.time() * 1000
                for _ in range(chunk.count(b"event: live")):
                    self.arrivals.append(now)
                if b"event: live" in chunk:
                    self.first.set()
        except (OSError, http.client.HTTPException):  # closed by this process at the end
            return

    def close(self) -> None:
        self.conn.close()


def page_get(web: str, path: str, times: int) -> dict[str, float]:
    samples = []
    for _ in range(times):
        began = time.perf_counter()
        with urllib.request.urlopen(web + path, timeout=10) as response:
            response.read()
        samples.append((time.perf_counter() - began) * 1000)
    return percentiles(samples)


def open_streams(client: EngineClient, mirror: StateMirror, web: str, web_pid: int, streams: int,
                 presses: int) -> dict[str, Any]:
    host, port = web.removeprefix("http://").split(":")
    issued = [client.issue("bench", SERVICE) for _ in range(streams)]
    wait_until(lambda: mirror.retained.services[SERVICE].waiting >= streams, 20, "the tickets in the state")
    probe = path_of(issued[-1])
    page_get(web, probe, 5)  # warm
    rss_before = rss_mb(web_pid)
    before = {"rss_mb": rss_before, "threads": threads_of(web_pid), "page_get_ms": page_get(web, probe, 30)}
    held = [Held(host, int(port), path_of(i)) for i in issued[:streams]]
    try:
        for h in held:
            if not h.first.wait(30):
                raise TimeoutError("a stream carried nothing within 30 s")
        time.sleep(1.0)
        rss_during = rss_mb(web_pid)
        during = {"rss_mb": rss_during, "threads": threads_of(web_pid), "page_get_ms": page_get(web, probe, 30)}
        latencies: list[float] = []
        cpu_before, wall = cpu_seconds(web_pid), time.perf_counter()
        for k in range(presses):
            # "next" calls ticket k: its stream says so, the 49 listed behind it move up one, and the 51st
            # comes into the listed 50 (the state lists 50 waiting numbers; further back a page says "more
            # than 50", which a press does not change)
            moved = held[k:k + 51]
            marks = [len(h.arrivals) for h in moved]
            began = time.time() * 1000
            client.counter(COUNTER, "next")
            wait_until(lambda m=marks, hs=moved: all(len(h.arrivals) > n for h, n in zip(hs, m, strict=True)),
                        20, "every moved ticket's stream")
            latencies += [h.arrivals[n] - began for h, n in zip(moved, marks, strict=True)]
            time.sleep(0.2)
        cpu = cpu_seconds(web_pid) - cpu_before
        elapsed = time.perf_counter() - wall
        return {"streams": streams, "before": before, "during": during,
                "per_stream_kb": round((rss_during - rss_before) * 1024 / streams, 1),
                "press_to_every_stream_ms": percentiles(latencies) | {"presses": presses},
                "web_cpu_pct_during_presses": round(100 * cpu / elapsed, 1)}
    finally:
        for h in held:
            h.close()


def run(*, presses: int, streams: int, stream_presses: int, say=print) -> dict[str, Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SystemExit("the ticket bench needs Playwright: pip install -e '.[test]'") from None
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"the ticket bench needs Debian's chromium at {CHROMIUM}: apt-get install chromium")
    results: dict[str, Any] = {"machine": machine(), "presses": presses}
    with tempfile.TemporaryDirectory(prefix="antrian-bench-ticket-") as tmp, Processes() as procs:
        folder = Path(tmp)
        config_file = bench_config(folder)
        config = load_config(config_file)
        broker = PrivateMosquitto(config, folder / "broker", ("127.0.0.1", free_port()))
        procs.stack.callback(broker.stop)
        url = broker.start().url
        data = folder / "data"
        data.mkdir(mode=0o700)
        procs.antrian("serve", "--config", str(config_file), "--data", str(data), "--mqtt", url, "--ignore-hours")
        client = EngineClient(url, SITE, name="antrian-bench-ticket").start()
        mirror = StateMirror(url, SITE, name="antrian-bench-ticket-wait").start(wait=5)
        if not mirror.wait_complete(30):
            raise ConnectionError("the engine did not publish its state within 30 s")
        client.issue("bench", SERVICE, timeout=10)  # warm up, and served: the queue is empty again
        client.counter(COUNTER, "next")
        client.counter(COUNTER, "finish")
        http_at = f"127.0.0.1:{free_port()}"
        web_proc = procs.antrian("web", "--config", str(config_file), "--data", str(data), "--mqtt", url,
                                 "--http", http_at, "--rate-limit", "", "--streams", "128",
                                 "--streams-per-client", str(streams + 8))
        web = f"http://{http_at}"
        # beside it, what the 128 slots' idle threads cost a tier at rest: the same tier with a single slot
        http_one = f"127.0.0.1:{free_port()}"
        one = procs.antrian("web", "--config", str(config_file), "--data", str(data), "--mqtt", url,
                            "--http", http_one, "--rate-limit", "", "--streams", "1")
        try:
            wait_until(lambda: http_up(web + "/") and http_up(f"http://{http_one}/"), 30, "web tiers")
            probe = path_of(client.issue("bench", SERVICE))
            for address in (web, f"http://{http_one}"):
                page_get(address, probe, 10)
            time.sleep(1.0)
            results["idle_tier"] = {"streams_128": {"rss_mb": rss_mb(web_proc.pid), "threads": threads_of(web_proc.pid)},
                                    "streams_1": {"rss_mb": rss_mb(one.pid), "threads": threads_of(one.pid)}}
            say(f"a tier at rest: {results['idle_tier']}")
            client.counter(COUNTER, "next")
            client.counter(COUNTER, "finish")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                pushed, polled = (browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                                      has_touch=True) for _ in range(2))
                pushed.add_init_script(OBSERVER)
                polled.add_init_script(NO_EVENTSOURCE)
                polled.add_init_script(OBSERVER)
                times = press_to_banner(client, mirror, web, pushed.new_page(), polled.new_page(), presses)
                results["press_to_banner_ms"] = {name: percentiles(t) for name, t in times.items() if t}
                say(f"press -> called banner: {results['press_to_banner_ms']}")
                browser.close()
            results["open_streams"] = open_streams(client, mirror, web, web_proc.pid, streams, stream_presses)
            say(f"{streams} open streams: {results['open_streams']}")

        finally:
            mirror.stop()
            client.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m broker.sim.bench_ticket", description=__doc__.split("\n")[0])
    parser.add_argument("--presses", type=int, default=40, help="calls timed on the pushed and polled page (40)")
    parser.add_argument("--streams", type=int, default=100, help="streams held open at once (default 100)")
    parser.add_argument("--stream-presses", type=int, default=20, help="presses timed on every open stream (20)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    results = run(presses=args.presses, streams=args.streams, stream_presses=args.stream_presses,
                  say=(lambda _: None) if args.json else print)
    print(json.dumps(results, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
