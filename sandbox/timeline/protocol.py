"""Protocol forecast: a SimPy model of one MPC run over a network.

Model (one run, m parties, R rounds, all parties symmetric):

1. Start-up: every party starts its process and connects to its peers
   (``startup_seconds`` from the cost profile, plus ``handshake_round_trips`` network round trips).
2. Each round, every party computes for ``compute_seconds / R`` and then sends
   ``bytes_sent / R / (m-1)`` bytes to every peer. Messages leave through the party's uplink one after
   the other (transmission time = bytes * 8 / bandwidth) and then travel ``latency ± jitter``.
3. A party starts its next round only when it has the messages of all its peers for this round
   (MPyC waits for the shares it needs), so the slowest message of a round sets the pace.

Parties on one machine: when the network profile says all parties share a host with C cores
(``host_cores``, e.g. the loopback profile), start-up and compute stretch by max(1, (m + k) / C): the m
parties compute at the same moments (the protocol is symmetric), so each gets C/(m + k) of a core,
where k (``host_extra_load`` in the calibration, measured) is the CPU that everything else on the host
takes while they run, in cores; in the calibration runs that is mostly the delaying relays.

Attribution: every party and every message carries a vector (compute, latency, bandwidth, startup)
of the time spent along its causal chain. Waiting for the uplink counts as bandwidth. When a party
waits for messages, it inherits the vector of the message that arrived last. The party that finishes
last gives the breakdown, which therefore sums exactly to the simulated duration.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
import simpy

from .calibration import CostProfile, _evaluate, load_calibration, profile
from .network import NetworkProfile

__all__ = ["Forecast", "command_forecast", "command_network", "forecast", "host_share", "scaling", "simulate_run",
           "DEFAULT_SCALING_RECORDS"]

COMPONENTS = ("compute", "latency", "bandwidth", "startup")
DEFAULT_SCALING_RECORDS = (10, 30, 100, 300, 1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000)

Vec = tuple[float, float, float, float]  # (compute, latency, bandwidth, startup) seconds


def _add(
    v: Vec, compute: float = 0.0, latency: float = 0.0, bandwidth: float = 0.0, startup: float = 0.0
) -> Vec:
    return (v[0] + compute, v[1] + latency, v[2] + bandwidth, v[3] + startup)


@dataclass
class Forecast:
    """The predicted duration of one MPC run and where the time goes (seconds)."""

    computation: str
    records: int
    parties: int
    network: dict[str, Any]
    predicted_seconds: float
    breakdown: dict[str, float]
    rounds: int
    bytes_per_party: float
    compute_seconds_per_party: float = 0.0
    messages: int = 0
    notes: list[str] = field(default_factory=list)
    # When all parties share this host (loopback, or a network emulated with the relay): the wall time of
    # the user's command, `mpc-sandbox run` (see `command_forecast`): what the user waits for. None for parties
    # on machines of their own. (predicted_seconds stays the protocol run, so that the breakdown sums to it.)
    command_seconds: float | None = None
    command_overhead_seconds: float | None = None  # of which: start-up, reading the files, the check
    predicts: str = "the protocol run of every party (start-up of one party with a core of its own included)"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Mailbox:
    """A party's inbox: per round, an event that fires when messages from all peers are in."""

    def __init__(self, env: simpy.Environment, expected: int) -> None:
        self.env = env
        self.expected = expected
        self._got: dict[int, list[tuple[float, Vec]]] = {}
        self._done: dict[int, simpy.Event] = {}

    def round_complete(self, r: int) -> simpy.Event:
        if r not in self._done:
            self._done[r] = self.env.event()
            if len(self._got.get(r, ())) >= self.expected:
                self._done[r].succeed(self._got.pop(r))
        return self._done[r]

    def deliver(self, r: int, vec: Vec) -> None:
        msgs = self._got.setdefault(r, [])
        msgs.append((self.env.now, vec))
        if len(msgs) >= self.expected and r in self._done and not self._done[r].triggered:
            self._done[r].succeed(self._got.pop(r))


class _Run:
    """State of one simulated run (the environment, the network and the per-party mailboxes)."""

    def __init__(
        self,
        env: simpy.Environment,
        cost: CostProfile,
        network: NetworkProfile,
        rng: np.random.Generator,
        handshake_round_trips: float,
        host_extra_load: float = 0.0,
    ) -> None:
        self.env = env
        self.host_extra_load = host_extra_load
        self.cost = cost
        self.net = network
        m, r = cost.parties, cost.rounds
        self.latency = network.latency_ms / 1000.0
        self.jitter = network.jitter_ms / 1000.0
        self.bits_per_second = network.bandwidth_mbps * 1e6
        # one uniform draw per (round, sender, receiver), drawn up front so that runs with more
        # rounds share their first draws with shorter runs (common random numbers)
        self.u = rng.uniform(-1.0, 1.0, size=(r, m, m)) if self.jitter > 0 else None
        self.mailboxes = [_Mailbox(env, m - 1) for _ in range(m)]
        self.uplink_free = [[0.0] * m for _ in range(m)]  # [sender][receiver or 0 if shared]
        self.handshake = handshake_round_trips * 2 * self.latency
        self.finish: list[tuple[float, Vec]] = []
        self.messages = 0

    def delay(self, r: int, src: int, dst: int) -> float:
        if self.u is None:
            return self.latency
        return max(0.0, self.latency + float(self.u[r, src, dst]) * self.jitter)

    def party(self, p: int):
        """SimPy process of party p."""
        env, cost = self.env, self.cost
        m, rounds = cost.parties, cost.rounds
        vec: Vec = (0.0, 0.0, 0.0, 0.0)
        share = host_share(m, self.net.host_cores, self.host_extra_load)
        startup = cost.startup_seconds * share
        yield env.timeout(startup)
        vec = _add(vec, startup=startup)
        if m > 1 and self.handshake > 0:
            yield env.timeout(self.handshake)
            vec = _add(vec, latency=self.handshake)
        compute = cost.compute_seconds * share / rounds
        bits = cost.bytes_sent * 8.0 / rounds / max(m - 1, 1)
        tx = bits / self.bits_per_second
        for r in range(rounds):
            yield env.timeout(compute)
            vec = _add(vec, compute=compute)
            if m == 1:
                continue
            for q in range(m):
                if q == p:
                    continue
                lane = 0 if self.net.shared_uplink else q
                leave = max(env.now, self.uplink_free[p][lane]) + tx
                self.uplink_free[p][lane] = leave
                d = self.delay(r, p, q)
                msg_vec = _add(vec, bandwidth=leave - env.now, latency=d)
                ev = env.timeout(leave + d - env.now, value=(r, msg_vec))
                ev.callbacks.append(lambda e, q=q: self.mailboxes[q].deliver(*e.value))
                self.messages += 1
            arrived = yield self.mailboxes[p].round_complete(r)
            last_t, last_vec = max(arrived, key=lambda a: a[0])
            if last_t > sum(vec) - 1e-12:
                vec = last_vec
        self.finish.append((env.now, vec))


def host_share(parties: int, host_cores: int | None, host_extra_load: float = 0.0) -> float:
    """How much slower each party computes when all `parties` share a host of `host_cores` cores on which
    other work takes `host_extra_load` cores; 1 when every party has a machine of its own (None)."""
    if not host_cores:
        return 1.0
    return max(1.0, (parties + host_extra_load) / host_cores)


def simulate_run(
    cost: CostProfile,
    network: NetworkProfile,
    *,
    seed: int = 0,
    handshake_round_trips: float = 2.0,
    host_extra_load: float = 0.0,
) -> tuple[float, dict[str, float], int]:
    """Simulate one run; return (duration, breakdown, number of messages)."""
    env = simpy.Environment()
    run = _Run(env, cost, network, np.random.default_rng(seed), handshake_round_trips, host_extra_load)
    for p in range(cost.parties):
        env.process(run.party(p))
    env.run()
    end, vec = max(run.finish, key=lambda f: f[0])
    return float(end), {k: float(v) for k, v in zip(COMPONENTS, vec, strict=True)}, run.messages


def forecast(
    computation: str,
    records: int,
    parties: int,
    network: NetworkProfile,
    *,
    seed: int = 0,
    calibration: dict | None = None,
) -> Forecast:
    """Forecast the wall-clock duration of one MPC run of `computation`.

    Args:
        computation: a catalogue name (see ``calibration.json``); ValueError lists the known ones.
        records: records per organisation (N).
        parties: number of parties (m).
        network: a `NetworkProfile` (see `NETWORKS` or `NetworkProfile.custom`).
        seed: seeds the jitter draws; same seed, same answer.
        calibration: a calibration dict (default: the packaged, provisional ``calibration.json``).
    """
    cal = calibration if calibration is not None else load_calibration()
    cost = profile(computation, int(records), int(parties), cal)
    total, breakdown, messages = simulate_run(
        cost, network, seed=seed, handshake_round_trips=float(cal.get("handshake_round_trips", 2)),
        host_extra_load=float(cal.get("host_extra_load", 0.0)),
    )
    notes = []
    if str(cal.get("status", "")).startswith("provisional"):
        notes.append("provisional calibration: hand-derived from micro-benchmarks, not yet refitted")
    command = command_forecast(computation, int(records), int(parties), network, seed=seed, calibration=cal)
    if command is not None:
        notes.append(f"command_seconds is the wall time of `mpc-sandbox run` on this machine ({command['link']}); "
                     "predicted_seconds the protocol run with per-party start-up, as before")
    return Forecast(
        computation=computation,
        records=int(records),
        parties=int(parties),
        network=network.to_dict(),
        predicted_seconds=total,
        breakdown=breakdown,
        rounds=cost.rounds,
        bytes_per_party=cost.bytes_sent,
        compute_seconds_per_party=cost.compute_seconds,
        messages=messages,
        notes=notes,
        command_seconds=None if command is None else command["seconds"],
        command_overhead_seconds=None if command is None else command["overhead_seconds"],
        predicts=_predicts(command, int(parties), network),
    )


def _predicts(command: dict[str, Any] | None, parties: int, network: NetworkProfile) -> str:
    """What the forecast's headline figure (command_seconds if there is one, else predicted_seconds) is."""
    if command is not None:
        how = "" if command["link"] == "direct" else " through the delaying relay"
        return f"the wall time of `mpc-sandbox run` with {parties} parties on this machine{how}"
    if network.host_cores:
        return (f"the protocol run of {parties} parties sharing one {network.host_cores}-core machine (per-party "
                "start-up included; not the command's own start-up or the plaintext check)")
    return "the protocol run of every party, each on a machine of its own (start-up included)"


COMMAND_GROUPS = {"capture-patterns": "capture-patterns", "mo-cooccurrence": "capture-patterns"}  # else counts


def protocol_without_startup(
    computation: str, records: int, parties: int, network: NetworkProfile, *, seed: int = 0,
    calibration: dict | None = None,
) -> float:
    """The simulated protocol (rounds, compute, network) with no per-party start-up: what a command adds
    its own overhead to."""
    cal = calibration if calibration is not None else load_calibration()
    cost = dataclasses.replace(profile(computation, records, parties, cal), startup_seconds=0.0)
    seconds, _breakdown, _messages = simulate_run(
        cost, network, seed=seed, handshake_round_trips=float(cal.get("handshake_round_trips", 2)),
        host_extra_load=float(cal.get("host_extra_load", 0.0)),
    )
    return seconds


def command_network(network: NetworkProfile) -> NetworkProfile:
    """The network that `mpc-sandbox run` itself builds for a profile: parties on this host, and for a profile
    other than loopback one delaying relay per connection (`--network` / `--latency-ms`), so every pair of
    parties has a link of the profile's bandwidth of its own -- not one shared uplink per organisation, as
    the profile models for a real deployment."""
    return dataclasses.replace(network, shared_uplink=False) if network.name != "loopback" else network


def command_forecast(
    computation: str, records: int, parties: int, network: NetworkProfile, *, seed: int = 0,
    calibration: dict | None = None,
) -> dict[str, Any] | None:
    """The wall time of the user's command, `mpc-sandbox run`, when all parties run on this host.

    command = overhead(N, m) + the simulated protocol without per-party start-up, where the overhead (the
    command's own start, the warm fork server, forking the parties, each party reading and checking its
    own file, connecting, the plaintext check) is fitted on measured commands by
    benchmarks/bench_command_forecast.py, separately for direct loopback and for the delaying relay
    (`mpc-sandbox run --network/--latency-ms`). None when the parties do not share a host or the
    calibration has no command model.
    """
    cal = calibration if calibration is not None else load_calibration()
    models = cal.get("command")
    if not models or not network.host_cores:
        return None
    link = "direct" if network.name == "loopback" else "relay"
    group = COMMAND_GROUPS.get(computation, "counts-by-form")
    model = models.get(link, {}).get(group)
    if model is None:
        return None
    if "by_parties" in model:  # one model per number of parties (the overlap computations: see the bench)
        fitted = sorted(int(k) for k in model["by_parties"])
        nearest = min(fitted, key=lambda k: (abs(k - parties), -k))
        model = model["by_parties"][str(nearest)]
    protocol = protocol_without_startup(computation, records, parties, command_network(network), seed=seed,
                                        calibration=cal)
    # by_parties models may scale the simulated protocol (fitted on measured commands; see the benchmark)
    protocol *= float(model.get("protocol_scale", 1.0))
    overhead = _evaluate(model, records, parties)
    return {"seconds": max(protocol, overhead + protocol), "overhead_seconds": overhead, "protocol_seconds": protocol,
            "link": link, "model": group}


def scaling(
    computation: str,
    parties: int,
    network: NetworkProfile,
    *,
    records: Sequence[int] = DEFAULT_SCALING_RECORDS,
    seed: int = 0,
    calibration: dict | None = None,
) -> pd.DataFrame:
    """Forecasts for a series of record counts (default 10 ... 1,000,000), one row per count.

    Columns: records, predicted_seconds, compute, latency, bandwidth, startup, rounds,
    bytes_per_party, network, computation, parties.
    """
    cal = calibration if calibration is not None else load_calibration()
    rows = []
    for n in records:
        f = forecast(computation, int(n), parties, network, seed=seed, calibration=cal)
        rows.append(
            {
                "records": f.records,
                "predicted_seconds": f.predicted_seconds,
                **f.breakdown,
                "rounds": f.rounds,
                "bytes_per_party": f.bytes_per_party,
                "network": network.name,
                "computation": computation,
                "parties": parties,
            }
        )
    return pd.DataFrame(rows)
