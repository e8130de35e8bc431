"""`antrian bench`: how fast and how small Antrian is on this machine, in one run.

Everything runs as in production, each in its own process: the broker (the one
given with --mqtt, else the private Mosquitto `antrian serve` would start), `antrian serve` with its durable SQLite
log (synchronous=FULL), a hall display and a kiosk (without a screen: SDL's dummy
driver). The bench process itself plays kiosks, counters and a display's state
mirror. Latencies are medians and 99th percentiles, also as multiples of the raw
QoS 1 round trip through the same broker: the floor no Antrian message can beat.
These are benchmarks, not tests: nothing here asserts a time.
"""

from __future__ import annotations

import os
import platform
import re
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from contextlib import ExitStack
from datetime import date
from pathlib import Path
from typing import Any

from broker.core.stats import percentile
from broker.mqtt.client import EngineClient, StateMirror
from broker.mqtt.connection import BrokerAddress, Connection
from broker.server.mosquitto import PrivateMosquitto, free_port
from broker.site.config import SAMPLE_CONFIG, load_config

SITE = "rembang"
SERVICES = ("B", "C", "IZ", "S", "J", "JK")  # no daily quota: a bench may issue thousands
COUNTERS = ("1", "2", "3", "4", "5", "6", "8", "12", "13", "18", "19")  # serve the services above
TARGETS = {"call_to_display_p99_ms": 10.0, "call_to_display_p99_ratio": 20.0, "issue_p99_ms": 10.0,
           "commands_per_s": 1000.0, "display_idle_cpu_pct": 2.0, "screen_rss_mb": 120.0}


def wait_until(condition: Callable[..., Any], timeout: float, what: str) -> Any:
    """The first true value of `condition`, asked every 5 ms; TimeoutError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.005)
    raise TimeoutError(f"no {what} within {timeout} s")


def http_up(url: str) -> bool:
    """Whether a web tier answers `url` with 200 (a benchmark's started server is ready)."""
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def percentiles(samples: list[float]) -> dict[str, float]:
    return {"p50": round(statistics.median(samples), 3), "p99": round(percentile(samples, 0.99), 3),
            "n": len(samples)}


def with_ratio(latency: dict[str, float], floor: dict[str, float]) -> dict[str, float]:
    return latency | {"ratio_p50": round(latency["p50"] / floor["p50"], 1),
                      "ratio_p99": round(latency["p99"] / floor["p99"], 1)}


def machine() -> dict[str, Any]:
    model = ""
    try:
        model = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                      if line.startswith("model name")), "")
    except OSError:
        pass
    return {"cpu": model or platform.processor(), "cores": os.cpu_count(), "python": platform.python_version(),
            "system": f"{platform.system()} {platform.release()}", "date": date.today().isoformat()}


# ---------------------------------------------------------------------- processes


def rss_mb(pid: int) -> float:
    """Resident memory of a process from /proc (Linux)."""
    found = re.search(r"VmRSS:\s+(\d+)", Path(f"/proc/{pid}/status").read_text())
    return round(int(found.group(1)) / 1024, 1) if found else 0.0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Processes:
    """The processes of one bench run; all stopped on exit."""

    def __init__(self) -> None:
        self.running: list[subprocess.Popen] = []
        self.stack = ExitStack()  # what else to stop after the processes (the private broker)
        self.env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "SDL_AUDIODRIVER": "dummy"}

    def antrian(self, *args: str) -> subprocess.Popen:
        process = subprocess.Popen([sys.executable, "-m", "broker.cli", *args], env=self.env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.running.append(process)
        return process

    def __enter__(self) -> Processes:
        return self

    def __exit__(self, *exc: Any) -> None:
        for process in reversed(self.running):
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
        self.stack.close()


def bench_config(folder: Path) -> Path:
    """The sample MPP with the double-press guard and the kiosk rate limit off: the bench presses faster
    than any officer and takes tickets faster than any visitor."""
    text = SAMPLE_CONFIG.read_text(encoding="utf-8")
    text = re.sub(r"(?m)^counter_debounce_s\s*=.*$", "counter_debounce_s = 0.0", text)
    text = re.sub(r"(?m)^kiosk_tickets_per_minute\s*=.*$", "kiosk_tickets_per_minute = 0", text)  # nor a kiosk
    path = folder / "bench-mpp.toml"
    path.write_text(text, encoding="utf-8")
    return path


# ---------------------------------------------------------------------- measurements


def floor_rtt(url: str, samples: int) -> dict[str, float]:
    """(a) Publish QoS 1 to a topic we subscribe to, and wait for it to come back."""
    arrived = threading.Event()
    conn = Connection(url, "antrian-bench-floor", subscriptions=["antrian/bench/rtt"],
                      on_message=lambda *_: arrived.set()).start(wait=5)
    times = []
    try:
        for _ in range(samples):
            arrived.clear()
            began = time.perf_counter()
            conn.publish("antrian/bench/rtt", b"x")
            if arrived.wait(5):
                times.append((time.perf_counter() - began) * 1000)
    finally:
        conn.stop()
    return percentiles(times)


def issue_latency(client: EngineClient, samples: int) -> dict[str, float]:
    """(b) A kiosk's request until its acknowledged (stored) ticket is back."""
    times = []
    for i in range(samples):
        began = time.perf_counter()
        reply = client.issue("bench", SERVICES[i % len(SERVICES)])
        if reply.get("ok"):
            times.append((time.perf_counter() - began) * 1000)
    return percentiles(times)


def call_to_display(client: EngineClient, url: str, samples: int) -> dict[str, float]:
    """(c) A counter's "next" until a display's mirror holds the counter's new current ticket."""
    changed = threading.Condition()
    mirror = StateMirror(url, SITE, name="antrian-bench-display",
                         on_change=lambda kind, key: _notify(changed)).start(wait=5)
    mirror.wait_complete(5)
    times = []
    try:
        for i in range(samples):
            counter = COUNTERS[i % 3]  # counters 1-3 all serve B
            client.issue("bench", "B")
            with mirror.lock:
                before = (mirror.counters.get(counter) or {}).get("current")
            began = time.perf_counter()
            reply = client.counter(counter, "next")
            number = (reply.get("ticket") or {}).get("number")

            def arrived(c: str = counter, n: str | None = number, b: dict | None = before) -> bool:
                return _current_number(mirror, c) == n and n != (b or {}).get("number")

            with changed:
                shown = changed.wait_for(arrived, timeout=5)
            if shown and number:
                times.append((time.perf_counter() - began) * 1000)
    finally:
        mirror.stop()
    return percentiles(times)


def _notify(condition: threading.Condition) -> None:
    with condition:
        condition.notify_all()


def _current_number(mirror: StateMirror, counter: str) -> str | None:
    with mirror.lock:
        return ((mirror.counters.get(counter) or {}).get("current") or {}).get("number")


def sustained(url: str, seconds: float, kiosks: int = 10, counters: int = 20, processes: int = 2) -> dict[str, Any]:
    """(d) Kiosks issuing and counters calling at once, each as fast as the engine answers.

    The 30 devices run in `processes` processes of threads: in one, their 60 threads would queue for
    one interpreter lock and the bench, not the engine, would set the pace.
    """
    import multiprocessing

    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    devices = [(i, i < kiosks) for i in range(kiosks + counters)]
    groups = [context.Process(target=_device_group, args=(url, devices[n::processes], seconds, results))
              for n in range(processes)]
    for group in groups:
        group.start()
    counted = [results.get(timeout=seconds + 60) for _ in groups]
    for group in groups:
        group.join(10)
    commands = sum(n for n, _ in counted)
    elapsed = max(t for _, t in counted)
    return {"commands": commands, "seconds": round(elapsed, 2), "commands_per_s": round(commands / elapsed, 1),
            "devices": kiosks + counters, "processes": processes}


def _device_group(url: str, devices: list[tuple[int, bool]], seconds: float, results) -> None:
    """One process of the sustained load: its devices connect, warm up for a second, then count."""
    measuring, stop = threading.Event(), threading.Event()
    counts: list[int] = []
    lock = threading.Lock()

    def device(i: int, is_kiosk: bool) -> None:
        client = EngineClient(url, SITE, name=f"antrian-bench-{'k' if is_kiosk else 'c'}{i}").start()
        count = 0
        try:
            while not stop.is_set():
                if is_kiosk:
                    client.issue(f"k{i}", SERVICES[(count + i) % len(SERVICES)], timeout=10)
                else:
                    client.counter(COUNTERS[i % len(COUNTERS)], "next", timeout=10)
                count += measuring.is_set()
        finally:
            with lock:
                counts.append(count)
            client.stop()

    threads = [threading.Thread(target=device, args=d, daemon=True) for d in devices]
    for t in threads:
        t.start()
    time.sleep(1.0)
    measuring.set()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    elapsed = time.perf_counter() - began
    for t in threads:
        t.join(15)
    results.put((sum(counts), elapsed))


def display_cpu(process: subprocess.Popen, client: EngineClient, seconds: float) -> dict[str, float]:
    """(f) CPU of the hall display process, idle and while two calls a second arrive."""
    before, began = cpu_seconds(process.pid), time.perf_counter()
    time.sleep(seconds)
    idle = (cpu_seconds(process.pid) - before) / (time.perf_counter() - began) * 100
    before, began = cpu_seconds(process.pid), time.perf_counter()
    i = 0
    while time.perf_counter() - began < seconds:
        client.issue("bench", "B")
        client.counter(COUNTERS[i % 3], "next")
        i += 1
        time.sleep(0.5)
    busy = (cpu_seconds(process.pid) - before) / (time.perf_counter() - began) * 100
    return {"idle": round(idle, 2), "busy": round(busy, 2)}


# ---------------------------------------------------------------------- one run


def run_bench(mqtt_url: str | None = None, *, quick: bool = False,
              progress: Callable[[str], Any] | None = print) -> dict[str, Any]:
    say = progress or (lambda text: None)
    samples, load_s, cpu_s = (100, 2.0, 2.5) if quick else (2000, 20.0, 15.0)
    results: dict[str, Any] = {"machine": machine(), "quick": quick}
    with tempfile.TemporaryDirectory(prefix="antrian-bench-") as tmp, Processes() as procs:
        folder = Path(tmp)
        config_file = bench_config(folder)
        url = mqtt_url
        if url is None:  # the Mosquitto `antrian serve` starts, with the sample MPP's generated config
            broker = PrivateMosquitto(load_config(config_file), folder / "broker", ("127.0.0.1", free_port()))
            procs.stack.callback(broker.stop)
            url = broker.start().url
        results["broker"] = f"external: {BrokerAddress.parse(url)}" if mqtt_url else "private mosquitto"
        say(f"broker: {results['broker']}")
        results["floor_rtt_ms"] = floor = floor_rtt(url, samples)
        say(f"(a) raw QoS 1 round trip: {floor}")

        engine = procs.antrian("serve", "--config", str(config_file), "--data", str(folder / "data"),
                               "--mqtt", url, "--ignore-hours")
        client = EngineClient(url, SITE, name="antrian-bench").start()
        mirror = StateMirror(url, SITE, name="antrian-bench-wait").start(wait=5)
        if not mirror.wait_complete(20):
            raise ConnectionError("the engine did not publish its state within 20 s")
        mirror.stop()
        try:
            client.issue("bench", "B", timeout=10)  # warm up: reply topics subscribed, caches filled
            results["issue_ms"] = with_ratio(issue_latency(client, samples), floor)
            say(f"(b) kiosk request -> ticket: {results['issue_ms']}")
            results["call_to_display_ms"] = with_ratio(call_to_display(client, url, samples // 2), floor)
            say(f"(c) counter press -> display state: {results['call_to_display_ms']}")
            load = sustained(url, load_s)
            results["commands_per_s"] = load["commands_per_s"]
            results["sustained"] = load
            say(f"(d) 10 kiosks + 20 counters: {load}")

            display = procs.antrian("display", "--mqtt", url, "--site", SITE, "--size", "1920x1080")
            kiosk = procs.antrian("kiosk", "--mqtt", url, "--site", SITE)
            time.sleep(3.0 if quick else 6.0)  # started, fonts loaded, first frames drawn
            results["display_cpu_pct"] = display_cpu(display, client, cpu_s)
            say(f"(f) display CPU % of a core: {results['display_cpu_pct']}")
            results["rss_mb"] = {"engine": rss_mb(engine.pid), "display": rss_mb(display.pid),
                                 "kiosk": rss_mb(kiosk.pid) if kiosk.poll() is None else None}
            say(f"(e) resident memory MB: {results['rss_mb']}")
        finally:
            client.stop()
    results["targets"] = check_targets(results)
    return results


def check_targets(r: dict[str, Any]) -> dict[str, bool]:
    screens = [v for k, v in r["rss_mb"].items() if k in ("display", "kiosk") and v is not None]
    return {
        "call_to_display_p99_under_10ms": r["call_to_display_ms"]["p99"] < TARGETS["call_to_display_p99_ms"],
        "call_to_display_p99_under_20x_floor": r["call_to_display_ms"]["ratio_p99"]
        < TARGETS["call_to_display_p99_ratio"],
        "issue_p99_under_10ms": r["issue_ms"]["p99"] < TARGETS["issue_p99_ms"],
        "commands_per_s_at_least_1000": r["commands_per_s"] >= TARGETS["commands_per_s"],
        "display_idle_cpu_under_2pct": r["display_cpu_pct"]["idle"] < TARGETS["display_idle_cpu_pct"],
        "screens_under_120mb": all(v < TARGETS["screen_rss_mb"] for v in screens),
    }


# ---------------------------------------------------------------------- fan-out: many screens, many counters

FANOUT_SERVICE = "B"


def fanout_config(folder: Path, counters: int) -> Path:
    """The bench's sample MPP with `counters` more counters F1.. that all call service B."""
    extra = "".join(f'\n[[counters]]\nid = "F{i}"\nagency = "dindukcapil"\nservices = ["{FANOUT_SERVICE}"]\n'
                    for i in range(1, counters + 1))
    path = folder / f"fanout-{counters}.toml"
    path.write_text(bench_config(folder).read_text(encoding="utf-8") + extra, encoding="utf-8")
    return path


def screen_subscriptions(screens: int, counters: int, narrow: bool, brief: bool = False) -> list[list[str]]:
    """What each of `screens` screens subscribes to. Wide: every retained state (`state/#`, what every
    screen took until now). Narrow: what each draws. One in five is a hall or zone TV (all the state and
    the call events); three in four are the devices at the counters, a third of them officers' panels
    (their counter and the queue of its service) and the rest the screens above the counters and the
    survey tablets (their counter only); the rest are kiosks (the services' queues). `brief`: the halls take
    `state/counters` (every counter in one message per window) instead of each `state/counter/<id>`, and the
    notice, as display.screens.live.LiveHall does."""
    from broker.protocol.codec import Topics

    t = Topics(SITE)
    calls = [t.event("ticket_called"), t.event("ticket_recalled")]
    halls = screens // 5
    devices = screens * 3 // 4
    plan = []
    for i in range(screens):
        counter = t.counter_state(f"F{1 + i % counters}")
        if not narrow:
            plan.append([t.state_all, *calls] if i < halls else [t.state_all])
        elif i < halls and brief:
            plan.append([t.config, t.engine, t.counters, t.service_state("+"), t.calls, t.notice, *calls])
        elif i < halls:
            plan.append([t.config, t.engine, t.calls, t.service_state("+"), t.counter_state("+"), *calls])
        elif i < halls + devices:
            panel = (i - halls) % 3 == 0
            plan.append([t.config, t.engine, counter, *([t.service_state(FANOUT_SERVICE)] if panel else [])])
        else:
            plan.append([t.config, t.engine, t.service_state("+")])
    return plan


def _fanout_engine(config_path: str, data: str, url: str, coalesce_s: float, ready, stop) -> None:
    """The engine of one fan-out run: `antrian serve`'s EngineService, with the state coalescing window given."""
    from broker.server.engine_service import EngineService
    from broker.site.config import load_config

    service = EngineService(load_config(config_path), data, url, ignore_hours=True)
    service.state_coalesce_s = coalesce_s
    def stop_when_asked() -> None:
        stop.wait()
        service.stop()

    threading.Thread(target=stop_when_asked, daemon=True).start()
    service.run(ready)


def _screen_group(url: str, plans: list[list[str]], qos0: bool, go, stop, results) -> None:
    """Screens of one process: each connects with its subscriptions and decodes what arrives (as a mirror
    does); at the end, the messages each took while the counters pressed. `qos0`: the state topics at QoS 0
    (as StateMirror takes them), the call events at QoS 1."""
    import json

    counts = [0] * len(plans)
    lock = threading.Lock()

    def taker(n: int):
        def on_message(topic: str, payload: bytes, retained: bool) -> None:
            try:
                json.loads(payload)
            except ValueError:
                pass
            with lock:
                counts[n] += 1
        return on_message

    conns = [Connection(url, f"antrian-bench-screen-{os.getpid()}-{n}", subscriptions=plan, on_message=taker(n),
                        qos0=tuple(x for x in plan if "/state/" in x) if qos0 else ())
             for n, plan in enumerate(plans)]
    for conn in conns:
        conn.start(wait=10)
    results.put(("ready", 0))
    go.wait(600)
    with lock:
        before = list(counts)  # the retained state each got on subscribing is no part of the load
    stop.wait(600)
    for conn in conns:
        conn.stop()
    results.put(("counts", [after - b for after, b in zip(counts, before, strict=True)]))


def _counter_group(url: str, counters: list[int], presses: int, interval: float, go, results) -> None:
    """Counters of one process: each presses "next" `presses` times, one every `interval` seconds (or as
    soon as its last answer came when that was later: an officer does not press twice at once)."""
    times: list[float] = []
    lock = threading.Lock()
    clients = [EngineClient(url, SITE, name=f"antrian-bench-press-{c}").start() for c in counters]
    for client, c in zip(clients, counters, strict=True):
        client.counter(f"F{c}", "next", timeout=10)  # subscribed and warm (one of the spare tickets)
    results.put(("ready", 0))
    go.wait(600)

    def press(client: EngineClient, c: int) -> None:
        mine = []
        due = time.perf_counter() + interval * c / (len(counters) * 2 + 1)  # the counters do not press in step
        for _ in range(presses):
            time.sleep(max(0.0, due - time.perf_counter()))
            began = time.perf_counter()
            due = began + interval
            reply = client.counter(f"F{c}", "next", timeout=30)
            if reply.get("ok"):
                mine.append((time.perf_counter() - began) * 1000)
        with lock:
            times.extend(mine)

    threads = [threading.Thread(target=press, args=(client, c)) for client, c in zip(clients, counters, strict=True)]
    began = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    elapsed = time.perf_counter() - began
    for client in clients:
        client.stop()
    results.put(("times", (times, elapsed)))


def fanout(url: str, folder: Path, *, screens: int = 200, counters: int = 50, presses: int = 20,
           interval: float = 1.0, narrow: bool, coalesce_s: float, brief: bool = False, qos0: bool = False,
           screen_processes: int = 4, counter_processes: int = 2) -> dict[str, Any]:
    """(g) Press to answer while `screens` screens are subscribed and `counters` counters press "next", each
    every `interval` seconds (0: as fast as the answers come).

    A fresh engine and log per run. The screens and counters run in processes of their own (spawned), so the
    bench's interpreter lock sets no pace. Bounded: `presses` per counter, then everything stops."""
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    tag = f"{'narrow' if narrow else 'wide'}-{coalesce_s:g}-{'brief' if brief else 'each'}-{'q0' if qos0 else 'q1'}"
    config = fanout_config(folder, counters)
    ready, stop, go = ctx.Event(), ctx.Event(), ctx.Event()
    engine = ctx.Process(target=_fanout_engine, args=(str(config), str(folder / f"data-{tag}"), url, coalesce_s,
                                                      ready, stop))
    engine.start()
    screen_results, counter_results = ctx.Queue(), ctx.Queue()
    groups: list[Any] = []
    try:
        if not ready.wait(30):
            raise ConnectionError("the fan-out engine did not start")
        feeder = EngineClient(url, SITE, name="antrian-bench-feeder").start()
        t = feeder.topics
        need = counters * presses + counters
        for start in range(0, need, 500):  # the queue every press calls from, issued in batches
            feeder.request_many([(t.kiosk_request("bench"), t.kiosk_reply("bench"), {"service": FANOUT_SERVICE})
                                 for _ in range(min(500, need - start))], timeout=60)
        feeder.stop()
        plans = screen_subscriptions(screens, counters, narrow, brief)
        groups = [ctx.Process(target=_screen_group, args=(url, plans[n::screen_processes], qos0, go, stop,
                                                          screen_results))
                  for n in range(screen_processes)]
        ids = list(range(1, counters + 1))
        groups += [ctx.Process(target=_counter_group, args=(url, ids[n::counter_processes], presses, interval, go,
                                                            counter_results)) for n in range(counter_processes)]
        for group in groups:
            group.start()
        for _ in range(screen_processes):
            screen_results.get(timeout=120)
        for _ in range(counter_processes):
            counter_results.get(timeout=120)
        go.set()
        times: list[float] = []
        elapsed = 0.0
        for _ in range(counter_processes):
            _, (group_times, group_elapsed) = counter_results.get(timeout=600)
            times += group_times
            elapsed = max(elapsed, group_elapsed)
        stop.set()
        taken = [c for _ in range(screen_processes) for c in screen_results.get(timeout=60)[1]]
    finally:
        stop.set()
        go.set()
        for process in [*groups, engine]:
            process.join(20)
            if process.is_alive():
                process.terminate()
    return {"subscriptions": ("narrow" if narrow else "state/#") + (", halls on state/counters" if brief else ""),
            "state_qos": 0 if qos0 else 1, "coalesce_ms": round(coalesce_s * 1000),
            "offered_presses_per_s": round(counters / interval, 1) if interval else None,
            "press_ms": percentiles(times), "presses_per_s": round(len(times) / elapsed, 1) if elapsed else 0.0,
            "screen_msgs_per_s": {"mean": round(statistics.mean(taken or [0]) / elapsed, 1) if elapsed else 0.0,
                                  "max": round(max(taken or [0]) / elapsed, 1) if elapsed else 0.0}}


# (narrow, coalesce, brief, qos0) of each load, in order; the first two are the loads until now
WIDE_LOADS = ((False, 0.0, False, False), (False, None, False, False))
LOADS = ((True, None, False, False), (True, None, False, True), (True, None, True, False), (True, None, True, True))


def run_fanout(url: str, *, screens: int = 200, counters: int = 50, presses: int = 20, interval: float = 1.0,
               wide: bool = False, progress: Callable[[str], Any] | None = print) -> dict[str, Any]:
    """Before and after in one run: every screen on what it draws with the state coalesced under load (as
    until now), then the state taken at QoS 0, the halls on `state/counters`, and both. With `wide`, first
    the older loads too: every screen on `state/#`, uncoalesced and coalesced."""
    from broker.server.engine_service import STATE_COALESCE_S

    say = progress or (lambda text: None)
    runs = []
    with tempfile.TemporaryDirectory(prefix="antrian-fanout-") as tmp:
        for narrow, coalesce, brief, qos0 in (*(WIDE_LOADS if wide else ()), *LOADS):
            result = fanout(url, Path(tmp), screens=screens, counters=counters, presses=presses, interval=interval,
                            narrow=narrow, coalesce_s=STATE_COALESCE_S if coalesce is None else coalesce,
                            brief=brief, qos0=qos0)
            say(f"(g) {screens} screens ({result['subscriptions']}, QoS {result['state_qos']}, coalesced "
                f"{result['coalesce_ms']} ms), {counters} counters: {result}")
            runs.append(result)
    return {"machine": machine(), "broker": url.split("@")[-1], "screens": screens, "counters": counters,
            "presses_per_counter": presses, "interval_s": interval, "runs": runs}


if __name__ == "__main__":
    import argparse
    import json

    parser = argparse.ArgumentParser(prog="python -m broker.sim.bench",
                                     description="the fan-out load: many screens subscribed, many counters pressing")
    parser.add_argument("--mqtt", required=True, help="a Mosquitto to run it through, e.g. mqtt://127.0.0.1:1883")
    parser.add_argument("--screens", type=int, default=200)
    parser.add_argument("--counters", type=int, default=50)
    parser.add_argument("--presses", type=int, default=20, help="presses per counter")
    parser.add_argument("--interval", type=float, default=1.0,
                        help="seconds between one counter's presses (0: each as soon as the last is answered)")
    parser.add_argument("--wide", action="store_true", help="first also every screen on state/# (slow)")
    parser.add_argument("--json", action="store_true")
    options = parser.parse_args()
    found = run_fanout(options.mqtt, screens=options.screens, counters=options.counters, presses=options.presses,
                       interval=options.interval, wide=options.wide, progress=None if options.json else print)
    print(json.dumps(found, indent=None if options.json else 2))
