"""MQTT over TLS with the site's certificate on Mosquitto (a throwaway CA made at test time)."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from broker.mqtt.client import EngineClient
from conftest import free_port, start_engine
from integration.secure_broker import secured_broker, secured_site_text

pytestmark = pytest.mark.skipif(shutil.which("openssl") is None, reason="openssl is not installed")


def make_ca_and_server_cert(folder) -> None:
    """ca.crt, and server.crt/server.key for 127.0.0.1 signed by it; never committed, gone with tmp_path."""
    def run(*args: str) -> None:
        subprocess.run(["openssl", *args], check=True, capture_output=True, cwd=folder)

    run("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Antrian test CA",
        "-keyout", "ca.key", "-out", "ca.crt")
    run("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=127.0.0.1", "-keyout", "server.key",
        "-out", "server.csr")
    (folder / "san.ext").write_text("subjectAltName=IP:127.0.0.1\n")
    run("x509", "-req", "-in", "server.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
        "-extfile", "san.ext", "-out", "server.crt")


def test_a_tls_listener_with_the_configured_certificate(tmp_path, monkeypatch):
    make_ca_and_server_cert(tmp_path)
    tls_port = free_port()
    site = secured_site_text(extra_access=f'tls_cert = "server.crt"\ntls_key = "server.key"\ntls_port = {tls_port}\n')
    broker = secured_broker(tmp_path, site).start()  # certificate paths relative to site.toml
    service, stop = start_engine(broker.config, broker.engine_url, broker.data)
    try:
        monkeypatch.setenv("ANTRIAN_MQTT_CA", str(tmp_path / "ca.crt"))
        url = broker.url("kiosk-K1", scheme="mqtts", port=tls_port)
        kiosk = EngineClient(url, "testsite", name="tls-kiosk").start(wait=10)
        try:
            assert kiosk.issue("K1", "A")["ticket"]["number"] == "A001"
        finally:
            kiosk.stop()
        with pytest.raises(ConnectionError):  # the wrong password is refused over TLS too
            EngineClient(broker.url("kiosk-K1", "wrong", scheme="mqtts", port=tls_port), "testsite").start()
        monkeypatch.setenv("ANTRIAN_MQTT_CA", str(tmp_path / "server.crt"))  # not the CA: not trusted
        with pytest.raises(ConnectionError, match=r"TLS connection to 127\.0\.0\.1"):
            EngineClient(url, "testsite", name="tls-untrusted").start()
    finally:
        stop()
        broker.stop()


def test_tls_only_keeps_no_plain_listener_but_the_engines_loopback(tmp_path, monkeypatch):
    """`--listen none`: devices reach the broker over TLS only; the engine beside it uses a loopback port."""
    from broker.server.mosquitto import PrivateMosquitto

    make_ca_and_server_cert(tmp_path)
    tls_port = free_port()
    site = secured_site_text(extra_access=f'tls_cert = "server.crt"\ntls_key = "server.key"\ntls_port = {tls_port}\n')
    b = secured_broker(tmp_path, site)
    broker = PrivateMosquitto(b.config, b.data, None, folder=tmp_path / "tls-only", tls_host="127.0.0.1").start()
    try:
        listeners = [line for line in broker.files.conf.read_text().splitlines() if line.startswith("listener ")]
        assert listeners == [f"listener {tls_port} 127.0.0.1", f"listener {broker.port} 127.0.0.1"]
        assert broker.url == f"mqtt://127.0.0.1:{broker.port}" and broker.port != tls_port
        service, stop = start_engine(b.config, b.url(b.engine_user, port=broker.port), b.data)
        try:
            monkeypatch.setenv("ANTRIAN_MQTT_CA", str(tmp_path / "ca.crt"))
            kiosk = EngineClient(b.url("kiosk-K1", scheme="mqtts", port=tls_port), "testsite", name="k").start()
            try:
                assert kiosk.issue("K1", "A")["ticket"]["number"] == "A001"
            finally:
                kiosk.stop()
        finally:
            stop()
    finally:
        broker.stop()
