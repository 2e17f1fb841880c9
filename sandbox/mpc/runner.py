"""Run a computation with real MPyC parties: one OS process per organisation, talking over TCP.

The runner never imports MPyC. For each job it
1. picks free ports on 127.0.0.1 (so concurrent jobs never collide),
2. writes one plan per party naming ONLY that party's own CSV,
3. starts `python -m sandbox.mpc.party` once per organisation with explicit `-P 127.0.0.1:port`,
4. watches the processes: a party that exits with an error or dies is named at once, the others are
   stopped; past the timeout every party is stopped and the stalled one is named,
5. collects results, per-party transcripts, timings, bytes and messages.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sandbox.i18n import N_
from sandbox.mpc import computations, forkserver
from sandbox.scenario import Scenario

__all__ = ["MPCError", "RunResult", "default_threshold", "free_ports", "run_mpc", "run_plain", "values_match"]

POLL_SECONDS = 0.05


class MPCError(RuntimeError):
    """An MPC run failed; `party`/`org` name the party at fault when known."""

    def __init__(self, message: str, *, party: int | None = None, org: str | None = None) -> None:
        super().__init__(message)
        self.party = party
        self.org = org


@dataclass
class RunResult:
    computation: str
    backend: str
    parties: list[str]
    threshold: int
    revealed: Any
    suppressed: list[Any]
    oracle: Any = None
    oracle_suppressed: list[Any] | None = None
    match: bool | None = None
    seconds: float = 0.0
    bytes_sent: dict[str, int] = field(default_factory=dict)
    messages: dict[str, int] = field(default_factory=dict)
    rounds: int = 0
    timings: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    transcripts: dict[str, str] = field(default_factory=dict)
    out_dir: str | None = None
    # each organisation's own count per cell (aggregates only; from the check process, for "your own slice")
    own_counts: dict[str, dict[str, int]] | None = None
    # noisy runs only: the sum of every party's secret noise share per cell, read from all transcripts
    # (a facilitator-only check, as the oracle is: no party can compute it)
    noise: dict[str, int] | None = None
    # designed-query with a mean only: cells without records (no mean exists; absent from revealed)
    empty: list[Any] | None = None
    oracle_empty: list[Any] | None = None
    # designed-query counting distinct persons only: what the secure join opens to everyone, by design --
    # {"list_sizes": {org: records}, "persons_per_number_of_lists": {"1": persons on one list, ...}}
    join_opened: dict[str, Any] | None = None
    oracle_join_opened: dict[str, Any] | None = None
    # the plaintext check: "match" | "mismatch" | "pending" (run_mpc(check="later"): see finish_check) | "failed"
    # | "off"
    check: str = "off"
    check_seconds: float | None = None  # how long after the opened result the check arrived
    _pending: Any = field(default=None, repr=False, compare=False)

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("_pending", None)
        return out

    def finish_check(self, timeout: float | None = None) -> RunResult:
        """With run_mpc(check="later"): wait for the plaintext check (oracle, match and check are filled in
        by a thread of the runner); MPCError if it failed or did not finish within `timeout`."""
        if self._pending is not None:
            self._pending(timeout)
            self._pending = None
        return self


def values_match(a: Any, b: Any, *, rel: float = 1e-6) -> bool:
    """Exact equality, except that floats may differ by a relative 1e-6 (rounding in a different order)."""
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(values_match(a[k], b[k], rel=rel) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(values_match(x, y, rel=rel) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) or isinstance(b, float):
        if a is None or b is None:
            return False
        return abs(a - b) <= rel * max(1.0, abs(b))
    return a == b


def default_threshold(m: int) -> int:
    return (m - 1) // 2


def free_ports(n: int) -> list[int]:
    """n distinct free TCP ports on 127.0.0.1 (held open together while choosing)."""
    socks = []
    try:
        for _ in range(n):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
        return [s.getsockname()[1] for s in socks]
    finally:
        for s in socks:
            s.close()


def _params(scenario: Scenario, extra: dict[str, Any] | None) -> dict[str, Any]:
    params: dict[str, Any] = {"min_cell": scenario.disclosure.min_cell}
    params.update(extra or {})
    min_cell = params["min_cell"]  # every run (MPC and oracle) passes here: one check for CLI, app and API
    try:
        whole = not isinstance(min_cell, bool | str) and min_cell == int(min_cell) >= 0
    except (TypeError, ValueError, OverflowError):  # None, NaN, infinity, ...
        whole = False
    if not whole:
        raise MPCError(N_("min_cell must be a whole number of 0 or more, not {min_cell!r}").format(min_cell=min_cell))
    params["min_cell"] = int(min_cell)
    return params


def _designed_params(computation: str, params: dict[str, Any] | None) -> dict[str, Any] | None:
    """designed-query: check the query before anything starts (MPCError naming the problem), normalise
    it, and take its min_cell (if it has one) over any other."""
    if computation == "query-approval" and params and "differs_from_query" in params:
        return _approval_params(params)
    if computation != "designed-query":
        return params
    from sandbox.mpc.query import QueryError, parse_query

    params = dict(params or {})
    if "query" not in params:
        raise MPCError("designed-query needs a query: params {'query': {'group_by': [...], ...}}")
    try:
        query = parse_query(params["query"])
    except QueryError as exc:
        raise MPCError(N_("designed query: {error}").format(error=exc)) from None
    params["query"] = query.to_json()
    if query.min_cell is not None:
        params["min_cell"] = query.min_cell
    return params


def _covariate_params(computation: str, params: dict[str, Any], csvs: dict[str, Path]) -> None:
    """capture-patterns-by: check the covariates before anything starts (MPCError naming the covariate and
    the allowed ones, or the covariate whose column no organisation's file has) and store them as a list."""
    if computation != "capture-patterns-by":
        return
    from sandbox.mpc.computations import ComputationError
    from sandbox.mpc.overlap_catalogue import COVARIATES, covariates_of, missing_covariate_columns

    try:
        covariates = covariates_of({**params, "orgs": list(csvs)})
    except ComputationError as exc:
        raise MPCError(str(exc)) from None
    columns = {org: _header(org, path) for org, path in csvs.items()}
    nobody = missing_covariate_columns(covariates, columns)
    if nobody:
        raise MPCError(N_("covariate(s) {covariates}: no organisation of this run has the column {columns} in its "
                          "file ({orgs})").format(covariates=", ".join(nobody),
                                                  columns=", ".join(COVARIATES[c] for c in nobody),
                                                  orgs=", ".join(csvs)))
    params["covariates"] = covariates


def _header(org: str, path: Path) -> list[str]:
    """The column names of one organisation's CSV (its header line only: the csv module, no pandas)."""
    import csv

    try:
        with path.open(newline="", encoding="utf-8") as fh:
            return [c.strip() for c in next(csv.reader(fh), [])]
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise MPCError(N_("{path}: not a readable CSV file ({detail})").format(path=path.name, detail=exc),
                       org=org) from None


def _linkage_params(computation: str, params: dict[str, Any], csvs: dict[str, Path]) -> None:
    """designed-query counting distinct persons: every organisation's file must have the linkage key
    (MPCError naming the organisations that lack it, before anything starts)."""
    if computation != "designed-query":
        return
    from sandbox.mpc.query import QueryError, check_linkage, parse_query

    if parse_query(params["query"]).measure != "distinct":
        return
    try:
        check_linkage(params["query"], {org: _header(org, path) for org, path in csvs.items()})
    except QueryError as exc:
        raise MPCError(N_("designed query: {error}").format(error=exc)) from None


def _approval_params(params: dict[str, Any]) -> dict[str, Any]:
    """query-approval of two designed queries: both checked before anything starts; the new query's
    min_cell (if it has one) is the threshold."""
    from sandbox.mpc.query import QueryError, parse_query

    params = dict(params)
    for key in ("query", "differs_from_query"):
        try:
            params[key] = parse_query(params.get(key)).to_json()
        except QueryError as exc:
            raise MPCError(N_("query approval, {key}: {error}").format(key=key, error=exc)) from None
    if params["query"].get("min_cell") is not None:
        params["min_cell"] = params["query"]["min_cell"]
    return params


def _org_csv(data_dir: Path, org: str) -> Path:
    path = data_dir / f"{org}.csv"
    if not path.is_file():
        raise MPCError(N_("no data file for organisation {org!r}: {path} does not exist").format(org=org, path=path),
                       org=org)
    return path


def run_plain(
    scenario: Scenario, data_dir: str | Path, computation: str, *, params: dict[str, Any] | None = None,
    orgs: list[str] | None = None,
) -> dict[str, Any]:
    """The plaintext reference ("oracle"): pool the files in the clear and compute the same figure."""
    from sandbox.mpc.oracle import compute

    orgs = orgs or scenario.org_ids
    for o in orgs:
        _org_csv(Path(data_dir), o)  # a missing file: MPCError naming the organisation
    p = _params(scenario, _designed_params(computation, params))
    p["orgs"] = orgs
    _covariate_params(computation, p, {o: _org_csv(Path(data_dir), o) for o in orgs})
    _linkage_params(computation, p, {o: _org_csv(Path(data_dir), o) for o in orgs})
    return compute({"computation": computation, "data_dir": str(data_dir), "orgs": orgs, "params": p})


def _validate_threshold(m: int, threshold: int | None) -> int:
    if m < 3:
        raise MPCError(N_(
            "MPC with {m} organisation(s) gives no privacy here: Shamir secret sharing with an honest "
            "majority needs at least 3 parties (add an independent third compute party)"
        ).format(m=m))
    if m > 7:
        raise MPCError(N_("the sandbox runs 3 to 7 parties, not {m}").format(m=m))
    t = default_threshold(m) if threshold is None else threshold
    if not 1 <= t <= (m - 1) // 2:
        raise MPCError(
            f"threshold {t} is not valid for {m} parties: it must be between 1 and {(m - 1) // 2} "
            "(a coalition of t parties learns nothing; multiplication needs 2t < m)"
        )
    return t


def _describe_exit(code: int) -> str:
    if code < 0:
        try:
            return N_("killed by signal {signal}").format(signal=signal.Signals(-code).name)
        except ValueError:
            return N_("killed by signal {signal}").format(signal=-code)
    return N_("exit code {code}").format(code=code)


def _last_error(stderr_path: Path) -> str:
    try:
        lines = stderr_path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return ""
    for line in reversed(lines):
        if line.startswith("PARTY-ERROR: "):
            return line[len("PARTY-ERROR: "):]
    tail = [ln for ln in lines if ln.strip()]
    return tail[-1] if tail else ""


def _is_stopped(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] in {"T", "t"}


def _stop_all(procs: list[Any]) -> None:
    for p in procs:
        if p.poll() is None:
            try:
                p.kill()  # SIGKILL also ends a stopped (SIGSTOP) process
            except ProcessLookupError:
                pass
    for p in procs:
        try:
            p.wait(timeout=5)
        except subprocess.TimeoutExpired:  # pragma: no cover - the kernel did not reap in time
            pass


def run_mpc(
    scenario: Scenario,
    data_dir: str | Path,
    computation: str,
    *,
    threshold: int | None = None,
    orgs: list[str] | None = None,
    params: dict[str, Any] | None = None,
    out_dir: str | Path | None = None,
    timeout: float = 120.0,
    check: bool | str = True,
    cancel: threading.Event | None = None,
    progress: Any = None,
    link: dict[str, Any] | None = None,
    nice: int = 0,
    wire_log: bool = False,
    keep_warm: bool | None = None,
) -> RunResult:
    """Run `computation` with one real MPyC process per organisation and return the opened result.

    With `check=True` the plaintext oracle is computed too (in its own process, `sandbox.mpc.oracle`, next to
    the parties) and `match` says whether they agree. With `check="later"` the result returns as soon as the
    parties are done, with `check == "pending"`; `result.finish_check()` waits for the check (the app shows
    the result first and the check when it arrives).
    Raises MPCError naming the party when a party fails, dies, stalls or the run is cancelled.

    `nice` lowers the parties' CPU priority (the app uses 19 so its web server stays responsive). Parties
    get a process group of their own (a Ctrl-C in the app's terminal reaches the runner, which ends them)
    but stay in the caller's session: Linux's autogroup scheduler shares the CPU fairly between sessions,
    so a party in a session of its own would get as much CPU as the whole web server, nice or not.

    Parties are forked from a warm fork server (`sandbox.mpc.forkserver`: imports paid once, not once per
    party); `keep_warm=True` starts the next run's server right away (default: what the app set with
    `forkserver.keep_warm()`). MPC_SANDBOX_FORK=0 execs one interpreter per party instead.

    `wire_log=True` (needs `out_dir`) also writes every payload each party sent and received, byte for
    byte, to `wire-<i>-<org>.bin` in out_dir (`sandbox.mpc.transcript.read_wire` reads it).

    `link` (optional) emulates a network: ``{"latency_ms", "bandwidth_mbps", "jitter_ms", "seed"}``.
    Every connection from party i to party j > i then goes through its own delaying relay
    (`sandbox.timeline.relay`), so each party gets its own `-P` list: its own real listen port, and
    for every j > i the relay port in front of j.
    """
    comp = computations.get(computation)
    data_dir = Path(data_dir)
    orgs = list(orgs or scenario.org_ids)
    unknown = [o for o in orgs if o not in scenario.org_ids]
    if unknown:
        raise MPCError(N_("organisation(s) not in scenario {name!r}: {orgs}").format(
            name=scenario.name, orgs=", ".join(unknown)))
    repeated = sorted({o for o in orgs if orgs.count(o) > 1})
    if repeated:  # the same file twice would be counted twice by MPC but once by the oracle
        raise MPCError(N_("organisation(s) listed more than once: {orgs}").format(orgs=", ".join(repeated)))
    if not 0 < timeout < float("inf"):  # NaN or inf would switch off the runner's and the parties' timeouts
        raise MPCError(f"timeout must be a positive number of seconds, not {timeout}")
    if check not in (True, False, "wait", "later"):
        raise MPCError(f"check must be True, False, 'wait' or 'later', not {check!r}")
    if wire_log and out_dir is None:
        raise MPCError("wire_log needs an out_dir to write the payload logs to")
    m = len(orgs)
    t = _validate_threshold(m, threshold)
    p = _params(scenario, _designed_params(computation, params))
    csvs = [_org_csv(data_dir, o) for o in orgs]
    p["orgs"] = orgs
    _covariate_params(computation, p, dict(zip(orgs, csvs, strict=True)))
    _linkage_params(computation, p, dict(zip(orgs, csvs, strict=True)))
    comp = computations.for_run(computation, p)  # designed-query counting distinct persons: the linked one
    if p.get("noise_epsilon") is not None:
        from sandbox.mpc.noise import NoiseError, check_epsilon

        try:
            p["noise_epsilon"] = check_epsilon(p["noise_epsilon"])
        except NoiseError as exc:
            raise MPCError(str(exc)) from None
        if int(p.get("min_cell", 0)) > 0:
            raise MPCError("a noisy query runs with min_cell 0: the noise replaces the small-cell rule "
                           f"(got min_cell {p['min_cell']})")

    keep = out_dir is not None
    out = Path(out_dir) if keep else Path(tempfile.mkdtemp(prefix="mpc-sandbox-run-"))
    out.mkdir(parents=True, exist_ok=True)
    later = check == "later"
    work = Path(tempfile.mkdtemp(prefix="mpc-sandbox-job-"))  # plans, results, logs: removed afterwards
    check_dir = Path(tempfile.mkdtemp(prefix="mpc-sandbox-check-")) if check else work
    oracle, detached = None, False
    run_id = secrets.token_hex(8)  # the parties check they all belong to this run (see party.py)
    relayed = [(i, j) for i in range(m) for j in range(i + 1, m)] if link is not None else []
    chosen = free_ports(m + len(relayed))  # one call, so listen and relay ports are all distinct
    ports, relay_ports = chosen[:m], chosen[m:]
    peer_ports = [list(ports) for _ in range(m)]  # peer_ports[i][j]: where party i reaches party j
    for (i, j), relay_port in zip(relayed, relay_ports, strict=True):
        peer_ports[i][j] = relay_port
    relays = None
    procs: list[Any] = []  # subprocess.Popen or forkserver.ForkedProcess
    oracle_proc: Any = None
    server = forkserver.take(nice, keep_warm=keep_warm) if forkserver.enabled() else None
    logs = []
    start = time.perf_counter()

    def launch(kind: str, name: str, module: str, args: list[str], stderr: Path) -> Any:
        if server is not None:  # forked from the warm server: no interpreter start, no imports
            # The server may still be warming up (imports: seconds on a loaded machine); that is not the
            # parties' time, which the watch below bounds by `timeout` as for exec'ed parties.
            return server.spawn(kind, name, args, cwd=work, stderr=stderr, timeout=max(timeout, 120.0))
        err = stderr.open("w")
        logs.append(err)
        return subprocess.Popen([sys.executable, "-m", module, *args], cwd=work, stdout=subprocess.DEVNULL,
                                stderr=err, stdin=subprocess.DEVNULL, process_group=0)

    try:
        if check:  # the plaintext check runs in its own process, next to the parties, at the lowest priority:
            # it takes the CPU the parties leave idle (at a higher priority it slowed 3 x 10,000 records by 30 %)
            oracle_plan = check_dir / "oracle-plan.json"
            oracle_plan.write_text(json.dumps({"computation": computation, "data_dir": str(data_dir.resolve()),
                                               "orgs": orgs, "params": p, "nice": 19}), encoding="utf-8")
            oracle_proc = launch("oracle", "mpc-oracle", "sandbox.mpc.oracle",
                                 ["--plan", str(oracle_plan), "--out", str(check_dir / "oracle.json")],
                                 check_dir / "oracle.err")
        if relayed:
            # Listen on the relay ports before any party starts, so that no party's outgoing connection
            # can take one of them as its local port; a relay waits for its target party to listen.
            from sandbox.timeline.relay import start_relays

            relays = start_relays([(relay_ports[k], ports[j]) for k, (_, j) in enumerate(relayed)],
                                  float(link.get("latency_ms", 0.0)), link.get("bandwidth_mbps"),
                                  float(link.get("jitter_ms", 0.0)), int(link.get("seed", 0)),
                                  lifetime_s=timeout + 30, connect_timeout=timeout)
        for i, org in enumerate(orgs):
            plan = {
                "computation": computation,
                "pid": i,
                "orgs": orgs,
                "csv": str(csvs[i].resolve()),
                "cells": comp.cells(p),
                "input_bits": comp.input_bits,
                "params": p,
                "transcript": str((out / f"transcript-{i}-{org}.jsonl").resolve()),
                "result": str((work / f"result-{i}.json").resolve()),
                "timeout": timeout,
                "listen_host": "127.0.0.1",
                "nice": nice,
                "run_id": run_id,
            }
            if wire_log:
                plan["wire_log"] = str((out / f"wire-{i}-{org}.bin").resolve())
            plan_path = work / f"plan-{i}.json"
            plan_path.write_text(json.dumps(plan), encoding="utf-8")
            addresses = [arg for port in peer_ports[i] for arg in ("-P", f"127.0.0.1:{port}")]
            args = ["--plan", str(plan_path), "-M", str(m), "-I", str(i), "-T", str(t), *addresses, "--no-log"]
            (work / f"party-{i}.args").write_text(json.dumps(args), encoding="utf-8")  # forkserver.find_parties
            procs.append(launch("party", f"mpc-party-{i}", "sandbox.mpc.party", args, work / f"party-{i}.err"))
        if progress:
            progress("parties started", 0.1)
        _watch(procs, orgs, work, timeout=timeout, cancel=cancel)
        seconds = time.perf_counter() - start
        results = [json.loads((work / f"result-{i}.json").read_text()) for i in range(m)]
        if oracle_proc is not None and not later:
            oracle = _oracle_result(oracle_proc, check_dir, timeout)
        detached = later and oracle_proc is not None  # the check goes on after this function returns
    except forkserver.ForkServerError as exc:
        raise MPCError(N_("could not start the parties: {detail}").format(detail=exc)) from None
    finally:
        _stop_all(procs + ([oracle_proc] if oracle_proc is not None and not detached else []))
        if server is not None and not detached:
            server.close()
        if relays is not None:
            relays.stop()
        for fh in logs:
            fh.close()
        shutil.rmtree(work, ignore_errors=True)
        if not detached:
            shutil.rmtree(check_dir, ignore_errors=True)

    first = results[0]
    if any(r["revealed"] != first["revealed"] or r.get("join_opened") != first.get("join_opened")
           for r in results[1:]):
        raise MPCError(N_("the parties opened different results; the run is invalid"))
    result = RunResult(
        computation=computation,
        backend="mpyc",
        parties=orgs,
        threshold=t,
        revealed=first["revealed"],
        suppressed=first.get("suppressed", []),
        empty=first.get("empty"),
        join_opened=first.get("join_opened"),
        seconds=round(seconds, 3),
        bytes_sent={orgs[i]: sum(r["bytes_sent"].values()) for i, r in enumerate(results)},
        messages={orgs[i]: sum(r["messages_sent"].values()) for i, r in enumerate(results)},
        rounds=max(r["rounds"] for r in results),
        timings={orgs[i]: r["timings"] for i, r in enumerate(results)},
        transcripts={o: str(out / f"transcript-{i}-{o}.jsonl") for i, o in enumerate(orgs)},
        out_dir=str(out),
    )
    if p.get("noise_epsilon") is not None:
        result.noise = _noise_from_transcripts(result.transcripts)
    opened_at = time.perf_counter()

    def save() -> None:
        if keep:
            (out / "result.json").write_text(json.dumps(result.to_json(), indent=2), encoding="utf-8")

    if oracle is not None:
        _apply_check(result, oracle, 0.0)
    elif detached:  # a thread of its own collects the check, so the server and files are always cleaned up
        result.check = "pending"
        failure: list[BaseException] = []

        def collect() -> None:
            try:
                _apply_check(result, _oracle_result(oracle_proc, check_dir, timeout), time.perf_counter() - opened_at)
            except BaseException as exc:  # noqa: BLE001 - handed to finish_check
                failure.append(exc)
                result.check = "failed"
            finally:
                _stop_all([oracle_proc])
                if server is not None:
                    server.close()
                shutil.rmtree(check_dir, ignore_errors=True)
                save()

        thread = threading.Thread(target=collect, name="mpc-check", daemon=True)
        thread.start()

        def pending(wait: float | None) -> None:
            thread.join(wait)
            if thread.is_alive():
                raise MPCError(N_("the plaintext check did not finish within {seconds} s").format(
                    seconds=f"{wait:.0f}"))
            if failure:
                raise failure[0]

        result._pending = pending
    save()
    return result


def _apply_check(result: RunResult, oracle: dict[str, Any], seconds_after: float) -> None:
    """Compare the opened result with the plaintext check and record the verdict."""
    result.oracle = oracle["revealed"]
    result.oracle_suppressed = oracle.get("suppressed", [])
    result.own_counts = oracle.get("own_counts")
    result.oracle_empty = oracle.get("empty")
    result.oracle_join_opened = oracle.get("join_opened")
    expected = result.oracle
    if result.noise is not None:  # opened = exact + the sum of the parties' secret noise shares
        expected = {c: None if v is None else v + result.noise[c] for c, v in result.oracle.items()}
    result.match = (values_match(result.revealed, expected) and result.suppressed == result.oracle_suppressed
                    and result.empty == result.oracle_empty and result.join_opened == result.oracle_join_opened)
    result.check = "match" if result.match else "mismatch"
    result.check_seconds = round(seconds_after, 3)


def _noise_from_transcripts(transcripts: dict[str, str]) -> dict[str, int]:
    """The total noise per cell: every party's own noise share, as logged in its own transcript."""
    from sandbox.mpc.transcript import read_transcript

    total: dict[str, int] = {}
    for org, path in transcripts.items():
        shares = [e for e in read_transcript(path) if e["event"] == "own_input" and e["label"] == "noise"]
        if len(shares) != 1:
            raise MPCError(f"the transcript of {org} has no noise share; the noisy run cannot be checked")
        for cell, v in zip(shares[0]["cells"], shares[0]["values"], strict=True):
            total[cell] = total.get(cell, 0) + int(v)
    return total


def _oracle_result(proc: Any, work: Path, timeout: float) -> dict[str, Any]:
    """Wait for the plaintext check started next to the parties; MPCError if it failed."""
    try:
        proc.wait(timeout=max(5.0, timeout))
    except subprocess.TimeoutExpired:
        raise MPCError(N_("the plaintext check did not finish within {seconds} s").format(
            seconds=f"{max(5.0, timeout):.0f}")) from None
    if proc.returncode != 0:
        err = (work / "oracle.err").read_text(errors="replace").strip().splitlines()
        reason = err[-1] if err else N_("exit code {code}").format(code=proc.returncode)
        raise MPCError(N_("the plaintext check failed: {reason}").format(reason=reason))
    return json.loads((work / "oracle.json").read_text(encoding="utf-8"))


def _watch(procs: list[Any], orgs: list[str], work: Path, *, timeout: float,
           cancel: threading.Event | None) -> None:
    deadline = time.monotonic() + timeout
    while True:
        codes = [p.poll() for p in procs]
        if all(c == 0 for c in codes):
            return
        failed = [i for i, c in enumerate(codes) if c not in (None, 0)]
        if failed:
            # Prefer the party that failed on its own over those that only lost a peer.
            from sandbox.mpc.party import EXIT_PEER_LOST

            time.sleep(0.2)  # let simultaneous exits land so the culprit can be told apart
            codes = [p.poll() for p in procs]
            failed = [i for i, c in enumerate(codes) if c not in (None, 0)]
            stopped = [i for i, p in enumerate(procs) if codes[i] is None and _is_stopped(p.pid)]
            if stopped:  # the others gave up waiting for a stopped party: it is the one to name
                i = stopped[0]
                _stop_all(procs)
                raise MPCError(N_("party {i} ({org}) stalled: its process was stopped and did not respond; "
                                  "party {other} ({other_org}) gave up waiting").format(
                    i=i, org=orgs[i], other=failed[0], other_org=orgs[failed[0]]), party=i, org=orgs[i])
            own = [i for i in failed if codes[i] != EXIT_PEER_LOST]
            i = own[0] if own else failed[0]
            reason = _last_error(work / f"party-{i}.err") or _describe_exit(codes[i])
            if codes[i] < 0:
                reason = N_("the process died ({reason})").format(reason=_describe_exit(codes[i]))
            _stop_all(procs)
            raise MPCError(N_("party {i} ({org}) failed: {reason}").format(i=i, org=orgs[i], reason=reason),
                           party=i, org=orgs[i])
        if cancel is not None and cancel.is_set():
            _stop_all(procs)
            raise MPCError(N_("the run was cancelled; all parties were stopped"))
        if time.monotonic() > deadline:
            stopped = [i for i, p in enumerate(procs) if p.poll() is None and _is_stopped(p.pid)]
            waiting = [i for i, c in enumerate(codes) if c is None]
            _stop_all(procs)
            if stopped:
                i = stopped[0]
                raise MPCError(N_("party {i} ({org}) stalled: its process was stopped and did not respond "
                                  "within {seconds} s").format(i=i, org=orgs[i], seconds=f"{timeout:.0f}"),
                               party=i, org=orgs[i])
            names = ", ".join(f"{i} ({orgs[i]})" for i in waiting)
            raise MPCError(N_("timeout after {seconds} s; still running: party {names}").format(
                seconds=f"{timeout:.0f}", names=names))
        time.sleep(POLL_SECONDS)


if os.name != "posix":  # pragma: no cover
    raise ImportError("the MPC runner needs a POSIX system")
