"""The `antrian` command line as a new user runs it: one `serve` (with its own Mosquitto) and the client commands."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time

import pytest

from conftest import antrian_cli, free_port, wait_for_port


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """`antrian serve` with its own Mosquitto on a free port; yields the --mqtt URL."""
    from conftest import SMALL_SITE

    tmp = tmp_path_factory.mktemp("serve")
    config = tmp / "site.toml"
    config.write_text(SMALL_SITE, encoding="utf-8")
    port = free_port()
    log = open(tmp / "serve.log", "wb")  # noqa: SIM115 (closed when the server stops)
    proc = subprocess.Popen([sys.executable, "-m", "broker.cli", "serve", "--config", str(config),
                             "--data", str(tmp / "data"), "--listen", f"127.0.0.1:{port}", "--ignore-hours"],
                            stdout=log, stderr=log)
    url = f"mqtt://127.0.0.1:{port}"
    wait_for_port(port, 20)
    for _ in range(100):  # the engine announces itself on the broker shortly after it listens
        if antrian_cli("state", "--mqtt", url).returncode == 0:
            break
        time.sleep(0.1)
    yield url
    proc.terminate()
    proc.wait(10)
    log.close()


def run_json(*args: str) -> dict:
    result = antrian_cli(*args)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_issue_call_state_round_trip(served):
    ticket = run_json("issue", "K", "--mqtt", served)
    assert ticket["number"] == "K001" and ticket["state"] == "waiting"
    assert run_json("issue", "k", "--mqtt", served)["number"] == "K002", "service codes are not case-sensitive"

    state = run_json("state", "--mqtt", served)
    service_k = next(s for s in state["services"] if s["code"] == "K")
    assert service_k["waiting"] == 2

    called = run_json("call", "5", "--mqtt", served)
    assert called["ticket"]["number"] == "K001" and called["counter"]["status"] == "open"

    state = run_json("state", "--mqtt", served)
    counter_5 = next(c for c in state["counters"] if c["id"] == "5")
    assert counter_5["services"] == ["K"] and counter_5["current"]["number"] == "K001"
    assert next(s for s in state["services"] if s["code"] == "K")["waiting"] == 1


def test_the_same_request_id_gives_the_same_ticket(served):
    first = run_json("issue", "B", "--request-id", "cli-retry-7", "--mqtt", served)
    again = run_json("issue", "B", "--request-id", "cli-retry-7", "--mqtt", served)
    assert first["id"] == again["id"] and first["number"] == again["number"]


def test_priority_ticket(served):
    ticket = run_json("issue", "A", "--priority", "ibu_hamil", "--mqtt", served)
    assert ticket["priority"] == "ibu_hamil"
    plain_flag = run_json("issue", "A", "--priority", "--mqtt", served)
    assert plain_flag["priority"] == "lansia"


def test_nobody_waiting_is_said_plainly(served):
    result = antrian_cli("call", "4K-10", "--mqtt", served)
    assert result.returncode == 0
    assert json.loads(result.stdout)["ticket"] is None
    assert "Tidak ada antrian yang menunggu untuk loket 4K-10" in result.stderr


def test_transfer_keeps_the_number(served):
    run_json("issue", "A", "--mqtt", served)
    called = run_json("call", "1", "--mqtt", served)
    number = called["ticket"]["number"]
    moved = run_json("call", "1", "--action", "transfer", "--to", "B", "--mqtt", served)
    assert moved["ticket"]["number"] == number
    waiting_b = next(s for s in run_json("state", "--mqtt", served)["services"] if s["code"] == "B")
    assert waiting_b["waiting"] >= 1


def test_refusals_exit_1_with_a_sentence(served):
    result = antrian_cli("issue", "ZZ", "--mqtt", served)
    assert result.returncode == 1
    assert "Layanan 'ZZ' tidak ada" in result.stderr
    result = antrian_cli("call", "77", "--mqtt", served)
    assert result.returncode == 1 and "Loket '77' tidak ada" in result.stderr


def test_no_broker_exits_3_with_a_hint():
    """A refused connection is said as one (from the connect itself, not after waiting for an answer)."""
    port = free_port()
    for args in ((), ("--site", "testsite")):  # finding the site, or a command straight away
        result = antrian_cli("issue", "A", "--mqtt", f"mqtt://127.0.0.1:{port}", *args)
        assert result.returncode == 3
        assert f"nothing listens at 127.0.0.1:{port} (connection refused)" in result.stderr
        assert "did not answer" not in result.stderr and result.stderr.count("\n") == 1


def test_an_unknown_host_is_said_plainly():
    result = antrian_cli("state", "--mqtt", "mqtt://no-such-host.invalid:1883")
    assert result.returncode == 3 and "unknown host 'no-such-host.invalid'" in result.stderr


def test_mosquitto_sub_sees_the_contract(served):
    """What a technician watching `mosquitto_sub -t 'antrian/#' -v` sees: retained state, then live events."""
    if shutil.which("mosquitto_sub") is None:
        pytest.skip("mosquitto-clients is not installed")
    port = served.rsplit(":", 1)[1]
    watcher = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", "antrian/#", "-v",
                                "-q", "1"], stdout=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)  # let it subscribe and take the retained messages
        run_json("issue", "P", "--mqtt", served)
        time.sleep(1.0)
    finally:
        watcher.terminate()
        out, _ = watcher.communicate(timeout=10)
    topics = {line.split(" ", 1)[0] for line in out.splitlines()}
    assert {"antrian/testsite/state/engine", "antrian/testsite/state/config", "antrian/testsite/state/calls",
            "antrian/testsite/state/service/P", "antrian/testsite/state/counter/4K-10",
            "antrian/testsite/kiosk/cli/request", "antrian/testsite/kiosk/cli/reply",
            "antrian/testsite/events/ticket_issued"} <= topics
    issued = next(line for line in out.splitlines() if line.startswith("antrian/testsite/events/ticket_issued"))
    assert json.loads(issued.split(" ", 1)[1])["number"] == "P001"


def test_serve_says_when_the_port_is_taken(served, small_config_file, tmp_path):
    port = served.rsplit(":", 1)[1]
    result = antrian_cli("serve", "--config", str(small_config_file), "--data", str(tmp_path),
                         "--listen", f"127.0.0.1:{port}")
    assert result.returncode == 2
    assert f"port {port} on 127.0.0.1 is in use" in result.stderr and result.stderr.count("\n") == 1


def test_a_device_booting_before_the_engine_waits_for_it(small_config, embedded_url, tmp_path):
    """Kiosks and screens often power up before the server: they keep looking instead of quitting."""
    import argparse
    import threading

    from broker.mqtt.device import wait_for_site
    from conftest import start_engine

    found: list[str | None] = []
    args = argparse.Namespace(mqtt=embedded_url, site=None)
    assert wait_for_site(args, keep_trying=False) is None, "one-shot commands give up at once"
    looking = threading.Thread(target=lambda: found.append(wait_for_site(args, retry_s=0.2)), daemon=True)
    looking.start()
    time.sleep(1.0)
    assert looking.is_alive() and not found, "still looking while no engine runs"
    _, stop = start_engine(small_config, embedded_url, tmp_path / "data")
    try:
        looking.join(15)
        assert found == ["testsite"]
    finally:
        stop()


def test_version_is_the_package_version():
    from importlib.metadata import version

    result = antrian_cli("--version")
    assert result.returncode == 0 and result.stdout.strip() == f"antrian {version('antrian')}"


@pytest.mark.parametrize(("action", "option"), [("transfer", "--to"), ("call", "--number"),
                                                 ("reactivate", "--number")])
def test_an_action_missing_its_option_is_a_usage_error_one_language_per_line(action, option):
    nobody = f"mqtt://127.0.0.1:{free_port()}"  # said before any broker is asked
    result = antrian_cli("call", "1", "--action", action, "--mqtt", nobody)
    assert result.returncode == 2, result.stderr
    indonesian, english = result.stderr.strip().splitlines()
    assert indonesian.startswith("antrian: sebutkan") and option in indonesian
    assert english.startswith("antrian: say which") and option in english


def test_a_survey_tablet_needs_a_counter_the_site_has(small_config_file, tmp_path):
    data = tmp_path / "data"
    refused = antrian_cli("device", "add", "survey", "99", "--config", str(small_config_file), "--data", str(data))
    assert refused.returncode == 2 and "no counter '99'" in refused.stderr
    assert "password" not in refused.stdout
    added = antrian_cli("device", "add", "survey", "1", "--config", str(small_config_file), "--data", str(data))
    assert added.returncode == 0, added.stderr
    assert "survey-1" in added.stdout
