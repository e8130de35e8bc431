"""`antrian simulate` and `antrian bench`: synthetic traffic through the real engine, and its speed."""

from __future__ import annotations

import argparse
import json
import logging
import sys
from datetime import date

from broker.cli.main import EXIT_REFUSED, EXIT_USAGE, fail, setup_logging
from broker.sim.traffic import TrafficError, load_traffic
from broker.site.config import ConfigError, load_config

REMBANG_START = date(2022, 11, 22)  # MPP Rembang's first day: `--days 364` replays its first 52 weeks


def cmd_simulate(args: argparse.Namespace) -> int:
    from broker.sim.simulate import simulate

    setup_logging(logging.WARNING)
    try:
        config = load_config(args.config)
        model = load_traffic(config, args.traffic, args.visitors_per_day)
    except (ConfigError, TrafficError, OSError, ValueError) as exc:
        print(exc.both() if isinstance(exc, ConfigError) else exc, file=sys.stderr)
        return 2

    def progress(day: date, tally) -> None:
        if not args.quiet and (tally.days % 7 == 0 or tally.days == args.days):
            print(f"{day}: {tally.days} days, {tally.arrivals} visitors, {tally.commands} commands, "
                  f"{tally.steps} steps", file=sys.stderr, flush=True)

    try:
        summary = simulate(config, model, args.data, start=args.start, days=args.days, seed=args.seed,
                           speed=args.speed, mqtt_url=args.mqtt,
                           synchronous="FULL" if args.durable else "NORMAL", on_day=progress)
    except (FileExistsError, ConnectionError) as exc:
        return fail(str(exc), EXIT_USAGE)
    print(json.dumps(summary, ensure_ascii=False, indent=2))
    problems = summary["log_mismatches"] + summary["report_mismatches"]
    if problems:
        return fail("the engine's log or reports differ from the simulated input:\n  " + "\n  ".join(problems),
                    EXIT_REFUSED)
    return 0


def cmd_bench(args: argparse.Namespace) -> int:
    from broker.sim.bench import run_bench

    logging.basicConfig(level=logging.WARNING)
    results = run_bench(mqtt_url=args.mqtt, quick=args.quick, progress=None if args.json else print)
    if args.json:
        print(json.dumps(results, ensure_ascii=False))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    p = subparsers.add_parser("simulate", help="drive the engine with simulated visitors and officers "
                              "(a year of an MPP in minutes)")
    p.add_argument("--config", help="site config TOML (default: the shipped sample MPP Rembang)")
    p.add_argument("--traffic", help="traffic model TOML (default: assets/sample-traffic.toml)")
    p.add_argument("--data", required=True, help="a new or empty folder for the engine's SQLite log")
    p.add_argument("--days", type=int, default=7, help="calendar days to simulate (364 = 52 weeks)")
    p.add_argument("--start", type=date.fromisoformat, default=REMBANG_START,
                   help=f"first simulated day, YYYY-MM-DD (default {REMBANG_START})")
    p.add_argument("--visitors-per-day", type=float, help="mean visitors on a weekday (default from the traffic file)")
    p.add_argument("--speed", type=float, default=0,
                   help="simulated seconds per real second, e.g. 60 for a demo; 0 = as fast as the engine goes")
    p.add_argument("--seed", type=int, default=1, help="the same seed gives the same simulation")
    p.add_argument("--mqtt", help="use this running broker (screens may watch) instead of a private one")
    p.add_argument("--durable", action="store_true",
                   help="fsync every batch as `antrian serve` does (synchronous=FULL); by default the "
                        "synthetic log is written with synchronous=NORMAL")
    p.add_argument("--quiet", action="store_true", help="no weekly progress lines")
    p.set_defaults(func=cmd_simulate)

    p = subparsers.add_parser("bench", help="measure latency, throughput, memory and CPU on this machine")
    p.add_argument("--mqtt", help="measure through this running broker instead of a private Mosquitto")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quick", action="store_true", help="fewer samples: done within a minute")
    p.set_defaults(func=cmd_bench)
