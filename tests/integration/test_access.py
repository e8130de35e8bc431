"""Devices have identities and may touch only their own topics: the rules, and both brokers enforcing them."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading

import paho.mqtt.client as paho
import pytest

from broker.access.devices import DeviceError, add_device, load_devices
from broker.access.passwords import hash_password, verify_password
from broker.access.policy import AccessPolicy, Action, Device, Role, filter_covers, topic_matches
from broker.mqtt.client import EngineClient, StateMirror
from broker.protocol.codec import Topics
from conftest import antrian_cli, start_engine
from integration.secure_broker import secured_broker, secured_site_text

T = Topics("testsite")


def policy(allow_anonymous: bool = False) -> AccessPolicy:
    devices = tuple(Device(role, did, counter, hash_password("pw-" + did, iterations=1000)) for role, did, counter in (
        (Role.KIOSK, "K1", ""), (Role.COUNTER, "c3", "3"), (Role.DISPLAY, "hall", ""),
        (Role.ENGINE, "main", ""), (Role.ANNOUNCER, "voice", ""), (Role.MONITOR, "tech", "")))
    return AccessPolicy(T, devices, allow_anonymous)


# ---------------------------------------------------------------------- the rules, pure


def test_each_device_may_only_use_its_own_topics():
    p = policy()
    may = p.may
    assert may("kiosk-K1", Action.PUBLISH, T.kiosk_request("K1"))
    assert not may("kiosk-K1", Action.PUBLISH, T.kiosk_request("K2")), "a kiosk issues only as itself"
    assert not may("kiosk-K1", Action.PUBLISH, T.counter_command("3")), "a kiosk only issues tickets"
    assert may("counter-c3", Action.PUBLISH, T.counter_command("3"))
    assert may("counter-c3", Action.PUBLISH, T.counter_button("3"))
    assert not may("counter-c3", Action.PUBLISH, T.counter_command("4")), "counter 3 cannot command counter 4"
    assert not may("counter-c3", Action.SUBSCRIBE, T.counter_reply("4"))
    assert not may("counter-c3", Action.SUBSCRIBE, f"{T.root}/counter/+/reply")
    assert may("counter-c3", Action.PUBLISH, T.presence("counter", "3")), "the panel reports on its counter"
    assert not may("counter-c3", Action.PUBLISH, T.presence("counter", "4"))
    for screen in ("display-hall", "announcer-voice"):
        assert not may(screen, Action.PUBLISH, T.counter_command("3")), "screens only read"
        assert not may(screen, Action.PUBLISH, T.kiosk_request("K1"))
        assert may(screen, Action.SUBSCRIBE, T.state_all)
        assert may(screen, Action.RECEIVE, T.event("ticket_called"))
        assert not may(screen, Action.SUBSCRIBE, f"{T.root}/#")
    for device in ("kiosk-K1", "counter-c3", "display-hall", "monitor-tech"):
        assert not may(device, Action.PUBLISH, T.counter_state("3")), "only the engine writes state"
        assert not may(device, Action.PUBLISH, T.counter_reply("3")), "only the engine answers"
    assert may("engine-main", Action.PUBLISH, T.counter_state("3"))
    assert may("engine-main", Action.SUBSCRIBE, f"{T.root}/counter/+/command")
    assert may("monitor-tech", Action.SUBSCRIBE, f"{T.root}/#")
    assert not may("kiosk-K1", Action.PUBLISH, "antrian/othersite/kiosk/K1/request"), "nor another site"
    assert not may("kiosk-K1", Action.PUBLISH, T.survey_request("K1")), "a kiosk gives no survey answers"


def test_passwords_and_anonymous_clients():
    closed, open_ = policy(), policy(allow_anonymous=True)
    assert closed.authenticate("kiosk-K1", "pw-K1")
    assert not closed.authenticate("kiosk-K1", "pw-K2")
    assert not closed.authenticate("kiosk-K9", "pw-K9"), "an unknown user"
    assert not closed.authenticate(None, None) and not closed.may(None, Action.PUBLISH, T.kiosk_request("K1"))
    assert open_.authenticate(None, None) and open_.may(None, Action.PUBLISH, T.counter_command("3"))
    assert not open_.authenticate("kiosk-K1", "wrong"), "a wrong password is refused even on an open site"


def test_wildcards_follow_mqtt():
    assert topic_matches("a/+/c", "a/b/c") and not topic_matches("a/+/c", "a/b/c/d")
    assert topic_matches("a/#", "a/b/c") and topic_matches("a/#", "a")
    assert filter_covers("a/#", "a/+/c") and filter_covers("a/+/c", "a/+/c")
    assert not filter_covers("a/b/c", "a/+/c") and not filter_covers("a/+/c", "a/#")


def test_the_acl_file_is_built_from_the_protocol_topics():
    acl = policy(allow_anonymous=False).mosquitto_acl()
    assert "user counter-c3\ntopic write antrian/testsite/counter/3/command\n" in acl
    assert f"topic read {T.kiosk_reply('K1')}" in acl
    assert "user display-hall" in acl and "topic readwrite antrian/#" not in acl
    assert "topic readwrite antrian/#" in policy(allow_anonymous=True).mosquitto_acl()
    lines = policy().mosquitto_passwords().splitlines()
    assert len(lines) == 6 and all(line.split(":", 1)[1].startswith("$7$") for line in lines)


@pytest.mark.skipif(shutil.which("mosquitto_passwd") is None, reason="mosquitto_passwd is not installed")
def test_our_hashes_are_mosquittos_format(tmp_path):
    """A line written by the real mosquitto_passwd verifies here, so both brokers read one hash format."""
    subprocess.run(["mosquitto_passwd", "-c", "-b", str(tmp_path / "pw"), "u", "geheim"], check=True)
    made_by_mosquitto = (tmp_path / "pw").read_text().strip().split(":", 1)[1]
    assert verify_password("geheim", made_by_mosquitto)
    assert not verify_password("Geheim", made_by_mosquitto)
    assert not verify_password(None, made_by_mosquitto) and not verify_password("x", "$7$broken")


def test_device_add_refuses_mistakes(small_config, tmp_path):
    with pytest.raises(DeviceError, match="no counter 'c9'"):
        add_device(tmp_path, small_config, "counter", "c9")
    with pytest.raises(DeviceError, match="not a role"):
        add_device(tmp_path, small_config, "printer", "p1")
    with pytest.raises(DeviceError, match="not a device id"):
        add_device(tmp_path, small_config, "kiosk", "K/1")
    add_device(tmp_path, small_config, "kiosk", "K1")
    with pytest.raises(DeviceError, match="exists already"):
        add_device(tmp_path, small_config, "kiosk", "K1")
    _, new = add_device(tmp_path, small_config, "kiosk", "K1", replace=True)  # rotation
    (device,) = load_devices(tmp_path)
    assert verify_password(new, device.password_hash)


def test_device_add_prints_the_password_once_and_stores_only_its_hash(small_config_file, tmp_path):
    data = tmp_path / "data"
    result = antrian_cli("device", "add", "counter", "panel-2", "--counter", "2", "--config", str(small_config_file),
                         "--data", str(data))
    assert result.returncode == 0, result.stderr
    user, password = (line.split()[1] for line in result.stdout.splitlines()[:2])
    assert user == "counter-panel-2"
    stored = (data / "devices.toml").read_text()
    assert password not in stored and 'counter = "2"' in stored
    assert verify_password(password, load_devices(data)[0].password_hash)
    again = antrian_cli("device", "add", "counter", "panel-2", "--config", str(small_config_file), "--data", str(data))
    assert again.returncode == 2 and "exists already" in again.stderr


# ---------------------------------------------------------------------- both brokers enforce the rules


def _pub(port: int, topic: str, message: str, user: str | None = None, password: str | None = None):
    login = ["-u", user, "-P", password] if user else []
    return subprocess.run(["mosquitto_pub", "-h", "127.0.0.1", "-p", str(port), "-q", "1", *login, "-t", topic,
                           "-m", message], capture_output=True, text=True, timeout=15)


def _listen_as(b, user: str, *topics: str) -> tuple[paho.Client, list[str]]:
    """A raw client of `user` subscribed to `topics`; returns it and the list of topics it received."""
    got: list[str] = []
    subscribed = threading.Event()
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"listen-{user}")
    client.username_pw_set(user, b.passwords[user])
    client.on_connect = lambda c, u, f, rc, p=None: c.subscribe([(t, 1) for t in topics])
    client.on_subscribe = lambda c, u, mid, rcs, p=None: subscribed.set()
    client.on_message = lambda c, u, msg: got.append(msg.topic)
    client.connect("127.0.0.1", b.port)
    client.loop_start()
    assert subscribed.wait(10), "no SUBACK"
    return client, got


@pytest.fixture
def secured(tmp_path):
    broker = secured_broker(tmp_path).start()
    service, stop = start_engine(broker.config, broker.engine_url, broker.data)
    yield broker
    stop()
    broker.stop()


@pytest.mark.skipif(shutil.which("mosquitto_pub") is None, reason="mosquitto-clients is not installed")
def test_the_broker_refuses_what_a_device_may_not_do(secured):
    b = secured
    port = b.port
    counter_1 = EngineClient(b.url("counter-c1"), "testsite", name="c1").start()
    counter_2 = EngineClient(b.url("counter-c2"), "testsite", name="c2").start()
    kiosk = EngineClient(b.url("kiosk-K1"), "testsite", name="k1").start()
    mirror = StateMirror(b.url("display-hall"), "testsite", name="hall").start(wait=5)
    try:
        assert mirror.wait_complete(5), "a display reads the retained state with its own credentials"
        assert kiosk.issue("K1", "A")["ticket"]["number"] == "A001"
        assert kiosk.issue("K1", "A")["ticket"]["number"] == "A002"

        anonymous = _pub(port, T.kiosk_request("K1"), '{"request_id":"anon-1","service":"A"}')
        assert anonymous.returncode != 0 and "not authori" in anonymous.stderr.lower() + anonymous.stdout.lower()
        wrong = _pub(port, T.kiosk_request("K1"), '{"request_id":"bad-1","service":"A"}', "kiosk-K1", "guess")
        assert wrong.returncode != 0
        # a display's credentials calling a number, counter 1's credentials commanding counter 2, a kiosk
        # writing a counter's retained state: the broker drops each one
        _pub(port, T.counter_command("1"), '{"request_id":"d-1","action":"next"}', "display-hall",
             b.passwords["display-hall"])
        _pub(port, T.counter_button("2"), "next", "counter-c1", b.passwords["counter-c1"])
        _pub(port, T.counter_state("1"), '{"id":"1","status":"closed","current":null}', "kiosk-K1",
             b.passwords["kiosk-K1"])
        _pub(port, T.kiosk_request("K1"), '{"request_id":"c-1","service":"A"}', "counter-c1",
             b.passwords["counter-c1"])
        # had any of them passed, counter 1 or 2 would be past A001, or a third ticket would exist
        assert counter_2.counter("2", "next")["ticket"]["number"] == "A001"
        assert counter_1.counter("1", "next")["ticket"]["number"] == "A002"
        assert kiosk.issue("K1", "B")["ticket"]["number"] == "B001"
        assert mirror.wait_complete(5) and _eventually(lambda: mirror.services["A"]["issued_today"] == 2)
        assert mirror.counters["1"]["current"]["number"] == "A002"

        # reading: counter 1 cannot hear counter 2's replies, a display cannot hear kiosk replies; the state
        # topic the engine publishes right after the reply marks when the reply would have arrived. The spies
        # log in as counter-c1 and display-hall, whose client ids are their user names: their own clients go first
        counter_1.stop(), mirror.stop()
        spy_c1, heard_c1 = _listen_as(b, "counter-c1", T.counter_reply("2"), T.counter_state("2"))
        spy_d, heard_d = _listen_as(b, "display-hall", f"{T.root}/#", T.counter_state("2"))
        try:
            heard_c1.clear(), heard_d.clear()  # the retained state that came on subscribing
            assert counter_2.counter("2", "finish")["ok"]
            assert _eventually(lambda: T.counter_state("2") in heard_c1 and T.counter_state("2") in heard_d)
            assert T.counter_reply("2") not in heard_c1 + heard_d
        finally:
            for spy in (spy_c1, spy_d):
                spy.disconnect(), spy.loop_stop()
    finally:
        for client in (counter_1, counter_2, kiosk, mirror):
            client.stop()


def _eventually(predicate, timeout: float = 5.0) -> bool:
    import time

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and not predicate():
        time.sleep(0.02)
    return predicate()


def test_the_cli_takes_user_and_password(secured):
    b = secured
    refused = antrian_cli("issue", "A", "--kiosk", "K1", "--mqtt", b.url(), "--site", "testsite", timeout=30)
    assert refused.returncode == 3 and "refused" in refused.stderr and "kiosk" not in refused.stdout
    ok = antrian_cli("issue", "A", "--kiosk", "K1", "--mqtt", b.url(), "--site", "testsite", "--user", "kiosk-K1",
                     env={"ANTRIAN_MQTT_PASSWORD": b.passwords["kiosk-K1"]})
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["number"] == "A001"
    called = antrian_cli("call", "1", "--mqtt", b.url(), "--user", "counter-c1", "--password",
                         b.passwords["counter-c1"])
    assert called.returncode == 0 and json.loads(called.stdout)["ticket"]["number"] == "A001"
    login = {"ANTRIAN_MQTT_PASSWORD": b.passwords["kiosk-K1"]}
    inferred = antrian_cli("issue", "A", "--mqtt", b.url(), "--user", "kiosk-K1", env=login)  # no --kiosk
    assert inferred.returncode == 0, inferred.stderr
    assert json.loads(inferred.stdout)["number"] == "A002", "--user kiosk-K1 acts as kiosk K1"
    other = antrian_cli("issue", "A", "--kiosk", "K2", "--mqtt", b.url(), "--user", "kiosk-K1", env=login)
    assert other.returncode == 1 and "may not use the topic" in other.stderr and "kiosk/K2/request" in other.stderr
    assert "antrian serve" not in other.stderr, "a refusal by the access rules is no missing engine"


def test_no_password_is_ever_printed(secured, tmp_path):
    """`announce --password` and `serve --mqtt user:password@...` say where they connect, never with what."""
    import sys

    b = secured
    password = b.passwords["display-hall"]
    announce = antrian_cli("announce", "--mqtt", b.url(), "--site", "testsite", "--user", "display-hall",
                           "--password", password, "--audio", "none", "--seconds", "1", timeout=60)
    assert f"127.0.0.1:{b.port}" in announce.stderr, announce.stderr
    assert password not in announce.stdout + announce.stderr
    engine_password = b.passwords["monitor-tech"]  # not the engine's own: that login is the running engine's
    serve = subprocess.Popen([sys.executable, "-m", "broker.cli", "serve", "--config", str(tmp_path / "site.toml"),
                              "--data", str(tmp_path / "other-data"), "--mqtt", b.url("monitor-tech"),
                              "--ignore-hours"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        said = ""
        for line in serve.stderr:
            said += line
            if "Ctrl-C" in line:
                break
    finally:
        serve.terminate()
        out, err = serve.communicate(timeout=20)
    assert f"127.0.0.1:{b.port}" in said and engine_password not in said + out + err


def test_serve_with_its_own_mosquitto_refuses_anonymous_clients(tmp_path):
    """`antrian serve` on a closed site: the engine uses its own identity, anonymous clients are refused."""
    import sys
    import time

    from conftest import free_port, wait_for_port

    site = tmp_path / "site.toml"
    site.write_text(secured_site_text(), encoding="utf-8")
    data, port = tmp_path / "data", free_port()
    added = antrian_cli("device", "add", "kiosk", "K1", "--config", str(site), "--data", str(data))
    password = added.stdout.splitlines()[1].split()[1]
    serve = subprocess.Popen([sys.executable, "-m", "broker.cli", "serve", "--config", str(site), "--data",
                              str(data), "--listen", f"127.0.0.1:{port}", "--ignore-hours",
                              "--http", f"127.0.0.1:{free_port()}"],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        wait_for_port(port)
        url = f"mqtt://127.0.0.1:{port}"
        anonymous = antrian_cli("issue", "A", "--mqtt", url, "--site", "testsite")
        assert anonymous.returncode == 3 and "refused" in anonymous.stderr
        deadline = time.monotonic() + 20
        while True:  # the engine may still be loading
            ok = antrian_cli("issue", "A", "--kiosk", "K1", "--mqtt", url, "--user", "kiosk-K1", "--password",
                             password)
            if ok.returncode == 0 or time.monotonic() > deadline:
                break
        assert ok.returncode == 0, ok.stderr
        assert json.loads(ok.stdout)["number"] == "A001"
        assert (data / "engine.secret").exists(), "the engine made itself an identity"
        log = (data / "mosquitto" / "mosquitto.log").read_text()
        assert "u'engine-main'" in log and "u'engine-web'" in log, "the web process has a login of its own"
        assert "taken over" not in log, "two processes of one login threw each other off"
    finally:
        serve.terminate()
        serve.wait(10)


def test_broker_config_writes_a_hardened_mosquitto_config(tmp_path):
    """What `antrian broker-config` gives a hall: limits, no Nagle, persistence in a data folder (not /etc), a
    TLS-only mode, and files the broker may read but not rewrite."""
    import os
    import stat

    site = tmp_path / "site.toml"
    site.write_text(secured_site_text(extra_access='tls_cert = "s.crt"\ntls_key = "s.key"\ntls_port = 18883\n'))
    out, store = tmp_path / "etc-mosquitto", tmp_path / "var-lib-mosquitto"
    args = ("broker-config", "--config", str(site), "--data", str(tmp_path / "data"), "--out", str(out),
            "--persistence", str(store))
    both = antrian_cli(*args, "--listen", "0.0.0.0:1883")
    assert both.returncode == 0, both.stderr
    conf = (out / "mosquitto.conf").read_text()
    for line in ("set_tcp_nodelay true", "max_packet_size ", "message_size_limit 262144", "allow_anonymous false",
                 "use_username_as_clientid true",
                 f"persistence_location {store.resolve()}/", "listener 1883 0.0.0.0", "listener 18883 0.0.0.0"):
        assert line in conf, line
    assert str(out.resolve()) not in conf.split("persistence_location")[1].splitlines()[0]
    for path in (out, out / "acl", out / "passwords", out / "mosquitto.conf"):
        mode = path.stat().st_mode
        assert not mode & (stat.S_IWGRP | stat.S_IWOTH | stat.S_IROTH), f"{path} is {oct(mode)}"
        if os.geteuid() == 0:
            assert path.stat().st_uid == 0, f"{path} must stay root's, never the broker's"
    tls_only = antrian_cli(*args, "--listen", "none")
    assert tls_only.returncode == 0, tls_only.stderr
    conf = (out / "mosquitto.conf").read_text()
    assert "listener 1883" not in conf and "listener 18883 0.0.0.0" in conf
    (tmp_path / "plain.toml").write_text(secured_site_text())
    refused = antrian_cli("broker-config", "--config", str(tmp_path / "plain.toml"), "--data", str(tmp_path / "d2"),
                          "--out", str(out), "--persistence", str(store), "--listen", "none")
    assert refused.returncode == 2 and "no TLS listener" in refused.stderr


def test_a_kiosk_login_cannot_throw_the_engine_off_with_its_client_id(secured):
    """The attack of issue 13 against real Mosquitto: a valid kiosk login reusing the engine's client id.

    The client id is no secret to count on (Mosquitto logs it with every connection): the broker must
    bind it to the login, so the engine stays connected and its "offline" Will never reaches a screen.
    """
    from broker.mqtt.connection import Connection
    from integration.test_mqtt_contract import wait_until

    b = secured
    statuses: list[str] = []
    watcher = Connection(b.url("monitor-tech"), "watch", subscriptions=[T.engine],
                         on_message=lambda topic, payload, retained: statuses.append(json.loads(payload)["status"]))
    watcher.start(wait=5)
    kiosk = EngineClient(b.url("kiosk-K1"), "testsite", name="k1").start()
    try:
        assert wait_until(lambda: "online" in statuses, 10)
        engine_id = next(line.split(" as ")[1].split(" ")[0] for line in b.log.read_text().splitlines()
                         if "New client connected" in line and f"u'{b.engine_user}'" in line)
        connected = threading.Event()
        attacker = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=engine_id)
        attacker.username_pw_set("kiosk-K1", b.passwords["kiosk-K1"])
        attacker.on_connect = lambda c, u, f, rc, p=None: connected.set()
        attacker.connect("127.0.0.1", b.port)
        attacker.loop_start()
        try:
            assert connected.wait(5)
            # while the attacker stays connected, the engine answers (ping-pong of take-overs would not)
            assert kiosk.issue("K1", "A", timeout=10)["ticket"]["number"] == "A001"
        finally:
            attacker.disconnect()
            attacker.loop_stop()
        assert kiosk.issue("K1", "A", timeout=10)["ticket"]["number"] == "A002"
        assert "offline" not in statuses, "the engine was thrown off: its offline Will reached the screens"
    finally:
        kiosk.stop()
        watcher.stop()


def test_a_device_keeps_one_connection_for_its_login(secured):
    """A device's parts (presence with its last will, state mirror, requests) share one connection of its login,
    so binding client ids to users never makes them throw each other off."""
    from broker.mqtt.connection import Connection
    from broker.mqtt.presence import Presence
    from integration.test_mqtt_contract import wait_until

    b = secured
    seen: list[dict] = []
    watcher = Connection(b.url("monitor-tech"), "watch", subscriptions=[T.presence("kiosk", "K1")],
                         on_message=lambda topic, payload, retained: seen.append(json.loads(payload)))
    watcher.start(wait=30)
    url = b.url("kiosk-K1")
    presence = Presence(url, "testsite", "kiosk", "K1").start(wait=30)
    mirror = StateMirror(url, "testsite", name="kiosk-mirror").start(wait=30)
    client = EngineClient(url, "testsite", name="kiosk").start()
    try:
        presence.publish({"printer": "ok"})
        assert mirror.wait_complete(5) and client.issue("K1", "A")["ticket"]["number"] == "A001"
        assert wait_until(lambda: mirror.services["A"]["last_issued"] == "A001")
        assert wait_until(lambda: seen and seen[-1].get("online") is True)
        logins = [line for line in b.log.read_text().splitlines() if "New client connected" in line
                  and "u'kiosk-K1'" in line]
        assert len(logins) == 1, logins
        assert "taken over" not in b.log.read_text()
        client.stop()  # one part leaving keeps the others connected
        assert mirror.connection.connected.is_set() and presence.connection.connected.is_set()
        assert client.connection.connected.is_set() is False
        presence.stop()
        assert wait_until(lambda: seen[-1].get("online") is False), "the presence said goodbye"
    finally:
        for part in (client, mirror, presence):
            part.stop()
        watcher.stop()
