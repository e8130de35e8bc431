"""A site with device identities and a Mosquitto that enforces them, started as `antrian serve` starts its
own (broker/server/mosquitto.py, the config `antrian broker-config` writes). Shared by the access, TLS and
fault tests."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from broker.access.devices import add_device, engine_credentials
from broker.mqtt.connection import with_credentials
from broker.server.mosquitto import PrivateMosquitto
from broker.site.config import SiteConfig, parse_config
from conftest import SMALL_SITE, _need_mosquitto, free_port

# (role, id, counter) of the devices every secured test site has
DEVICES = (("kiosk", "K1", ""), ("counter", "c1", "1"), ("counter", "c2", "2"), ("display", "hall", ""),
           ("monitor", "tech", ""))


def secured_site_text(*, allow_anonymous: bool = False, extra_access: str = "") -> str:
    """The small test site with its [access] section replaced."""
    head, _, rest = SMALL_SITE.partition("\n[access]\n")
    tail = rest.partition("\n[")[2] if rest else ""
    access = f"\n[access]\nallow_anonymous = {str(allow_anonymous).lower()}\n{extra_access}\n"
    return head + access + (f"[{tail}" if tail else "")


@dataclass
class SecuredBroker:
    """A Mosquitto enforcing the site's devices, not supervised: restartable on its port by the test."""

    config: SiteConfig
    data: Path
    workdir: Path
    port: int = field(default_factory=free_port)
    passwords: dict[str, str] = field(default_factory=dict)  # username -> plain password
    mosquitto: PrivateMosquitto | None = None

    def __post_init__(self) -> None:
        for role, device_id, counter in DEVICES:
            device, password = add_device(self.data, self.config, role, device_id, counter)
            self.passwords[device.username] = password
        user, password = engine_credentials(self.data, self.config)
        self.passwords[user] = password
        self.engine_user = user

    def url(self, user: str | None = None, password: str | None = None, scheme: str = "mqtt",
            port: int | None = None) -> str:
        base = f"{scheme}://127.0.0.1:{port or self.port}"
        return with_credentials(base, user, password if password is not None else self.passwords.get(user or ""))

    @property
    def engine_url(self) -> str:
        return self.url(self.engine_user)

    def start(self) -> SecuredBroker:
        _need_mosquitto()
        if self.mosquitto is None:  # not supervised: the fault tests make the outages and end them
            self.mosquitto = PrivateMosquitto(self.config, self.data, ("127.0.0.1", self.port),
                                              folder=self.workdir / "mosquitto", supervise=False,
                                              tls_host="127.0.0.1")
        self.mosquitto.start()
        return self

    @property
    def log(self):
        return self.mosquitto.log_file if self.mosquitto else None

    def kill(self) -> None:
        """SIGKILL (a power cut of the broker)."""
        if self.mosquitto:
            self.mosquitto.kill()

    def stop(self) -> None:
        if self.mosquitto:
            self.mosquitto.stop()


def secured_broker(tmp_path: Path, site_text: str | None = None) -> SecuredBroker:
    config_file = tmp_path / "site.toml"
    config_file.write_text(site_text or secured_site_text(), encoding="utf-8")
    config = parse_config(config_file.read_text(encoding="utf-8"), str(config_file))
    return SecuredBroker(config, tmp_path / "data", tmp_path)
