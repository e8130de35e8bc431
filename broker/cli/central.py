"""`antrian central ...`: the province's side: its control room, its accounts, and loading a site's log.

- `antrian central web --pg CONNINFO --data DIR --http 127.0.0.1:8095`: the province's control room
  (broker/web/central), reading the central store on PostgreSQL; accounts live in DIR/staff.sqlite3.
- `antrian central user add NAME --role koordinator --scope 62 --data DIR` (and `passwd`, `remove`, `list`):
  its accounts. The scope is a Kemendagri region-code prefix: none for admin and pimpinan (every MPP),
  "62" for a province's account, "62.01" for one MPP's own. Passwords are asked (or read from stdin) as
  for `antrian user`.
- `antrian central load --pg CONNINFO --config SITE.toml --data SITE_DATA`: a site's own event log, read
  from its data folder, into the central store from where its cursor stands (a copy brought on a disk, or
  the catch-up of a site without a link); a log started anew goes after the site's earlier logs, as forwarded
  (its log epoch, broker/forward/epoch.py), and a log a newer one superseded is refused.
- `antrian central ingest --pg CONNINFO --broker HOST:PORT`: the live path, the batches each site's forwarder
  sends through the province's Mosquitto (broker/forward/ingest.py) into the central store. A site is registered
  from the profile its forwarder sends (`antrian forward --config`: name, agencies, opening hours, closures);
  one whose forwarder sends none is registered under its id, and named by `central load --config`.
"""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace

from broker.mqtt.device import run_until_signal

READY = "antrian-central listening on "  # the one line `antrian central web` writes on stdout, once it serves
DEFAULT_CENTRAL_DATA = "antrian-central"


def _staff(args: argparse.Namespace):
    from broker.access.staff import StaffStore

    return StaffStore(args.data)


def _scope(args: argparse.Namespace) -> tuple[str, str]:
    """(role, agency field) for an account: a koordinator's scope is its region-code prefix."""
    from broker.access.staff import Role, StaffError
    from broker.web.central.app import SCOPE

    scope = (args.scope or "").strip()
    if args.role == Role.KOORDINATOR:
        if not SCOPE.match(scope):
            raise StaffError(f"--scope '{scope}' bukan kode wilayah Kemendagri seperti 62 atau 62.01 / "
                             f"--scope '{scope}' is not a Kemendagri region code such as 62 or 62.01")
    elif scope:
        raise StaffError(f"Hanya koordinator yang punya --scope; {args.role} melihat semua MPP / only a koordinator "
                         f"has a --scope; {args.role} sees every MPP")
    return args.role, scope


def cmd_user_add(args: argparse.Namespace) -> int:
    from broker.access.staff import StaffError
    from broker.cli.kendali import _actor, read_password
    from broker.cli.main import EXIT_USAGE, fail

    try:
        role, scope = _scope(args)
        user = _staff(args).add(args.username, role, read_password(), agency=scope, actor=_actor())
    except (StaffError, OSError) as exc:
        return fail(str(exc), EXIT_USAGE)
    where = f" (wilayah/scope {user.agency})" if user.agency else " (semua MPP / every MPP)"
    print(f"Pengguna {user.username} dibuat, peran {user.role}{where} / user {user.username} created, "
          f"role {user.role}{where}", file=sys.stderr)
    return 0


def cmd_user_passwd(args: argparse.Namespace) -> int:
    from broker.access.staff import StaffError
    from broker.cli.kendali import _actor, read_password
    from broker.cli.main import EXIT_USAGE, fail

    try:
        store = _staff(args)
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
    from broker.cli.kendali import _actor
    from broker.cli.main import EXIT_USAGE, fail

    try:
        _staff(args).remove(args.username, actor=_actor())
    except (StaffError, OSError) as exc:
        return fail(str(exc), EXIT_USAGE)
    print(f"Pengguna {args.username} dihapus / user {args.username} removed", file=sys.stderr)
    return 0


def cmd_user_list(args: argparse.Namespace) -> int:
    from broker.access.staff import StaffError
    from broker.cli.main import EXIT_USAGE, fail

    try:
        users = _staff(args).users()
    except (StaffError, OSError) as exc:
        return fail(str(exc), EXIT_USAGE)
    for u in users:
        print(f"{u.username:<24} {u.role:<12} {u.agency or '*'}")
    return 0


def cmd_web(args: argparse.Namespace) -> int:
    from broker.central import CentralError, CentralStore
    from broker.cli.main import EXIT_USAGE, fail, setup_logging
    from broker.web.central.server import CentralTier
    from broker.web.limits import WebLimits

    setup_logging()
    try:
        with CentralStore(args.pg) as store:  # the tables, if the database is there already; else pages wait for it
            store.migrate()
    except CentralError as exc:
        print(f"Basis data pusat belum siap; halaman menunggu / the central database is not ready yet; the pages "
              f"wait for it: {exc}", file=sys.stderr)
    except Exception as exc:  # a conninfo psycopg cannot parse: said, not a traceback
        return fail(f"--pg: {exc}", EXIT_USAGE)
    limits = WebLimits(threads=args.threads, rate_limit=args.rate_limit, trusted_proxy=args.trusted_proxy)
    try:
        tier = CentralTier(args.http, args.pg, args.data, limits=limits, login_limit=args.login_limit,
                           secure_cookies=args.secure_cookies, timezone=args.timezone)
    except OSError as exc:
        return fail(f"cannot serve the province control room on {args.http}: {exc.strerror or exc}", EXIT_USAGE)
    except ValueError as exc:
        return fail(str(exc), EXIT_USAGE)
    if not tier.store.users():
        print("Belum ada akun: buat dengan `antrian central user add NAMA --role admin --data DIR` / no account "
              "yet: make one with `antrian central user add NAME --role admin --data DIR`", file=sys.stderr)
    def start() -> None:
        tier.start()
        print(f"Ruang Kendali Provinsi / province control room on {tier.url}/masuk", file=sys.stderr, flush=True)
        print(f"{READY}{tier.url}", flush=True)

    run_until_signal(start, tier.stop)
    return 0


def cmd_load(args: argparse.Namespace) -> int:
    from broker.central import CentralError, CentralStore
    from broker.cli.main import EXIT_USAGE, _load_config_or_exit, data_folder, fail
    from broker.server.store import EventStore, StoreError

    config = _load_config_or_exit(args.config)
    site_id = args.site_id or config.site.province_id
    if not site_id:
        return fail("the config has no region_code: give --site-id such as 62.01-kobar", EXIT_USAGE)
    folder = data_folder(args.data, config)
    try:
        log = EventStore(folder, config.site.id)
    except StoreError as exc:  # a damaged log: recover a copy first (docs/forwarding.md)
        return fail(f"log situs tidak dapat dibaca: {exc}", EXIT_USAGE, f"the site's log cannot be read: {exc}")
    try:
        with CentralStore(args.pg) as store:
            store.migrate()
            store.register_config(site_id, config)
            last = start = store.last_seq(site_id)
            base = _log_base(store, site_id, log)  # the log's place among the site's logs (its epoch)
            batch = []
            for event in log.iter_events(since_seq=max(0, last - base)):
                batch.append(replace(event, seq=event.seq + base))
                if len(batch) >= args.batch:
                    last = store.ingest(site_id, batch)
                    batch = []
            if batch:
                last = store.ingest(site_id, batch)
    except CentralError as exc:
        return fail(str(exc), EXIT_USAGE)
    finally:
        log.close()
    print(f"{site_id}: seq {start} -> {last}", file=sys.stderr)
    return 0


def _log_base(store, site_id: str, log) -> int:
    """The central seq before the log's seq 1 (broker/forward/epoch.py): recorded now if the province has not seen
    this log; CentralError for a log that a newer log of the site superseded (its events cannot go in after it)."""
    from broker.central import CentralError
    from broker.forward import epoch

    log_id = log.log_id()
    logs = [epoch.SiteLog(i, b) for i, b in store.site_logs(site_id)]
    placed = epoch.place(logs, log_id, log.log_adopted(), 1)
    if isinstance(placed, epoch.Begin):
        return int(store.add_site_log(site_id, log_id, adopt=placed.adopt))
    if isinstance(placed, epoch.Map):
        return placed.base
    newest = epoch.current(logs)
    raise CentralError(f"log {log_id} di {log.path} sudah digantikan log {newest.log_id if newest else '?'} di pusat: "
                       f"peristiwanya tidak dapat dimuat sesudahnya (log {log_id} was superseded centrally by a newer "
                       "log of the site: its events cannot be loaded after it; docs/forwarding.md)")


class RegisteringSink:
    """The central store as the ingest's sink (broker.forward.sink.MappingSink), registering a site it does not know
    yet under its id, so that a new MPP's first batch is stored rather than refused and sent again for ever. Who may
    publish a site's batches is the province broker's access rules' business (one login per site's bridge)."""

    def __init__(self, store):
        from broker.forward.sink import MappingSink

        self.store = store
        self.mapping = MappingSink(store)

    def ingest(self, site_id: str, events) -> int:
        from broker.central import UnknownSite

        try:
            return self.mapping.ingest(site_id, events)
        except UnknownSite:
            self.store.register_site(site_id)  # an id that is no region code is refused here (CentralError)
            print(f"MPP baru terdaftar / new MPP registered: {site_id}", file=sys.stderr, flush=True)
            return self.mapping.ingest(site_id, events)

    def profile(self, site_id: str, profile) -> None:
        """The site's profile (broker/forward/profile.py): registers the site under its name, new or known."""
        from broker.central import UnknownSite

        try:
            new = not self.store.site(site_id)
        except UnknownSite:
            new = True
        self.mapping.profile(site_id, profile)
        if new:
            print(f"MPP baru terdaftar / new MPP registered: {site_id} ({profile.name})", file=sys.stderr, flush=True)

    def site_logs(self, site_id: str):  # log epochs (broker/forward/epoch.py): asked after ingest registered the site
        return self.mapping.site_logs(site_id)

    def add_site_log(self, site_id: str, log_id: str, adopt: bool):
        return self.mapping.add_site_log(site_id, log_id, adopt)


def cmd_ingest(args: argparse.Namespace) -> int:
    import logging

    from broker.central import CentralError, CentralStore
    from broker.cli.main import EXIT_UNREACHABLE, fail, setup_logging
    from broker.forward.ingest import Ingest

    setup_logging(logging.INFO)
    stores = [CentralStore(args.pg) for _ in range(max(1, args.workers))]  # one for each worker thread
    try:
        stores[0].migrate()
    except CentralError as exc:
        return fail(str(exc), EXIT_UNREACHABLE)
    broker = args.broker if "://" in args.broker else f"mqtt://{args.broker}"
    ingest = Ingest([RegisteringSink(store) for store in stores], broker, client_id=args.client_id)
    def start() -> None:
        ingest.start()
        print(f"antrian-central-ingest from {ingest.address}", flush=True)

    run_until_signal(start, ingest.stop)
    for store in stores:
        store.close()
    return 0


def register(sub) -> None:
    from broker.access.staff import Role
    from broker.web.central.app import DEFAULT_RATE_LIMIT, LOGIN_RATE_LIMIT

    def data_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--data", default=os.environ.get("ANTRIAN_CENTRAL_DATA", DEFAULT_CENTRAL_DATA),
                       help=f"the central's own data folder: its accounts (default ./{DEFAULT_CENTRAL_DATA})")

    def pg_option(p: argparse.ArgumentParser) -> None:
        p.add_argument("--pg", default=os.environ.get("ANTRIAN_PG", ""), metavar="CONNINFO",
                       help='the central store\'s PostgreSQL, such as "host=127.0.0.1 dbname=antrian" or a '
                            "postgresql:// URL (default $ANTRIAN_PG)")

    p = sub.add_parser("central", help="the province: its control room over every MPP, its accounts, loading logs")
    central = p.add_subparsers(dest="central_command", required=True, metavar="ACTION")

    w = central.add_parser("web", help="the province's control room in the browser")
    pg_option(w)
    data_option(w)
    w.add_argument("--http", default="127.0.0.1:8095", metavar="HOST:PORT",
                   help="where the province's browsers reach it (default 127.0.0.1:8095; behind a TLS proxy)")
    w.add_argument("--timezone", default="Asia/Jakarta", help="the province's zone: what 'this week' means")
    w.add_argument("--threads", type=int, default=8, help="requests handled at once")
    w.add_argument("--rate-limit", default=DEFAULT_RATE_LIMIT,
                   help=f'requests per client address, such as "{DEFAULT_RATE_LIMIT}" ("" for none)')
    w.add_argument("--login-limit", default=LOGIN_RATE_LIMIT, help="login attempts per client address")
    w.add_argument("--trusted-proxy", metavar="ADDRESS",
                   help="a TLS reverse proxy in front: the client is then taken from its X-Forwarded-For")
    w.add_argument("--secure-cookies", action="store_true", help="send the session cookie only over HTTPS")
    w.set_defaults(func=cmd_web)

    u = central.add_parser("user", help="accounts of the province's control room")
    user_sub = u.add_subparsers(dest="user_command", required=True, metavar="ACTION")
    a = user_sub.add_parser("add", help="create an account; the password is asked (or read from stdin)")
    a.add_argument("username", help="2-32 lowercase letters, digits, '.', '_' or '-'")
    a.add_argument("--role", required=True, choices=[r.value for r in Role],
                   help="admin or pimpinan: every MPP; koordinator: the MPPs of its --scope")
    a.add_argument("--scope", help='a koordinator\'s region code: "62" a province, "62.01" one MPP')
    data_option(a)
    a.set_defaults(func=cmd_user_add)
    for name, helptext, func in (("passwd", "set a new password (asked, or read from stdin)", cmd_user_passwd),
                                 ("remove", "remove an account: its sessions end at once", cmd_user_remove)):
        x = user_sub.add_parser(name, help=helptext)
        x.add_argument("username")
        data_option(x)
        x.set_defaults(func=func)
    x = user_sub.add_parser("list", help="list the accounts and their scopes (* every MPP)")
    data_option(x)
    x.set_defaults(func=cmd_user_list)

    ig = central.add_parser("ingest", help="the sites' forwarded batches from the province's Mosquitto into the "
                                          "central store")
    pg_option(ig)
    ig.add_argument("--broker", default="127.0.0.1:1883", help="the province's Mosquitto, HOST:PORT or a URL "
                                                               "(mqtt://user:password@host:port)")
    ig.add_argument("--client-id", default="antrian-central-ingest",
                    help="its MQTT client id: its persistent session keeps what arrives while it is down")
    ig.add_argument("--workers", type=int, default=2, help="database connections storing sites side by side "
                                                           "(a site is always one's; default 2)")
    ig.set_defaults(func=cmd_ingest)

    ld = central.add_parser("load", help="a site's event log from its data folder into the central store")
    pg_option(ld)
    ld.add_argument("--config", help="the site's config TOML (its region_code names it at the province)")
    ld.add_argument("--data", default="antrian-data", help="the site's data folder")
    ld.add_argument("--site-id", help="the site's id at the province, such as 62.01-kobar (default: "
                                      "region_code-site id from the config)")
    ld.add_argument("--batch", type=int, default=5000, help="events per transaction")
    ld.set_defaults(func=cmd_load)
