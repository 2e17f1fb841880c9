"""One MPC party, run as its own OS process by the runner (the only module that imports MPyC).

    python -m sandbox.mpc.party --plan PLAN.json -M m -I i -P 127.0.0.1:p0 ... -P 127.0.0.1:pm-1 -T t

The plan names this party's own CSV file only; the party prepares its inputs in the clear, checks
them, and then takes part in the protocol. Every message it sends or receives, every share it holds
and every output opened to it goes into its transcript (JSON lines). The result goes to a JSON file.

Run identity: the runner gives every party of a run the same random `run_id`; right after connecting
the parties exchange it, so a party that reached a party of a concurrent run (a port clash) stops
with a clear error instead of mixing two runs' inputs.

Failure behaviour: if a peer's connection drops before shutdown, or the plan's timeout passes, the
party exits at once with a one-line `PARTY-ERROR:` on stderr, so that nothing hangs.

Optional plan keys used by multi-host deployment (`sandbox.deploy`; absent in the runner's plans):
`listen_port` (bind this port instead of the one in this party's own `-P` address), `mapping` (a
mapping file applied to the CSV before validation), `connect_timeout` (seconds to reach every peer).
With `--ssl`, a TLS failure (a certificate from another CA, a certificate whose name does not match
the party index the peer claims) ends the party with `PARTY-ERROR: TLS ...` instead of MPyC's
endless reconnect loop.
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import ssl
import sys
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any

EXIT_INPUT = 3
EXIT_PEER_LOST = 4
EXIT_TIMEOUT = 5
EXIT_ERROR = 6
EXIT_TLS = 7


def _fail(code: int, message: str) -> None:
    sys.stderr.write(f"PARTY-ERROR: {message}\n")
    sys.stderr.flush()
    os._exit(code)


class PartyContext:
    """What a protocol needs: own inputs, parameters, and the transcript.

    Every vector written to the transcript carries its own cell names (`cells`), so a view never has to
    guess which value is which. Everything this party sees in the clear is recorded: its own inputs
    (`own_input`), the shares it holds (`shares`), public constants (`public`), and every value opened
    to it or received in the clear (`opened`, with a `role`: see `sandbox.mpc.transcript`).
    """

    def __init__(self, mpc: Any, plan: dict[str, Any], inputs: dict[str, Any], recorder: Any) -> None:
        self.mpc = mpc
        self.plan = plan
        self.inputs = inputs
        self.recorder = recorder
        self.pid: int = plan["pid"]
        self.m: int = len(plan["orgs"])
        self.t: int = mpc.threshold
        self.orgs: list[str] = plan["orgs"]
        self.cells: list[str] = plan["cells"]
        self.params: dict[str, Any] = plan["params"]
        self.min_cell: int = int(plan["params"].get("min_cell", 0))
        self.bit_length: int = int(plan.get("bit_length", 32))
        self.timings: dict[str, dict[str, float]] = {}

    def input_cells(self, label: str, n: int) -> list[str]:
        """Names of the n values of an input vector `label` (the same for its owner and share holders)."""
        from sandbox.mpc.computations import input_cells

        return input_cells(self.plan["computation"], label, n, self.params)

    def start(self, modulus: int) -> None:
        self.recorder.write("start", org=self.orgs[self.pid], orgs=self.orgs, m=self.m, t=self.t,
                            modulus=str(modulus), computation=self.plan["computation"])
        for label, values in self.inputs.items():
            flat = values if isinstance(values, list) else [values]
            self.recorder.values("own_input", label, flat, cells=self.input_cells(label, len(flat)))

    @contextmanager
    def phase(self, name: str):
        w0, c0 = time.perf_counter(), time.process_time()
        self.recorder.write("phase", name=name, state="begin")
        yield
        self.timings[name] = {"wall": time.perf_counter() - w0, "cpu": time.process_time() - c0}
        self.recorder.write("phase", name=name, state="end", **self.timings[name])

    async def record_shares(self, label: str, shared: list[Any]) -> None:
        """Log the field elements this party holds of each owner's secret-shared vector `label`."""
        for owner, vec in enumerate(shared):
            values = _field_values(await self.mpc.gather(vec))
            self.recorder.values("shares", label, values, owner=owner, owner_org=self.orgs[owner],
                                 cells=self.input_cells(label, len(values)))

    def record_public(self, label: str, per_owner: list[list[int]], cells: list[list[str]] | None = None) -> None:
        """Log public constants that stand in for shares (everyone holds the same value: nothing is hidden).

        `cells` names each owner's values (default: one value per record, 'record k').
        """
        for owner, values in enumerate(per_owner):
            names = cells[owner] if cells is not None else [f"record {k + 1}" for k in range(len(values))]
            self.recorder.values("public", label, values, owner=owner, owner_org=self.orgs[owner], cells=names)

    def record_opened(self, label: str, values: Any, *, role: str = "result", cells: list[str] | None = None) -> None:
        """Log a value opened to this party or received in the clear; `role` says what kind (see transcript).

        `cells` names each value of a list (without it they are numbered 0, 1, ...): never guessed here.
        """
        self.recorder.opened(label, values, role=role, cells=cells)


def _field_values(held: Any) -> list[int]:
    """Field elements (list or array) as Python ints."""
    if hasattr(held, "value") and not isinstance(held, list):  # a finite-field array
        return [int(v) for v in held.value.reshape(-1).tolist()]
    return [int(getattr(h, "value", h)) for h in held]


def _tls_reason(exc: BaseException) -> str:
    parts = [getattr(exc, "reason", None), getattr(exc, "verify_message", None)]
    return ": ".join(p for p in parts if p) or str(exc) or type(exc).__name__


def _certificate_problem(exc: BaseException) -> bool:
    """A refused certificate (ours or theirs): retrying cannot help. Other TLS errors (EOF, reset) may."""
    reason = _tls_reason(exc).upper()
    return isinstance(exc, ssl.CertificateError) or "CERT" in reason or "UNKNOWN_CA" in reason


def _tls_hint(exc: BaseException) -> str:
    if isinstance(exc, ssl.CertificateError):
        return "its certificate is not signed by this workshop's CA (a bundle from another export?)"
    return "it refused our certificate, or it does not speak TLS with this workshop's CA"


def _install_tls_hooks(mpc: Any, loop: Any) -> None:
    """With --ssl: TLS failures end the party with a clear message (retrying cannot fix a certificate)."""
    create_connection = loop.create_connection

    async def checked_create_connection(factory, host=None, port=None, **kwargs):
        try:
            return await create_connection(factory, host, port, **kwargs)
        except ssl.SSLError as exc:
            if not _certificate_problem(exc):
                raise  # e.g. a port forwarder closing a half-open connection: MPyC retries
            who = kwargs.get("server_hostname") or "a peer"
            _fail(EXIT_TLS, f"TLS handshake with {who} at {host}:{port} failed: {_tls_reason(exc)} "
                            f"({_tls_hint(exc)})")

    loop.create_connection = checked_create_connection

    from asyncio import sslproto

    handshake_complete = sslproto.SSLProtocol._on_handshake_complete

    def checked_handshake(self, handshake_exc):  # server side: a client's certificate was refused
        if isinstance(handshake_exc, ssl.SSLError) and getattr(self, "_server_side", False):
            reason = _tls_reason(handshake_exc)
            if _certificate_problem(handshake_exc):
                peer = self._transport.get_extra_info("peername") if self._transport else None
                where = f"{peer[0]}:{peer[1]}" if peer else "a peer"
                _fail(EXIT_TLS, f"TLS handshake from {where} refused: {reason} "
                                "(its certificate is not from this workshop's CA)")
            sys.stderr.write(f"PARTY-WARNING: TLS handshake failed ({reason}); still waiting for the parties\n")
        return handshake_complete(self, handshake_exc)

    sslproto.SSLProtocol._on_handshake_complete = checked_handshake

    set_protocol = mpc.set_protocol

    def bound_set_protocol(peer_pid: int, protocol: Any) -> None:  # bind certificate name to party index
        transport = getattr(protocol, "transport", None)
        cert = transport.get_extra_info("peercert") if transport is not None else None
        names = [v for rdn in (cert or {}).get("subject", ()) for k, v in rdn if k == "commonName"]
        if names != [f"MPyC party {peer_pid}"]:
            _fail(EXIT_TLS, f"TLS: a peer claims to be party {peer_pid} but its certificate is named "
                            f"{', '.join(names) or 'nothing'}; refused")
        set_protocol(peer_pid, protocol)

    mpc.set_protocol = bound_set_protocol


def _install_hooks(mpc: Any, recorder: Any, listen_host: str, state: dict[str, bool],
                   listen_port: int | None = None) -> None:
    """Observe MPyC's message layer without changing the protocol; bind to listen_host; fail fast."""
    send, receive = mpc._send_message, mpc._receive_message

    def logged_send(peer_pid: int, data: bytes) -> None:
        recorder.message("sent", peer_pid, mpc._program_counter[0], data)
        send(peer_pid, data)

    def logged_receive(peer_pid: int):
        pc = mpc._program_counter[0]
        payload = receive(peer_pid)
        if isinstance(payload, bytes):
            recorder.message("received", peer_pid, pc, payload)
        else:
            payload.add_done_callback(
                lambda f: None if f.cancelled() else recorder.message("received", peer_pid, pc, f.result())
            )
        return payload

    mpc._send_message, mpc._receive_message = logged_send, logged_receive

    loop = mpc._loop
    create_server = loop.create_server

    async def bound_create_server(factory, *args, **kwargs):
        kwargs.setdefault("host", listen_host)
        if listen_port is not None:  # deployment: listen on another port than the advertised one
            kwargs["port"] = listen_port
        return await create_server(factory, *args, **kwargs)

    loop.create_server = bound_create_server

    from mpyc import asyncoro

    def connection_lost(self, exc):
        if not state["shutdown"]:
            peer = getattr(self, "peer_pid", None)
            who = f"party {peer}" if peer is not None else "a peer"
            if isinstance(exc, ssl.SSLError):
                _fail(EXIT_TLS, f"TLS: the connection to {who} failed: {_tls_reason(exc)} ({_tls_hint(exc)})")
            if self.runtime.options.ssl and not state.get("started"):
                _fail(EXIT_PEER_LOST, f"{who} closed the connection before all parties were connected "
                                      f"({exc or 'closed'}): it stopped, or it refused our TLS certificate")
            _fail(EXIT_PEER_LOST, f"lost the connection to {who} during the computation ({exc or 'closed'})")
        self.runtime.unset_protocol(self.peer_pid)

    asyncoro.MessageExchanger.connection_lost = connection_lost


async def _start_within(mpc: Any, seconds: float) -> None:
    """mpc.start(), but name the unreachable parties after `seconds` instead of retrying forever."""
    import asyncio

    try:
        await asyncio.wait_for(mpc.start(), seconds)
    except TimeoutError:
        missing = [f"party {p.pid} at {p.host}:{p.port}" for p in mpc.parties
                   if p.pid != mpc.pid and p.protocol is None]
        _fail(EXIT_PEER_LOST, f"could not connect within {seconds:.0f} s to {', '.join(missing) or 'all parties'}")


def _watchdog(seconds: float) -> None:
    def expire() -> None:
        _fail(EXIT_TIMEOUT, f"no result after {seconds:.0f} s; giving up")

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()


def main() -> None:
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--plan", required=True)
    ours, rest = parser.parse_known_args()
    sys.argv = [sys.argv[0], *rest]  # leave only MPyC's own flags for its import-time parser

    plan = json.loads(Path(ours.plan).read_text(encoding="utf-8"))
    _watchdog(float(plan.get("timeout", 120)))
    if plan.get("nice"):  # yield the CPU to the app's web server, so clicks stay fast while parties compute
        os.nice(int(plan["nice"]))

    from sandbox.mpc import computations
    from sandbox.mpc.inputs import InputError, check_range, read_own_records
    from sandbox.mpc.transcript import Recorder

    try:
        comp = computations.for_run(plan["computation"], plan["params"])
        if plan.get("mapping"):  # deployment: an organisation's own export format, mapped before validation
            from sandbox.deploy.mapping import read_mapped_records

            df = read_mapped_records(plan["csv"], plan["mapping"])
        else:
            df = read_own_records(plan["csv"])
        inputs = comp.local_inputs(df, plan["params"])
        limit = 1 << int(plan.get("input_bits", 20))
        check_range(inputs, low=0, high=limit, source=Path(plan["csv"]).name)
    except (InputError, computations.ComputationError) as exc:
        _fail(EXIT_INPUT, str(exc))

    recorder = Recorder(plan["transcript"], party=plan["pid"], wire=plan.get("wire_log"))
    state = {"shutdown": False}

    from mpyc.runtime import mpc  # noqa: E402  (import-time side effects: only here, in the party)

    mpc.logging(False)
    _install_hooks(mpc, recorder, plan.get("listen_host", "127.0.0.1"), state, plan.get("listen_port"))
    if mpc.options.ssl:
        _install_tls_hooks(mpc, mpc._loop)
    protocol = importlib.import_module(f"sandbox.mpc.protocols.{comp.protocol}")
    ctx = PartyContext(mpc, plan, inputs, recorder)

    async def session() -> dict[str, Any]:
        if plan.get("connect_timeout"):
            await _start_within(mpc, float(plan["connect_timeout"]))
        else:
            await mpc.start()
        state["started"] = True
        if plan.get("run_id"):
            # Every party of one run got the same random id. If a port was taken between the runner
            # choosing it and the party binding it (other runs on the machine), a party could reach a
            # party of another run: refuse instead of mixing two runs' inputs into a wrong number.
            ids = await mpc.transfer(plan["run_id"])
            strangers = [q for q, other in enumerate(ids) if other != plan["run_id"]]
            if strangers:
                _fail(EXIT_ERROR, f"party {', '.join(map(str, strangers))} belongs to another run "
                                  "(a port clash with a concurrent run); nothing was computed, run it again")
        t0 = time.perf_counter()
        result = await protocol.run(mpc, ctx)
        seconds = time.perf_counter() - t0
        state["shutdown"] = True
        await mpc.shutdown()
        return {**result, "protocol_seconds": seconds}

    try:
        result = mpc.run(session())
    except SystemExit:
        raise
    except BaseException as exc:  # report, never hang
        _fail(EXIT_ERROR, f"{type(exc).__name__}: {exc}")
    recorder.write("end", timings=ctx.timings, bytes_sent=dict(recorder.bytes_sent),
                   bytes_received=dict(recorder.bytes_received), messages_sent=dict(recorder.messages_sent),
                   rounds=recorder.rounds())
    recorder.close()
    out = {
        **result,
        "party": plan["pid"],
        "org": plan["orgs"][plan["pid"]],
        "timings": ctx.timings,
        "bytes_sent": {str(k): v for k, v in recorder.bytes_sent.items()},
        "bytes_received": {str(k): v for k, v in recorder.bytes_received.items()},
        "messages_sent": {str(k): v for k, v in recorder.messages_sent.items()},
        "rounds": recorder.rounds(),
        "cpu_seconds": time.process_time(),
    }
    Path(plan["result"]).write_text(json.dumps(out), encoding="utf-8")
    sys.stdout.flush()
    os._exit(0)


# --- The warm fork server (`python -m sandbox.mpc.party --fork-server`) -------------------------------
#
# Starting a party costs about a second of CPU, nearly all of it importing NumPy, pandas, gmpy2 and MPyC's
# modules; six parties on two cores wait for each other's imports. The fork server imports all that ONCE,
# before any data or secret exists in it, and then forks one child per party (and one for the plaintext
# check). Each child is a fresh OS process of its own: it sets its arguments, reads only its own CSV,
# imports `mpyc.runtime` (which parses the arguments and draws its keys from the OS), and talks TCP to the
# others exactly as an exec'ed party does. Nothing secret can be inherited: the server never reads a CSV,
# never starts MPyC's runtime and never draws protocol randomness; MPyC and the protocols take theirs from
# `secrets`/os.urandom at the moment of use (Python's `random` is reseeded in every child by Python itself,
# NumPy's legacy global generator here, though no protocol uses either).
#
# Protocol with the runner (sandbox/mpc/forkserver.py), one JSON object per line:
#   runner -> server  {"spawn": {"kind": "party"|"oracle", "name", "args", "cwd", "stderr"}}  |  {"kill": pid}
#   server -> runner  {"ready": pid}  |  {"spawned": pid, "name"}  |  {"exit": pid, "code"}  |  {"error": msg}
# End of the runner's pipe (the runner finished or died) ends every child still running, then the server.

WARM_MODULES = (
    "numpy", "gmpy2", "pandas", "nacl._sodium",
    "mpyc.finfields", "mpyc.thresha", "mpyc.asyncoro", "mpyc.sectypes", "mpyc.mpctools", "mpyc.secgroups",
    "mpyc.random", "mpyc.statistics", "mpyc.seclists", "mpyc.secpols",  # everything but mpyc.runtime
    "sandbox.mpc.computations", "sandbox.mpc.inputs", "sandbox.mpc.transcript", "sandbox.mpc.noise",
    "sandbox.mpc.oracle", "sandbox.mpc.query",
)
_PR_SET_NAME, _PR_SET_PDEATHSIG = 15, 1


def _prctl(option: int, value: Any) -> None:
    import ctypes

    ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0)


def _warm_up() -> None:
    import pkgutil

    for name in WARM_MODULES:
        importlib.import_module(name)
    import sandbox.mpc.protocols as protocols

    for info in pkgutil.iter_modules(protocols.__path__):
        importlib.import_module(f"sandbox.mpc.protocols.{info.name}")
    assert "mpyc.runtime" not in sys.modules, "the fork server must not start MPyC's runtime"


def _child(spec: dict[str, Any], server: int, keep: set[int]) -> None:
    """In a forked child: become the party (or the check) that `spec` describes; never returns."""
    import signal

    code = EXIT_ERROR
    try:
        os.setpgid(0, 0)  # a process group of its own, as the runner's Popen(process_group=0) gives
        _prctl(_PR_SET_PDEATHSIG, int(signal.SIGKILL))  # the server gone: so is this child
        if os.getppid() != server:
            os._exit(EXIT_PEER_LOST)
        _prctl(_PR_SET_NAME, spec["name"].encode()[:15])  # /proc/<pid>/comm: mpc-party-<i> or mpc-oracle
        signal.set_wakeup_fd(-1)
        signal.signal(signal.SIGCHLD, signal.SIG_DFL)
        devnull = os.open(os.devnull, os.O_RDWR)
        err = os.open(spec["stderr"], os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.dup2(devnull, 0)
        os.dup2(devnull, 1)
        os.dup2(err, 2)
        for fd in {devnull, err, *keep}:
            if fd > 2:
                os.close(fd)
        sys.stdin = open(0, closefd=False)  # noqa: SIM115
        sys.stdout = open(1, "w", closefd=False)  # noqa: SIM115
        sys.stderr = open(2, "w", closefd=False)  # noqa: SIM115
        os.chdir(spec["cwd"])
        import numpy as np

        np.random.seed(int.from_bytes(os.urandom(4), "little"))  # never shared with the server or a sibling
        if spec["kind"] == "oracle":
            from sandbox.mpc import oracle

            code = oracle.main(list(spec["args"]))
        else:
            sys.argv = ["sandbox.mpc.party", *spec["args"]]
            main()  # ends with os._exit
            code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else EXIT_ERROR
    except BaseException as exc:  # noqa: BLE001 - reported like any party failure
        try:
            sys.stderr.write(f"PARTY-ERROR: {type(exc).__name__}: {exc}\n")
            sys.stderr.flush()
        except BaseException:  # noqa: BLE001
            pass
    finally:
        try:
            sys.stderr.flush()
        finally:
            os._exit(code)


def serve_forks() -> None:
    """The fork server's loop: warm up, then fork on request and report every child's exit."""
    import select
    import signal

    if "--nice" in sys.argv:
        os.nice(int(sys.argv[sys.argv.index("--nice") + 1]))
    _warm_up()
    server = os.getpid()
    wake_r, wake_w = os.pipe()
    os.set_blocking(wake_w, False)
    signal.signal(signal.SIGCHLD, lambda *_: None)
    signal.set_wakeup_fd(wake_w)
    inbox, out = sys.stdin.buffer.raw, sys.stdout
    children: set[int] = set()
    buffer = b""
    gone = [False]

    def say(**msg: Any) -> None:
        try:
            out.write(json.dumps(msg) + "\n")
            out.flush()
        except OSError:  # the runner closed its end
            gone[0] = True

    def reap() -> None:
        for pid in list(children):
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                children.discard(pid)
                say(exit=pid, code=os.waitstatus_to_exitcode(status))

    say(ready=server)
    open_pipe = True
    while open_pipe or children:
        open_pipe = open_pipe and not gone[0]
        if not open_pipe:  # the runner is gone: nothing may outlive it
            for pid in children:
                os.kill(pid, 9)
        ready, _, _ = select.select([inbox, wake_r] if open_pipe else [wake_r], [], [], 1.0)
        if wake_r in ready:
            os.read(wake_r, 4096)
        if inbox in ready:
            chunk = os.read(inbox.fileno(), 65536)
            open_pipe = bool(chunk)
            buffer += chunk
            while b"\n" in buffer:
                line, buffer = buffer.split(b"\n", 1)
                request = json.loads(line)
                if "spawn" in request:
                    pid = os.fork()
                    if pid == 0:
                        _child(request["spawn"], server, {wake_r, wake_w, inbox.fileno(), out.fileno()})
                    children.add(pid)
                    say(spawned=pid, name=request["spawn"]["name"])
                elif "kill" in request and int(request["kill"]) in children:  # only its own children
                    os.kill(int(request["kill"]), 9)
        reap()
    os._exit(0)


if __name__ == "__main__":
    if "--fork-server" in sys.argv[1:]:
        serve_forks()
    else:
        main()
