"""Network profiles for the protocol forecast: one-way latency, bandwidth and jitter per link.

All figures are *assumptions* for teaching, chosen to be typical of each setting; replace them with
your own measurements (custom values) when you know your organisation's connection.
"""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass

from sandbox.i18n import N_

__all__ = ["NETWORKS", "NetworkProfile", "get_network"]


@dataclass(frozen=True)
class NetworkProfile:
    """How the parties are connected.

    Attributes:
        name: short key, e.g. ``"lan"`` or ``"custom"``.
        latency_ms: one-way delay between two parties, in milliseconds.
        bandwidth_mbps: upload bandwidth of each party, in Mbit/s.
        jitter_ms: each message's delay varies uniformly within ``latency ± jitter`` (never below 0).
        description: plain-language description for the UI.
        shared_uplink: True (default) when a party's messages to all its peers share one uplink
            (an organisation's internet connection); False when every pair of parties has its own
            link of this bandwidth (what `relay.start_relays` emulates, one relay per connection).
        host_cores: None (default) when every party runs on its own machine; a number of cores when
            all parties share one machine (this sandbox): m parties computing at once on fewer cores
            each get less than a core, so start-up and compute stretch by max(1, (m + k)/host_cores), where
            k is the calibration's measured ``host_extra_load`` (see `protocol.host_share`).
    """

    name: str
    latency_ms: float
    bandwidth_mbps: float
    jitter_ms: float = 0.0
    description: str = ""
    shared_uplink: bool = True
    host_cores: int | None = None

    def __post_init__(self) -> None:
        if self.host_cores is not None and not self.host_cores >= 1:
            raise ValueError(N_("host_cores must be >= 1 (or None: one machine per party), got {value}").format(
                value=self.host_cores))
        if not self.latency_ms >= 0:
            raise ValueError(N_("latency_ms must be >= 0, got {value}").format(value=self.latency_ms))
        if not self.bandwidth_mbps > 0:
            raise ValueError(N_("bandwidth_mbps must be > 0, got {value}").format(value=self.bandwidth_mbps))
        if not self.jitter_ms >= 0:
            raise ValueError(N_("jitter_ms must be >= 0, got {value}").format(value=self.jitter_ms))

    @classmethod
    def custom(
        cls, latency_ms: float, bandwidth_mbps: float, jitter_ms: float = 0.0, host_cores: int | None = None
    ) -> NetworkProfile:
        """A user-defined profile (`host_cores`: all parties on one machine with that many cores)."""
        return cls(
            name="custom",
            latency_ms=float(latency_ms),
            bandwidth_mbps=float(bandwidth_mbps),
            jitter_ms=float(jitter_ms),
            description=(
                f"custom: {latency_ms:g} ms one way, {bandwidth_mbps:g} Mbit/s, ±{jitter_ms:g} ms jitter"
                + (f", all parties on one {host_cores}-core machine" if host_cores else "")
            ),
            host_cores=host_cores,
        )

    def to_dict(self) -> dict:
        return asdict(self)


NETWORKS: dict[str, NetworkProfile] = {
    p.name: p
    for p in (
        NetworkProfile("loopback", 0.05, 10_000, 0.0, "all parties on one machine (the sandbox itself)",
                       host_cores=os.cpu_count() or 1),
        NetworkProfile("lan", 0.5, 1_000, 0.1, "one office network"),
        NetworkProfile(
            "nl-organisations", 10.0, 100, 2.0, "organisations across the Netherlands (VPN/internet)"
        ),
        NetworkProfile("cross-cloud", 25.0, 1_000, 3.0, "servers in different cloud data centres"),
        NetworkProfile("laptop-4g", 50.0, 20, 15.0, "a laptop on a 4G mobile connection"),
    )
}


def get_network(name: str) -> NetworkProfile:
    """The named profile; ValueError listing the known names otherwise."""
    try:
        return NETWORKS[name]
    except KeyError:
        raise ValueError(N_("unknown network profile {name!r}; known: {known}").format(
            name=name, known=", ".join(NETWORKS))) from None
