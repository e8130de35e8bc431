"""`antrian broker-config --province ...` writes the bridge to the province (issue 19), and it carries batches.

The site's mosquitto.conf comes from the real command; a real Mosquitto runs it and bridges, with the site's own
login read from a 0600 file, to a second real Mosquitto that refuses anonymous clients and lets each site publish
only its own batches (broker.forward.bridge.province_acl). The engine logs, the forwarder sends, the province's
ingest stores: every event crosses. Bad inputs are refused with a message in Bahasa Indonesia and English.
"""

from __future__ import annotations

import os
import pwd
import stat
import subprocess
from pathlib import Path

import pytest

from broker.access.passwords import hash_password
from broker.forward.bridge import province_acl
from broker.server.mosquitto import mosquitto_binary, wait_for_port
from broker.site.config import parse_config
from conftest import SMALL_SITE, _need_mosquitto, antrian_cli, free_port, start_engine
from integration.test_forward import antrian, central_last, rows, site_head, stop
from integration.test_log_epoch import issue
from integration.test_mqtt_contract import wait_until

pytestmark = pytest.mark.mosquitto

SITE_ID = "91.02-jembatan"  # the site's id at the province, and its bridge's login there (the ACL's %u)
SECRET = "jembatan-Rahasia-2026"
INGEST_SECRET = "ingest-Rahasia-2026"


def mosquitto(conf: Path, log: Path) -> subprocess.Popen:
    """A Mosquitto on `conf`, staying the user the tests run as (as root it would drop to `mosquitto`, which
    cannot enter the test's folders): a wrapper conf of one `user` line that includes the folder of `conf`."""
    wrapper = conf.parent.parent / f"run-{conf.parent.name}"
    wrapper.mkdir()
    (wrapper / "run.conf").write_text(f"user {pwd.getpwuid(os.geteuid()).pw_name}\ninclude_dir {conf.parent}\n")
    return subprocess.Popen([str(mosquitto_binary()), "-c", str(wrapper / "run.conf")], stdout=log.open("w"),
                            stderr=subprocess.STDOUT)


def province_broker(folder: Path, port: int) -> Path:
    """A province broker closed to anonymous clients: the site's login and the ingest's, the province's rules."""
    folder.mkdir()
    (folder / "passwords").write_text(f"{SITE_ID}:{hash_password(SECRET)}\n"
                                      f"antrian-central-ingest:{hash_password(INGEST_SECRET)}\n")
    (folder / "acl").write_text(province_acl())
    (folder / "persist").mkdir()
    conf = folder / "mosquitto.conf"
    conf.write_text(f"per_listener_settings false\nallow_anonymous false\npassword_file {folder / 'passwords'}\n"
                    f"acl_file {folder / 'acl'}\nlistener {port} 127.0.0.1\npersistence true\n"
                    f"persistence_location {folder / 'persist'}/\nlog_dest stderr\nlog_type all\n")
    return conf


def test_broker_config_writes_a_bridge_that_carries_the_sites_batches_to_the_province(tmp_path):
    _need_mosquitto()
    province_port, site_port = free_port(), free_port()
    site_toml = tmp_path / "site.toml"
    site_toml.write_text(SMALL_SITE)
    config = parse_config(SMALL_SITE, str(site_toml))
    secret = tmp_path / "province.secret"
    secret.write_text(SECRET + "\n")
    secret.chmod(0o600)
    out, data, central = tmp_path / "etc-mosquitto", tmp_path / "data", tmp_path / "central.sqlite3"
    made = antrian_cli("broker-config", "--config", str(site_toml), "--data", str(data), "--out", str(out),
                       "--persistence", str(tmp_path / "var-lib-mosquitto"), "--listen", f"127.0.0.1:{site_port}",
                       "--province", f"127.0.0.1:{province_port}", "--province-site", SITE_ID,
                       "--province-user", SITE_ID, "--province-password-file", str(secret))
    assert made.returncode == 0, made.stderr
    assert SECRET not in made.stdout + made.stderr, "the password is said nowhere but in mosquitto.conf"
    assert f"Bridge to the province's broker 127.0.0.1:{province_port}" in made.stderr
    conf = (out / "mosquitto.conf").read_text()
    for line in (f"address 127.0.0.1:{province_port}", f"remote_username {SITE_ID}", f"remote_password {SECRET}",
                 f"topic antrian/central/{SITE_ID}/events out 1", f"topic antrian/central/{SITE_ID}/ack in 1",
                 "cleansession false"):
        assert line in conf, line
    assert sum(line.startswith("topic ") for line in conf.splitlines()) == 2, "only the site's two topics cross"
    mode = (out / "mosquitto.conf").stat().st_mode
    assert not mode & (stat.S_IROTH | stat.S_IWOTH | stat.S_IWGRP), f"mosquitto.conf is {oct(mode)}"

    processes = [mosquitto(province_broker(tmp_path / "province", province_port), tmp_path / "province.log"),
                 mosquitto(out / "mosquitto.conf", tmp_path / "site.log")]
    stop_engine = None
    try:
        assert wait_for_port("127.0.0.1", province_port, 10) and wait_for_port("127.0.0.1", site_port, 10)
        processes.append(antrian("forward-ingest", "--broker",
                                 f"mqtt://antrian-central-ingest:{INGEST_SECRET}@127.0.0.1:{province_port}",
                                 "--sqlite", str(central)))
        url = f"mqtt://127.0.0.1:{site_port}"
        _, stop_engine = start_engine(config, url, data)
        issue(url, config, 6)
        processes.append(antrian("forward", "--data", str(data), "--broker", f"127.0.0.1:{site_port}",
                                 "--site-id", SITE_ID, "--ack-timeout", "2"))
        assert wait_until(lambda: central_last(central, SITE_ID) == site_head(data) > 6, 60), \
            f"the province holds {central_last(central, SITE_ID)} of {site_head(data)} events"
    finally:
        if stop_engine:
            stop_engine()
        for process in reversed(processes):
            stop(process)
    province_log = (tmp_path / "province.log").read_text(errors="replace")
    assert f"u'{SITE_ID}'" in province_log, "the bridge logged in with the site's own login"
    logged = rows(data / "antrian.sqlite3", "SELECT seq, ts, type, data FROM events ORDER BY seq")
    assert rows(central, "SELECT seq, ts, type, data FROM events WHERE site = ? ORDER BY seq", SITE_ID) == logged


SITE = ("--province-site", SITE_ID)


@pytest.mark.parametrize(("extra", "indonesian", "english"), [
    (("--province", "mqtt.prov.go.id", *SITE), "tulis HOST:PORT broker provinsi",
     "write the province broker's HOST:PORT"),
    (("--province", "10.20.0.5:8883", *SITE), "beri --province-cafile (TLS)", "give --province-cafile (TLS)"),
    (("--province", "127.0.0.1:8883", "--province-user", "x", *SITE), "harus diberikan bersama", "go together"),
    (("--province", "127.0.0.1:8883", "--province-site", "33.17 rembang"), "tidak dapat menjadi bagian topik",
     "cannot be a level of an MQTT topic"),
    (("--province", "127.0.0.1:8883", "--province-cafile", "/nonexistent/ca.crt", *SITE), "berkas CA",
     "the CA file"),
    (("--province-user", "x"), "tulis HOST:PORT", "write the province broker's HOST:PORT"),
    (("--province", "127.0.0.1:8883"), "tidak punya region_code", "has no region_code"),
])
def test_broker_config_refuses_a_bridge_it_cannot_write(tmp_path, extra, indonesian, english):
    site_toml = tmp_path / "site.toml"
    site_toml.write_text(SMALL_SITE)
    out = tmp_path / "out"
    made = antrian_cli("broker-config", "--config", str(site_toml), "--data", str(tmp_path / "data"), "--out",
                       str(out), "--persistence", str(tmp_path / "persist"), *extra)
    assert made.returncode == 2, made.stderr
    first, second = made.stderr.strip().splitlines()[-2:]
    assert indonesian in first and english in second, made.stderr
    assert not (out / "mosquitto.conf").exists(), "nothing is written when an input is wrong"


def test_a_password_file_others_can_read_is_refused(tmp_path):
    site_toml = tmp_path / "site.toml"
    site_toml.write_text(SMALL_SITE)
    secret = tmp_path / "province.secret"
    secret.write_text(SECRET)
    secret.chmod(0o644)
    made = antrian_cli("broker-config", "--config", str(site_toml), "--data", str(tmp_path / "data"), "--out",
                       str(tmp_path / "out"), "--persistence", str(tmp_path / "persist"), "--province",
                       "127.0.0.1:8883", "--province-site", SITE_ID, "--province-user", SITE_ID,
                       "--province-password-file", str(secret))
    assert made.returncode == 2 and "chmod 600" in made.stderr, made.stderr
    assert SECRET not in made.stderr
