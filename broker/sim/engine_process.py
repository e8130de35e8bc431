"""The engine process of a simulation: the real EngineService on the simulator's clock.

The simulator tags every request id with its step of simulated time (`s<unix time>-<n>`).
This engine takes the commands of one step per batch and sets its clock to that step,
so the commands of the next step, already on their way, never share a batch or a
timestamp with this one. Everything else (engine, SQLite log, MQTT) is `antrian serve`.
Started by `broker.simulate.SimulatedSite`; prints "ready" once connected.
"""

from __future__ import annotations

import argparse
import os
import queue
import re
import signal
import sys
import threading

from broker.server.engine_service import BATCH_MAX, TICK_S, EngineService
from broker.site.config import load_config

STEP_TAG = re.compile(rb'"request_id":\s*"s(\d+)-')
STATE_REFRESH_S = 900.0  # simulated seconds; the production 30 s would republish everything at every step


class SimClock:
    """The engine's clock during a simulation: the step of the commands it is working on."""

    def __init__(self, now: float):
        self.now = now

    def __call__(self) -> float:
        return self.now


def step_of(payload: bytes) -> int | None:
    found = STEP_TAG.search(payload[:200])
    return int(found.group(1)) if found else None


class SteppedEngineService(EngineService):
    """Takes one step's commands per batch and moves the clock to that step (never back)."""

    def __init__(self, *args, clock: SimClock, **kwargs):
        super().__init__(*args, clock=clock, **kwargs)
        self.sim_clock = clock
        self.state_refresh_s = STATE_REFRESH_S
        self._held: tuple[str, bytes] | None = None

    def _take_batch(self) -> list[tuple[str, bytes]]:
        first, self._held = self._held, None
        if first is None:
            try:
                first = self.inbox.get(timeout=TICK_S)
            except queue.Empty:
                return []
        step = step_of(first[1])
        batch = [first]
        while len(batch) < BATCH_MAX:
            try:
                item = self.inbox.get_nowait()
            except queue.Empty:
                break
            if step_of(item[1]) not in (None, step):
                self._held = item
                break
            batch.append(item)
        if step is not None:
            self.sim_clock.now = max(self.sim_clock.now, float(step))
        return batch


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m broker.sim.engine_process")
    parser.add_argument("--config", default=None)
    parser.add_argument("--data", required=True)
    parser.add_argument("--mqtt", required=True)
    parser.add_argument("--start", type=float, required=True, help="UNIX time the simulation starts at")
    parser.add_argument("--synchronous", default="FULL", choices=("OFF", "NORMAL", "FULL"))
    args = parser.parse_args(argv)
    service = SteppedEngineService(load_config(args.config or None), args.data, args.mqtt,
                                   clock=SimClock(args.start), synchronous=args.synchronous)
    signal.signal(signal.SIGTERM, lambda *_: service.stop())
    ready = threading.Event()
    worker = threading.Thread(target=service.run, args=(ready,), name="sim-engine")
    worker.start()
    parent = os.getppid()
    try:
        if ready.wait(10) and service.mqtt.connected.wait(10) and service.mqtt.subscribed.wait(10):
            print("ready", flush=True)
        else:
            service.stop()
        while worker.is_alive():
            worker.join(0.5)  # wakes for SIGTERM
            if os.getppid() != parent:  # the simulator is gone: an orphan would answer the next run's commands
                service.stop()
    finally:
        service.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
