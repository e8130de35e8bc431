"""`antrian user ...` (the control room's staff accounts) and `antrian kendali` (the control room itself).

Why its own command and listener, not a page of `antrian web`: the phone survey page faces
every visitor's phone on the hall's Wi-Fi, the control room only staff. Apart, the public
listener has no login form to guess at, each gets its own rate limits, cookies and threads
(a flood of survey requests cannot lock staff out), and the control room can listen on an
office-only address (default 127.0.0.1:8090; behind a TLS proxy in production).

Passwords are never arguments (`ps` and the shell history would show them): on a terminal
they are asked twice with getpass; otherwise the first line of standard input is the
password, for scripts (`printf '%s\\n' "$PW" | antrian user add ...`).
"""

from __future__ import annotations

import argparse
import getpass
import os
import pwd
import sys

from broker.mqtt.device import run_until_signal

READY = "antrian-kendali listening on "  # the one line `antrian kendali` writes on stdout, once it serves


def _site_and_data(args: argparse.Namespace):
    from broker.cli.main import _load_config_or_exit, data_folder

    config = _load_config_or_exit(args.config)
    return config, data_folder(args.data, config)


def _actor() -> str:
    try:
        return f"cli:{pwd.getpwuid(os.getuid()).pw_name}"
    except KeyError:
        return f"cli:{os.getuid()}"


def read_password() -> str:
    """The new password: asked twice on a terminal, else the first line of standard input."""
    from broker.access.staff import StaffError

    if sys.stdin.isatty():
        first = getpass.getpass("Kata sandi baru / new password: ")
        if getpass.getpass("Ulangi / repeat: ") != first:
            raise StaffError("Kedua kata sandi tidak sama / the two passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def _store(args: argparse.Namespace):
    from broker.access.staff import StaffStore

    config, data = _site_and_data(args)
    return config, StaffStore(data)


def cmd_user_add(args: argparse.Namespace) -> int:
    from broker.access.staff import StaffError
    from broker.cli.main import EXIT_USAGE, fail

    try:
        config, store = _store(args)
        user = store.add(args.username, args.role, read_password(), agency=args.agency or "",
                         agencies=tuple(config.agencies), actor=_actor())
    except (StaffError, OSError) as exc:
        return fail(str(exc), EXIT_USAGE)
    scope = f" (instansi/agency {user.agency})" if user.agency else ""
    print(f"Pengguna {user.username} dibuat, peran {user.role}{scope} / user {user.username} created, "
          f"role {user.role}{scope}", file=sys.stderr)
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    from broker.access.staff import StaffError
    from broker.cli.main import EXIT_USAGE, fail

    try:
        _, store = _store(args)
        if store.get(args.username) is None:
            return fail(f"Pengguna '{args.username}' tidak ada / no user '{args.username}'", EXIT_USAGE)
        store.set_password(args.username, read_password(), actor=_actor())
    except (StaffError, OSError) as exc:
        return fail(str(exc), EXIT_USAGE)
    print(f"Kata sandi {args.username} diganti; sesi lamanya berakhir / password of {args.username} changed; "
          "its open sessions end", file=sys.stderr)
    return 0


def cmd_user_remove(args: argparse.Namespace) -> int:
    from broker.access.staff import StaffError
    from broker.cli.main import EXIT_USAGE, fail

    try:
        _, store = _store(args)
        store.remove(args.username, actor=_actor())
    except (StaffError, OSError) as exc:
        return fail(str(exc), EXIT_USAGE)
    print(f"Pengguna {args.username} dihapus / user {args.username} removed", file=sys.stderr)
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from broker.access.staff import StaffError
    from broker.cli.main import EXIT_USAGE, fail

    try:
        _, store = _store(args)
        users = store.users()
    except (StaffError, OSError) as exc:
        return fail(str(exc), EXIT_USAGE)
    for u in users:
        print(f"{u.username:<24} {u.role:<12} {u.agency}".rstrip())
    return 0


def cmd_kendali(args: argparse.Namespace) -> int:
    from broker.cli.main import EXIT_USAGE, fail, setup_logging
    from broker.web.kendali.server import KendaliTier
    from broker.web.limits import WebLimits

    setup_logging()
    config, data = _site_and_data(args)
    if args.site and args.site != config.site.id:
        return fail(f"--site {args.site} is not the site of the config ({config.site.id})", EXIT_USAGE)
    limits = WebLimits(threads=args.threads, rate_limit=args.rate_limit, trusted_proxy=args.trusted_proxy)
    try:
        tier = KendaliTier(args.http, config, args.mqtt, data, limits=limits, login_limit=args.login_limit,
                           secure_cookies=args.secure_cookies, streams=args.streams)
    except OSError as exc:
        return fail(f"cannot serve the control room on {args.http}: {exc.strerror or exc}", EXIT_USAGE)
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
    if not tier.store.users():
        print("Belum ada akun staf: buat dengan `antrian user add NAMA --role admin` / no staff account yet: "
              "make one with `antrian user add NAME --role admin`", file=sys.stderr)
    def start() -> None:
        tier.start()
        print(f"Ruang Kendali / control room on {tier.url}/masuk", file=sys.stderr, flush=True)
        print(f"{READY}{tier.url}", flush=True)

    run_until_signal(start, tier.stop)
    return 0


def register(sub) -> None:
    from broker.access.staff import Role
    from broker.cli.main import DEFAULT_DATA

    def site_options(p: argparse.ArgumentParser) -> None:
        p.add_argument("--config", help="site config TOML (default: the shipped sample MPP)")
        p.add_argument("--data", default=os.environ.get("ANTRIAN_DATA", DEFAULT_DATA),
                       help=f"the engine's data folder (default ./{DEFAULT_DATA}/<site>)")

    p = sub.add_parser("user", help="staff accounts of the control room (antrian kendali): admin, koordinator, "
                                    "pimpinan")
    user_sub = p.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    u = user_sub.add_parser("add", help="create an account; the password is asked (or read from stdin)")
    u.add_argument("username", help="2-32 lowercase letters, digits, '.', '_' or '-'")
    u.add_argument("--role", required=True, choices=[r.value for r in Role],
                   help="admin: everything; koordinator: one agency; pimpinan: everything, read-only")
    u.add_argument("--agency", help="the koordinator's agency id (from the site config)")
    site_options(u)
    u.set_defaults(func=cmd_user_add)
    u = user_sub.add_parser("passwd", help="set a new password (asked, or read from stdin)")
    u.add_argument("username")
    site_options(u)
    u.set_defaults(func=cmd_user_passwd)
    u = user_sub.add_parser("remove", help="remove an account: its sessions end at once")
    u.add_argument("username")
    site_options(u)
    u.set_defaults(func=cmd_user_remove)
    u = user_sub.add_parser("list", help="list the accounts (never their passwords)")
    site_options(u)
    u.set_defaults(func=cmd_user_list)

    from broker.mqtt.device import add_mqtt_options
    from broker.web.kendali.app import DEFAULT_RATE_LIMIT, LOGIN_RATE_LIMIT

    p = sub.add_parser("kendali", help="the control room (Ruang Kendali) for staff, in the browser: its own "
                                       "process and listener, apart from the public phone page")
    p.add_argument("--http", default="127.0.0.1:8090", metavar="HOST:PORT",
                   help="where staff browsers reach it (default 127.0.0.1:8090; an office address, not the "
                        "visitors' Wi-Fi)")
    site_options(p)
    add_mqtt_options(p)
    p.add_argument("--threads", type=int, default=8, help="requests handled at once")
    p.add_argument("--streams", type=int, default=64,
                   help="live dashboards open at once, each on a thread of its own besides --threads (default 64)")
    p.add_argument("--rate-limit", default=DEFAULT_RATE_LIMIT,
                   help=f'requests per client address, such as "{DEFAULT_RATE_LIMIT}" ("" for none)')
    p.add_argument("--login-limit", default=LOGIN_RATE_LIMIT,
                   help=f'login attempts per client address (default "{LOGIN_RATE_LIMIT}"; lockouts apply besides)')
    p.add_argument("--trusted-proxy", metavar="ADDRESS",
                   help="a TLS reverse proxy in front: the client is then taken from its X-Forwarded-For")
    p.add_argument("--secure-cookies", action="store_true",
                   help="send the session cookie only over HTTPS (use it behind a TLS proxy)")
    p.set_defaults(func=cmd_kendali)
