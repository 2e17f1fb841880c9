"""A delaying TCP relay on loopback, to validate the protocol forecast with real MPyC parties.

``start_relays([(listen_port, target_port), ...], latency_ms=20, bandwidth_mbps=100, jitter_ms=2, seed=1)``
listens on 127.0.0.1:listen_port and forwards every connection to 127.0.0.1:target_port (retrying
for up to ``connect_timeout`` seconds while the target does not listen yet). Each
chunk read in either direction is held for ``latency ± jitter`` (uniform, seeded, never below 0,
never overtaking an earlier chunk) and paced to ``bandwidth_mbps`` per connection and direction.
The relays run on an asyncio loop in a background thread; ``handle.stop()`` ends them, and they end
by themselves after ``lifetime_s`` seconds.

This kernel has no ``netem``, so delay has to be added in user space; see the engineering notes.
Only 127.0.0.1 is ever bound.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
from dataclasses import dataclass, field

import numpy as np

__all__ = ["RelayHandle", "start_relays"]

HOST = "127.0.0.1"
CHUNK = 65536
# Chunks due within this window of each other leave together. MPyC sends bursts of small messages; one
# timer per message costs the relay, which shares the cores with the parties, about 30 us each (a second
# of CPU per run at 5 parties). asyncio's epoll timers fire up to 1 ms late anyway.
COALESCE_S = 0.0005


@dataclass
class _Shaper:
    """Delay and pacing for one direction of one connection."""

    latency: float
    jitter: float
    bits_per_second: float | None
    rng: np.random.Generator
    last_release: float = 0.0
    link_free: float = 0.0

    def release_time(self, now: float, nbytes: int) -> float:
        delay = self.latency
        if self.jitter > 0:
            delay = max(0.0, delay + float(self.rng.uniform(-self.jitter, self.jitter)))
        release = max(now + delay, self.last_release)  # TCP: a chunk never overtakes the previous one
        if self.bits_per_second:
            release = max(release, self.link_free) + nbytes * 8 / self.bits_per_second
            self.link_free = release
        self.last_release = release
        return release


@dataclass
class RelayHandle:
    """Running relays; `ports` are the actual listen ports (useful when 0 was asked for)."""

    ports: list[int]
    targets: list[int]
    _loop: asyncio.AbstractEventLoop
    _thread: threading.Thread
    _stop: asyncio.Event
    stats: dict[str, int] = field(default_factory=lambda: {"connections": 0, "bytes": 0})

    def stop(self, timeout: float = 5.0) -> None:
        """Close all relays and connections and wait for the background thread to end."""
        if self._thread.is_alive():
            with contextlib.suppress(RuntimeError):
                self._loop.call_soon_threadsafe(self._stop.set)
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return self._thread.is_alive()

    def __enter__(self) -> RelayHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, shaper: _Shaper, stats: dict
) -> None:
    """Copy one direction, holding each chunk until its release time.

    Chunks that are due together (within COALESCE_S) leave in one write: MPyC sends thousands of small
    messages, and a timer per message would cost the relay more CPU than the delay it emulates.
    """
    loop = asyncio.get_running_loop()
    pending: collections.deque[tuple[float, bytes | None]] = collections.deque()
    arrived = asyncio.Event()

    async def read_side() -> None:
        try:
            while data := await reader.read(CHUNK):
                pending.append((shaper.release_time(loop.time(), len(data)), data))
                arrived.set()
        except (ConnectionError, OSError):
            pass
        finally:
            pending.append((0.0, None))
            arrived.set()

    async def write_side() -> None:
        try:
            while True:
                if not pending:
                    arrived.clear()
                    await arrived.wait()
                    continue
                release, data = pending[0]
                if data is None:
                    break
                wait = release - loop.time()
                if wait > 0:
                    await asyncio.sleep(wait)
                now = loop.time() + COALESCE_S
                due = []
                while pending and pending[0][1] is not None and pending[0][0] <= now:
                    due.append(pending.popleft()[1])
                writer.write(b"".join(due))
                await writer.drain()
                stats["bytes"] += sum(map(len, due))
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            pass

    await asyncio.gather(read_side(), write_side())


async def _serve(
    pairs: list[tuple[int, int]],
    latency_ms: float,
    bandwidth_mbps: float | None,
    jitter_ms: float,
    seed: int,
    lifetime_s: float,
    connect_timeout: float,
    ready: threading.Event,
    box: dict,
) -> None:
    stop = asyncio.Event()
    box["stop"] = stop
    seeds = iter(np.random.SeedSequence(seed).spawn(10_000))
    bps = bandwidth_mbps * 1e6 if bandwidth_mbps else None
    tasks: set[asyncio.Task] = set()
    stats = box["stats"]
    loop = asyncio.get_running_loop()

    def shaper() -> _Shaper:
        return _Shaper(latency_ms / 1000, jitter_ms / 1000, bps, np.random.default_rng(next(seeds)))

    def handler_for(target: int):
        async def handle(c_reader: asyncio.StreamReader, c_writer: asyncio.StreamWriter) -> None:
            stats["connections"] += 1
            task = asyncio.current_task()
            tasks.add(task)
            deadline = loop.time() + connect_timeout
            while True:  # the target may not listen yet (relays start before the parties)
                try:
                    t_reader, t_writer = await asyncio.open_connection(HOST, target)
                    break
                except OSError:
                    if loop.time() > deadline or stop.is_set():
                        c_writer.close()
                        tasks.discard(task)
                        return
                    await asyncio.sleep(0.02)
            try:
                await asyncio.gather(
                    _pump(c_reader, t_writer, shaper(), stats), _pump(t_reader, c_writer, shaper(), stats)
                )
            except asyncio.CancelledError:
                pass  # stop() or the lifetime ended: close quietly
            finally:
                for w in (t_writer, c_writer):
                    w.close()
                tasks.discard(task)

        return handle

    servers = []
    try:
        for listen, target in pairs:
            servers.append(await asyncio.start_server(handler_for(target), HOST, listen))
        box["ports"] = [s.sockets[0].getsockname()[1] for s in servers]
    except OSError as exc:
        box["error"] = exc
        for s in servers:
            s.close()
        ready.set()
        return
    ready.set()
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=lifetime_s)
    for s in servers:
        s.close()
    for t in list(tasks):
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)


def start_relays(
    pairs: list[tuple[int, int]],
    latency_ms: float,
    bandwidth_mbps: float | None = None,
    jitter_ms: float = 0.0,
    seed: int = 0,
    *,
    lifetime_s: float = 600.0,
    connect_timeout: float = 30.0,
) -> RelayHandle:
    """Start one relay per (listen_port, target_port) pair on 127.0.0.1 in a background thread.

    Args:
        pairs: ports to listen on and the ports to forward to (listen port 0 = any free port).
        latency_ms: one-way delay added to every chunk.
        bandwidth_mbps: pacing per connection and direction (None = unlimited).
        jitter_ms: uniform variation of the delay (seeded by `seed`).
        lifetime_s: the relays stop by themselves after this many seconds.
        connect_timeout: how long a relay keeps trying to reach a target that does not listen yet
            (the caller's connection is then closed).

    Returns a `RelayHandle`; call ``stop()`` (or use it as a context manager).
    """
    if latency_ms < 0 or jitter_ms < 0:
        raise ValueError("latency_ms and jitter_ms must be >= 0")
    if bandwidth_mbps is not None and bandwidth_mbps <= 0:
        raise ValueError("bandwidth_mbps must be > 0 (or None for unlimited)")
    if not pairs:
        raise ValueError("give at least one (listen_port, target_port) pair")
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    box: dict = {"stats": {"connections": 0, "bytes": 0}}

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(
                _serve(list(pairs), latency_ms, bandwidth_mbps, jitter_ms, seed, lifetime_s, connect_timeout,
                       ready, box)
            )
        finally:
            ready.set()
            loop.close()

    thread = threading.Thread(target=run, name="mpc-sandbox-relay", daemon=True)
    thread.start()
    if not ready.wait(10):
        raise RuntimeError("relay did not start within 10 s")
    if "error" in box:
        thread.join(5)
        raise OSError(f"relay could not listen: {box['error']}")
    return RelayHandle(
        ports=box["ports"],
        targets=[t for _, t in pairs],
        _loop=loop,
        _thread=thread,
        _stop=box["stop"],
        stats=box["stats"],
    )
