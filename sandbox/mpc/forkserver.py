"""Warm party start-up: the runner's side of the fork server in `sandbox.mpc.party` (no MPyC import here).

A fork server is one `python -m sandbox.mpc.party --fork-server` process that has imported what every party
needs and forks one child per party on request (see the comment above `serve_forks` in party.py for what
it holds and why no secret can pass from it to a party). One server serves one run, then ends; this module
keeps at most one spare server warm per niceness, so the next run starts at once:

    server = take(nice=19)          # a warm spare if there is one, else a new server
    proc = server.spawn("party", "mpc-party-0", args, cwd=..., stderr=...)
    proc.poll(); proc.kill(); proc.wait(5)   # the subset of subprocess.Popen the runner uses
    server.close()                  # ends every child still running, then the server

`MPC_SANDBOX_FORK=0` switches the runner back to one `python -m sandbox.mpc.party` exec per party.
"""

from __future__ import annotations

import atexit
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

__all__ = ["ForkServer", "ForkServerError", "ForkedProcess", "enabled", "find_parties", "keep_warm", "keeping_warm",
           "prestart", "spare_pids", "take"]


class ForkServerError(RuntimeError):
    """The fork server could not start a process; the message says why."""


def enabled() -> bool:
    return os.environ.get("MPC_SANDBOX_FORK", "1") != "0"


class ForkedProcess:
    """A child of the fork server, with the part of `subprocess.Popen`'s interface the runner uses."""

    def __init__(self, server: ForkServer, pid: int) -> None:
        self.server = server
        self.pid = pid

    @property
    def returncode(self) -> int | None:
        code = self.server._exits.get(self.pid)
        if code is None and self.server._dead:  # its children die with the server (PR_SET_PDEATHSIG: SIGKILL)
            return -9
        return code

    def poll(self) -> int | None:
        return self.returncode

    def kill(self) -> None:
        if self.returncode is None:
            self.server._send({"kill": self.pid})  # the server kills only its own, unreaped children

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self.server._changed:
            while self.returncode is None:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    raise subprocess.TimeoutExpired(f"forked process {self.pid}", timeout)
                self.server._changed.wait(left)
            return self.returncode


class ForkServer:
    COMMAND = (sys.executable, "-m", "sandbox.mpc.party", "--fork-server")  # then --nice N

    def __init__(self, nice: int = 0) -> None:
        self.nice = nice
        self._exits: dict[int, int] = {}
        self._spawned: dict[str, int] = {}
        self._changed = threading.Condition()
        self._dead = False
        self._ready = False
        self._used = False
        self._lock = threading.Lock()
        self.proc = subprocess.Popen(  # no preexec_fn: the app starts servers from its worker threads
            [*self.COMMAND, "--nice", str(int(nice))],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, process_group=0)
        threading.Thread(target=self._read, name=f"fork-server-{self.proc.pid}", daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            msg = json.loads(line)
            with self._changed:
                if "ready" in msg:
                    self._ready = True
                elif "spawned" in msg:
                    self._spawned[msg["name"]] = int(msg["spawned"])
                elif "exit" in msg:
                    self._exits[int(msg["exit"])] = int(msg["code"])
                self._changed.notify_all()
        with self._changed:
            self._dead = True
            self._changed.notify_all()

    def _send(self, msg: dict[str, Any]) -> None:
        with self._lock:
            try:
                assert self.proc.stdin is not None
                self.proc.stdin.write((json.dumps(msg) + "\n").encode())
                self.proc.stdin.flush()
            except (BrokenPipeError, ValueError, OSError):
                pass  # the server is gone; wait() and spawn() report it

    def alive(self) -> bool:
        return not self._dead and self.proc.poll() is None

    def spawn(self, kind: str, name: str, args: list[str], *, cwd: Path, stderr: Path,
              timeout: float = 60.0) -> ForkedProcess:
        """Fork one party (kind "party", args as for `python -m sandbox.mpc.party`) or the plaintext check
        (kind "oracle", args as for `python -m sandbox.mpc.oracle`); returns once it exists."""
        self._used = True
        self._send({"spawn": {"kind": kind, "name": name, "args": list(args), "cwd": str(cwd),
                              "stderr": str(stderr)}})
        deadline = time.monotonic() + timeout
        with self._changed:
            while name not in self._spawned:
                if self._dead:
                    raise ForkServerError(f"the fork server ended before starting {name}: {self._error()}")
                left = deadline - time.monotonic()
                if left <= 0:
                    raise ForkServerError(f"the fork server did not start {name} within {timeout:.0f} s")
                self._changed.wait(left)
            return ForkedProcess(self, self._spawned.pop(name))

    def _error(self) -> str:
        try:
            self.proc.wait(timeout=5)
            assert self.proc.stderr is not None
            lines = self.proc.stderr.read().decode(errors="replace").strip().splitlines()
        except (subprocess.TimeoutExpired, OSError, ValueError):
            lines = []
        return lines[-1] if lines else f"exit code {self.proc.returncode}"

    def close(self, timeout: float = 10.0) -> None:
        """End every child still running (the server kills them when its input closes), then the server."""
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
        except OSError:
            pass
        try:
            self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:  # pragma: no cover - never seen: the server's loop is simple
            self.proc.kill()
            self.proc.wait(timeout=5)
        for f in (self.proc.stdout, self.proc.stderr):
            try:
                if f is not None:
                    f.close()
            except OSError:
                pass


_spares: dict[int, ForkServer] = {}
_spares_lock = threading.Lock()
_keep_warm = False  # a long-lived process (the app) sets this with keep_warm(): runs then leave a spare


def keep_warm(nice: int = 19) -> None:
    """From now on every run leaves a warm spare for the next run at its niceness; start one at `nice` now."""
    global _keep_warm
    _keep_warm = True
    prestart(nice)


def keeping_warm() -> bool:
    return _keep_warm


def spare_pids() -> set[int]:
    """Process ids of the warm spares waiting for a run (started by this process)."""
    with _spares_lock:
        return {s.proc.pid for s in _spares.values() if s.alive()}


@atexit.register
def _end_spares() -> None:
    """A spare nobody used ends with the process that started it (its children: there are none)."""
    with _spares_lock:
        spares = list(_spares.values())
        _spares.clear()
    for server in spares:
        server.close(timeout=5)


def prestart(nice: int = 0) -> None:
    """Start a spare server for the next run with this niceness (nothing if one is warm already)."""
    if not enabled():
        return
    with _spares_lock:
        spare = _spares.get(nice)
        if spare is None or not spare.alive():
            _spares[nice] = ForkServer(nice)


def take(nice: int = 0, *, keep_warm: bool | None = None) -> ForkServer:
    """A server for one run: the warm spare if it is alive, else a new one. With `keep_warm` (default: as
    set by `keep_warm()`) a new spare starts at once for the run after this one (the app does this; a
    one-shot command does not)."""
    with _spares_lock:
        server = _spares.pop(nice, None)
    if server is None or not server.alive():
        server = ForkServer(nice)
    if _keep_warm if keep_warm is None else keep_warm:
        prestart(nice)
    return server


def find_parties() -> dict[int, dict[str, Any]]:
    """Every party process alive on this machine, forked or exec'ed:
    pid -> {"index", "plan", "argv", "ppid", "runner"}.

    A forked party is named `mpc-party-<i>` in /proc/<pid>/comm and runs in its job folder, which holds its
    plan and its arguments (`party-<i>.args`); an exec'ed party has `sandbox.mpc.party ... -I i` on its
    command line. `runner` is the process that started the run (the fork server sits between it and a
    forked party).
    """
    found: dict[int, dict[str, Any]] = {}
    for p in Path("/proc").iterdir():
        if not p.name.isdigit():
            continue
        try:
            comm = (p / "comm").read_text().strip()
            ppid = _ppid(int(p.name))
            cwd = Path(os.readlink(p / "cwd").removesuffix(" (deleted)"))
            if comm.startswith("mpc-party-"):
                index = int(comm[len("mpc-party-"):])
                try:
                    argv = ["sandbox.mpc.party", *json.loads((cwd / f"party-{index}.args").read_text())]
                except (OSError, ValueError):
                    argv = ["sandbox.mpc.party", "--plan", str(cwd / f"plan-{index}.json"), "-I", str(index)]
                runner = _ppid(ppid)
            else:
                argv = (p / "cmdline").read_text().split("\0")
                if "sandbox.mpc.party" not in argv or "-I" not in argv:
                    continue
                argv = argv[argv.index("sandbox.mpc.party"):]
                index = int(argv[argv.index("-I") + 1])
                runner = ppid
            plan = cwd / argv[argv.index("--plan") + 1]
            found[int(p.name)] = {"index": index, "plan": str(plan), "argv": argv, "ppid": ppid, "runner": runner}
        except (OSError, ValueError, IndexError):
            continue
    return found


def _ppid(pid: int) -> int:
    return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
