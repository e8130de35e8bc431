"""The control room's live dashboard, measured in a real browser (issue 16): `python -m broker.sim.bench_kendali`.

One run, everything as in production and each in its own process: a private Mosquitto (the one
`antrian serve` starts), `antrian serve` with its durable log, `antrian kendali` (waitress, the event
stream), and Debian's chromium under Playwright. The site is the sample MPP with three more counters
(30 in all). Measured side by side:

- **press to the dashboard's DOM**: a counter's "next" published here until the page's `#counter-<id>`
  shows the called number, read in the page (a MutationObserver notes `Date.now()`, the same clock as
  this process's `time.time()` on one machine);
- beside it, in the same run, the hall display's path (a state mirror holding the counter's new
  ticket, as `antrian bench` (c) measures it) and the raw QoS 1 round trip through the same broker;
- **page load**: the dashboard of 30 counters opened again and again (navigation timing, and until its
  stream says `connected`), and its HTML's size;
- **50 dashboards open** at once on the one engine host: the same press timed on every page, with the
  control room's CPU time and memory.

A benchmark, not a test: nothing here asserts a time. Needs Playwright (the test extras) and
/usr/bin/chromium.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from broker.access.staff import StaffStore
from broker.mqtt.client import EngineClient, StateMirror
from broker.server.mosquitto import PrivateMosquitto, free_port
from broker.sim.bench import (
    SITE,
    Processes,
    call_to_display,
    cpu_seconds,
    fanout_config,
    floor_rtt,
    http_up,
    machine,
    percentiles,
    rss_mb,
    wait_until,
    with_ratio,
)
from broker.site.config import load_config

COUNTERS = ("1", "2", "3")  # serve service B, which has no daily quota
CHROMIUM = "/usr/bin/chromium"

# installed before any page script (an init script is not subject to the page's CSP): every change inside a
# counter's block, with the moment it happened
OBSERVER = """
window.__changes = [];
document.addEventListener('DOMContentLoaded', () => {
  const note = (el, t) => {
    const box = el && el.nodeType === 1 ? el.closest('[id^="counter-"]') : null;
    if (box) window.__changes.push([box.id, box.textContent, t]);
  };
  new MutationObserver((records) => {
    const t = Date.now();
    for (const r of records) {
      note(r.target.nodeType === 1 ? r.target : r.target.parentElement, t);
      for (const n of r.addedNodes) {
        if (n.nodeType !== 1) continue;
        note(n, t);
        n.querySelectorAll('[id^="counter-"]').forEach((b) => note(b, t));
      }
    }
  }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
});
"""


def shown_at(page, counter: str, number: str, since_ms: float) -> float | None:
    """When the page's block of `counter` first showed `number` after `since_ms` (ms of the wall clock)."""
    for box, text, t in page.evaluate("window.__changes"):
        if box == f"counter-{counter}" and number in text and t >= since_ms:
            return float(t)
    return None


def press_to_dom(client: EngineClient, pages: list, presses: int, timeout: float = 10.0) -> list[float]:
    """Each press: a ticket, then "next" at one of counters 1-3; ms until every page showed its number."""
    times: list[float] = []
    for i in range(presses):
        counter = COUNTERS[i % len(COUNTERS)]
        client.issue("bench", "B")
        for page in pages:
            page.evaluate("window.__changes.length = 0")
        began = time.time() * 1000
        reply = client.counter(counter, "next")
        number = (reply.get("ticket") or {}).get("number")
        if not number:
            continue
        seen: dict[int, float] = {}

        def everywhere(c: str = counter, n: str = number, b: float = began, seen: dict[int, float] = seen) -> bool:
            for k, page in enumerate(pages):
                if k not in seen:
                    t = shown_at(page, c, n, b)
                    if t is not None:
                        seen[k] = t
            return len(seen) == len(pages)

        try:
            wait_until(everywhere, timeout, f"number {number} on every dashboard")
        except TimeoutError:
            pass  # a page that never showed it counts as missing: the count says so
        times.extend(t - began for t in seen.values())
        time.sleep(0.05)
    return times


def page_load(page, url: str, loads: int) -> dict[str, Any]:
    """The dashboard opened `loads` times: navigation timing, and until its stream is connected."""
    dom, load, live, size = [], [], [], 0
    for _ in range(loads):
        began = time.perf_counter()
        response = page.goto(url + "/")
        page.wait_for_selector("#dashboard[data-live='connected']", timeout=15_000)
        live.append((time.perf_counter() - began) * 1000)
        timing = page.evaluate("JSON.stringify(performance.getEntriesByType('navigation')[0])")
        entry = json.loads(timing)
        dom.append(entry["domContentLoadedEventEnd"])
        load.append(entry["loadEventEnd"])
        size = len(response.body()) if response else 0
    return {"dom_content_loaded_ms": percentiles(dom), "load_ms": percentiles(load),
            "until_live_ms": percentiles(live), "html_bytes": size,
            "counters_shown": page.locator("[id^='counter-']").count()}


def run(*, presses: int, dashboards: int, loads: int, say=print) -> dict[str, Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise SystemExit("the dashboard bench needs Playwright: pip install -e '.[test]'") from None
    if not Path(CHROMIUM).exists():
        raise SystemExit(f"the dashboard bench needs Debian's chromium at {CHROMIUM}: apt-get install chromium")
    results: dict[str, Any] = {"machine": machine(), "presses": presses, "dashboards": dashboards}
    with tempfile.TemporaryDirectory(prefix="antrian-bench-kendali-") as tmp, Processes() as procs:
        folder = Path(tmp)
        config_file = fanout_config(folder, 3)  # the sample MPP's 27 counters and three more: 30
        config = load_config(config_file)
        results["counters"] = len(config.counters)
        broker = PrivateMosquitto(config, folder / "broker", ("127.0.0.1", free_port()))
        procs.stack.callback(broker.stop)
        url = broker.start().url
        data = folder / "data"
        data.mkdir(mode=0o700)
        password = secrets.token_urlsafe(16)
        StaffStore(data).add("bench", "admin", password)
        procs.antrian("serve", "--config", str(config_file), "--data", str(data), "--mqtt", url, "--ignore-hours")
        http = f"127.0.0.1:{free_port()}"
        kendali = procs.antrian("kendali", "--config", str(config_file), "--data", str(data), "--mqtt", url,
                                "--http", http, "--rate-limit", "", "--login-limit", "", "--streams",
                                str(dashboards + 8), "--threads", "8")
        web = f"http://{http}"
        client = EngineClient(url, SITE, name="antrian-bench-kendali").start()
        mirror = StateMirror(url, SITE, name="antrian-bench-kendali-wait").start(wait=5)
        if not mirror.wait_complete(30):
            raise ConnectionError("the engine did not publish its state within 30 s")
        mirror.stop()
        try:
            client.issue("bench", "B", timeout=10)  # warm up
            results["floor_rtt_ms"] = floor = floor_rtt(url, 200)
            say(f"raw QoS 1 round trip: {floor}")
            results["press_to_display_state_ms"] = with_ratio(call_to_display(client, url, presses), floor)
            say(f"press -> hall display's state: {results['press_to_display_state_ms']}")
            with sync_playwright() as p:
                browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
                context = browser.new_context(viewport={"width": 1366, "height": 768})
                context.add_init_script(OBSERVER)
                page = context.new_page()
                wait_until(lambda: http_up(web + "/masuk"), 30, "control room")
                page.goto(web + "/masuk")
                page.fill("#username", "bench")
                page.fill("#password", password)
                page.click("form button[type=submit]")
                page.wait_for_selector("#dashboard[data-live='connected']", timeout=15_000)
                results["page_load"] = page_load(page, web, loads)
                say(f"page load, {results['counters']} counters: {results['page_load']}")
                one = press_to_dom(client, [page], presses)
                results["press_to_dom_ms"] = with_ratio(percentiles(one), floor) | {"expected": presses}
                say(f"press -> dashboard DOM, one page: {results['press_to_dom_ms']}")
                # each dashboard in a context of its own (as on its own machine): a browser opens at most six
                # connections to one host, and every open dashboard holds one for its event stream
                signed_in = context.storage_state()
                pages = [page]
                for _ in range(dashboards - 1):
                    other = browser.new_context(viewport={"width": 1366, "height": 768}, storage_state=signed_in)
                    other.add_init_script(OBSERVER)
                    extra = other.new_page()
                    extra.goto(web + "/", wait_until="domcontentloaded")
                    pages.append(extra)
                for extra in pages:
                    extra.wait_for_selector("#dashboard[data-live='connected']", timeout=30_000)
                cpu_before, began = cpu_seconds(kendali.pid), time.perf_counter()
                many = press_to_dom(client, pages, presses, timeout=20.0)
                elapsed = time.perf_counter() - began
                results["press_to_dom_50_ms"] = with_ratio(percentiles(many), floor) | {
                    "expected": presses * len(pages), "pages": len(pages)}
                results["kendali"] = {"rss_mb": rss_mb(kendali.pid),
                                      "cpu_pct": round(100 * (cpu_seconds(kendali.pid) - cpu_before) / elapsed, 1)}
                say(f"press -> DOM with {len(pages)} dashboards: {results['press_to_dom_50_ms']}; "
                    f"control room {results['kendali']}")
                browser.close()
        finally:
            client.stop()
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m broker.sim.bench_kendali", description=__doc__.split("\n")[0])
    parser.add_argument("--presses", type=int, default=100, help="counter presses timed (default 100)")
    parser.add_argument("--dashboards", type=int, default=50, help="dashboards open at once (default 50)")
    parser.add_argument("--loads", type=int, default=20, help="times the dashboard is opened (default 20)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    results = run(presses=args.presses, dashboards=args.dashboards, loads=args.loads,
                  say=(lambda _: None) if args.json else print)
    print(json.dumps(results, indent=None if args.json else 2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
