"""The MPC runner with real MPyC processes, against the plaintext oracle."""

from __future__ import annotations

import json
import os
import signal
import threading
import time
from pathlib import Path

import pandas as pd
import pytest

from sandbox.mpc import computations
from sandbox.mpc.forkserver import find_parties
from sandbox.mpc.runner import MPCError, free_ports, run_mpc, run_plain
from sandbox.mpc.transcript import read_transcript

pytestmark = pytest.mark.mpc


def _party_pids(data_dir: Path | None = None) -> set[int]:
    """Party processes running now (forked or exec'ed); with `data_dir`, only those whose plan reads a file
    from that folder (so parties of other runs on the same machine are never touched or counted)."""
    out = set()
    for pid, info in find_parties().items():
        try:
            if data_dir is not None and not json.loads(Path(info["plan"]).read_text())["csv"].startswith(str(data_dir)):
                continue
        except (OSError, ValueError, KeyError):
            continue
        out.add(pid)
    return out


def _orphans() -> set[int]:
    """Party processes whose job folder is gone (their run is over, so they should not exist), and fork
    servers of this test process still running after their run."""
    time.sleep(0.2)
    out = set()
    for pid in _party_pids():
        try:
            if os.readlink(f"/proc/{pid}/cwd").endswith(" (deleted)"):
                out.add(pid)
        except OSError:
            pass
    return out | _my_fork_servers()


def _my_fork_servers() -> set[int]:
    """Fork servers this test process started that are not a warm spare waiting for the next run."""
    from sandbox.mpc.forkserver import spare_pids

    out, spares = set(), spare_pids()
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and "--fork-server" in (p / "cmdline").read_text().split("\0") and \
                    int((p / "stat").read_text().rsplit(")", 1)[1].split()[1]) == os.getpid() and \
                    int(p.name) not in spares:
                out.add(int(p.name))
        except (OSError, ValueError):
            pass
    return out


def _party_index(pid: int) -> int | None:
    info = find_parties().get(pid)
    return None if info is None else info["index"]


def test_counts_by_form_matches_oracle(scenario, small_data, tmp_path):
    result = run_mpc(scenario, small_data, "counts-by-form", out_dir=tmp_path / "run", params={"min_cell": 0})
    assert result.match is True
    expected = run_plain(scenario, small_data, "counts-by-form", params={"min_cell": 0})["revealed"]
    assert result.revealed == expected
    # the pooled count by hand, independent of the catalogue code
    pooled = pd.concat([pd.read_csv(small_data / f"{o}.csv", dtype=str) for o in scenario.org_ids])
    by_hand = pooled["form"].str.split(";").explode().value_counts().to_dict()
    assert result.revealed == {f: by_hand.get(f, 0) for f in ("sexual", "labour", "criminal", "other")}
    assert result.threshold == 2 and len(result.parties) == 6
    assert all(v > 0 for v in result.bytes_sent.values())
    assert result.rounds > 0


def test_transcripts_hold_own_inputs_shares_messages_and_outputs(scenario, small_data, tmp_path):
    result = run_mpc(scenario, small_data, "counts-by-form", out_dir=tmp_path / "run", orgs=scenario.org_ids[:3])
    for org in result.parties:
        events = read_transcript(result.transcripts[org])
        kinds = {e["event"] for e in events}
        assert {"start", "own_input", "shares", "message", "opened", "end"} <= kinds
        start = next(e for e in events if e["event"] == "start")
        assert start["org"] == org and start["t"] == 1 and start["m"] == 3
        shares = [e for e in events if e["event"] == "shares"]
        assert sorted(e["owner"] for e in shares) == [0, 1, 2]
        sent = sum(e["bytes"] for e in events if e["event"] == "message" and e["dir"] == "sent")
        assert sent == result.bytes_sent[org]


def test_shamir_shares_from_two_transcripts_reconstruct_inputs(scenario, small_data, tmp_path):
    """t+1 = 2 of 3 parties' shares give back every input exactly (evaluation points are pid + 1)."""
    result = run_mpc(scenario, small_data, "counts-by-form", out_dir=tmp_path / "run", orgs=scenario.org_ids[:3])
    ev = {o: read_transcript(p) for o, p in result.transcripts.items()}
    p = int(next(e for e in ev["police"] if e["event"] == "start")["modulus"])
    own = {o: next(e for e in ev[o] if e["event"] == "own_input")["values"] for o in result.parties}
    held = {o: {e["owner"]: e["values"] for e in ev[o] if e["event"] == "shares"} for o in result.parties}
    x1, x2 = 1, 2  # police and kmar
    for owner, org in enumerate(result.parties):
        for idx, value in enumerate(own[org]):
            y1, y2 = held["police"][owner][idx], held["kmar"][owner][idx]
            secret = (y1 * x2 * pow(x2 - x1, -1, p) + y2 * x1 * pow(x1 - x2, -1, p)) % p
            assert secret == value


def test_small_cells_are_suppressed_inside_mpc(scenario, small_data, tmp_path):
    orgs = scenario.org_ids[:3]
    plain = run_plain(scenario, small_data, "counts-by-form", params={"min_cell": 0}, orgs=orgs)["revealed"]
    values = sorted(plain.values())
    min_cell = values[1] + 1  # at least two cells fall below, the largest stays above
    assert values[-1] >= min_cell
    result = run_mpc(scenario, small_data, "counts-by-form", orgs=orgs, params={"min_cell": min_cell},
                     out_dir=tmp_path / "run")
    assert result.match is True
    hidden = {c for c, v in plain.items() if 0 < v < min_cell}
    assert hidden and set(result.suppressed) == hidden
    assert all(result.revealed[c] is None for c in hidden)
    # The small values never appear among any party's opened outputs.
    for path in result.transcripts.values():
        opened = [e for e in read_transcript(path) if e["event"] == "opened" and e["label"] == "totals"]
        assert opened and all(v is None or v >= min_cell for v in opened[0]["values"])


@pytest.mark.parametrize("m", [3, 5, 6])
def test_catalogue_aggregates_match_for_3_5_6_parties(scenario, small_data, m):
    for name in ("counts-by-form", "crosstab-region-form"):
        result = run_mpc(scenario, small_data, name, orgs=scenario.org_ids[:m])
        assert result.match is True, name


def test_invalid_threshold_and_too_few_parties(scenario, small_data):
    with pytest.raises(MPCError, match="threshold 2 is not valid for 3 parties"):
        run_mpc(scenario, small_data, "counts-by-form", orgs=scenario.org_ids[:3], threshold=2)
    with pytest.raises(MPCError, match="at least 3 parties"):
        run_mpc(scenario, small_data, "counts-by-form", orgs=scenario.org_ids[:2])


@pytest.mark.parametrize("bad", [-1, -0.5, 1.5, float("nan"), float("inf"), True, "5", None])
def test_min_cell_must_be_a_whole_number_of_0_or_more(scenario, small_data, bad):
    orgs = scenario.org_ids[:3]
    message = f"min_cell must be a whole number of 0 or more, not {bad!r}"
    with pytest.raises(MPCError) as plain:
        run_plain(scenario, small_data, "counts-by-form", params={"min_cell": bad}, orgs=orgs)
    assert str(plain.value) == message
    with pytest.raises(MPCError) as mpc:  # refused before any party process starts
        run_mpc(scenario, small_data, "counts-by-form", params={"min_cell": bad}, orgs=orgs, timeout=5)
    assert str(mpc.value) == message


def test_min_cell_as_a_whole_float_counts_as_that_number(scenario, small_data):
    orgs = scenario.org_ids[:3]
    plain = run_plain(scenario, small_data, "counts-by-form", params={"min_cell": 0}, orgs=orgs)["revealed"]
    cut = sorted(plain.values())[1] + 1  # at least two cells fall below
    as_float = run_plain(scenario, small_data, "counts-by-form", params={"min_cell": float(cut)}, orgs=orgs)
    assert [c for c, v in as_float["revealed"].items() if v is None] == [c for c, v in plain.items() if 0 < v < cut]


def test_wrong_columns_give_a_clear_error_naming_the_file(scenario, small_data):
    df = pd.read_csv(small_data / "kmar.csv", dtype=str).drop(columns=["form"])
    df.to_csv(small_data / "kmar.csv", index=False)
    with pytest.raises(MPCError) as err:
        run_mpc(scenario, small_data, "counts-by-form", orgs=scenario.org_ids[:3], timeout=30)
    assert err.value.org == "kmar" and "kmar.csv" in str(err.value) and "form" in str(err.value)


def test_killed_party_is_named_within_10_seconds_and_nothing_is_left(scenario, tmp_path):
    from tests.conftest import write_small_dataset

    data = write_small_dataset(tmp_path / "big", seed=3, low=3000, high=4000)
    victim: dict[str, int] = {}

    def killer():
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            for pid in _party_pids(data):
                if _party_index(pid) == 1:
                    os.kill(pid, signal.SIGSTOP)  # held: the run cannot finish before the kill, however fast it is
                    time.sleep(0.8)  # let the other parties get going and wait for it
                    os.kill(pid, signal.SIGKILL)
                    victim["pid"] = pid
                    return
            time.sleep(0.05)

    thread = threading.Thread(target=killer)
    thread.start()
    t0 = time.monotonic()
    with pytest.raises(MPCError) as err:
        run_mpc(scenario, data, "crosstab-form-sector", orgs=scenario.org_ids[:3], timeout=60)
    elapsed = time.monotonic() - t0
    thread.join()
    assert "pid" in victim
    assert err.value.party == 1 and err.value.org == "kmar"
    assert "kmar" in str(err.value)
    assert elapsed < 10 + 5  # named within 10 s of the kill (kill happens ~1-3 s in)
    assert _party_pids(data) == set() and _orphans() == set()


def test_stopped_party_is_caught_by_the_timeout(scenario, small_data):
    done = threading.Event()

    def stopper():
        while not done.is_set():
            for pid in _party_pids(small_data):
                if _party_index(pid) == 2:
                    os.kill(pid, signal.SIGSTOP)
                    return
            time.sleep(0.01)

    thread = threading.Thread(target=stopper)
    thread.start()
    with pytest.raises(MPCError) as err:
        run_mpc(scenario, small_data, "counts-by-form", orgs=scenario.org_ids[:3], timeout=6)
    done.set()
    thread.join()
    assert err.value.party == 2 and "stalled" in str(err.value)
    assert _party_pids(small_data) == set() and _orphans() == set()


def test_a_stopped_party_is_named_even_when_a_peer_gives_up_first(tmp_path):
    """A party's own watchdog starts before the runner's deadline, so a peer can exit on its timeout
    while the culprit is still stopped; the stopped one must be named (seen in CI, seed 60304)."""
    import subprocess
    import sys

    from sandbox.mpc.party import EXIT_TIMEOUT
    from sandbox.mpc.runner import _watch

    gives_up = subprocess.Popen([sys.executable, "-c", f"import time, sys; time.sleep(0.3); sys.exit({EXIT_TIMEOUT})"])
    stalled = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    os.kill(stalled.pid, signal.SIGSTOP)
    started = time.monotonic()
    with pytest.raises(MPCError) as err:
        _watch([gives_up, stalled], ["police", "nla"], tmp_path, timeout=20, cancel=None)
    assert err.value.party == 1 and err.value.org == "nla" and "stalled" in str(err.value)
    assert "party 0 (police) gave up waiting" in str(err.value)
    assert time.monotonic() - started < 5, "named at once, not after the runner's own timeout"
    assert stalled.poll() is not None and gives_up.poll() is not None


def test_ports_are_distinct_and_free():
    ports = free_ports(7)
    assert len(set(ports)) == 7


def test_cancel_stops_all_parties(scenario, tmp_path):
    from tests.conftest import write_small_dataset

    data = write_small_dataset(tmp_path / "big", seed=4, low=3000, high=4000)
    cancel = threading.Event()

    def cancel_mid_run():
        """Once the parties run, stop one of them (so the run cannot finish first, however fast it is), then
        cancel: the runner must end every party, the stopped one included."""
        deadline = time.monotonic() + 30
        while not (pids := _party_pids(data)) and time.monotonic() < deadline:
            time.sleep(0.02)
        if pids:
            os.kill(min(pids), signal.SIGSTOP)
        cancel.set()

    threading.Thread(target=cancel_mid_run, daemon=True).start()
    with pytest.raises(MPCError, match="cancelled"):
        run_mpc(scenario, data, "crosstab-form-sector", orgs=scenario.org_ids[:3], cancel=cancel, timeout=60)
    assert _party_pids(data) == set() and _orphans() == set()


def test_catalogue_lists_leakage_for_every_computation():
    for name in computations.names():
        c = computations.get(name)
        assert c.reveals and c.summary and c.title


def test_result_json_written(scenario, small_data, tmp_path):
    out = tmp_path / "run"
    run_mpc(scenario, small_data, "counts-by-form", orgs=scenario.org_ids[:3], out_dir=out)
    saved = json.loads((out / "result.json").read_text())
    assert saved["match"] is True and saved["computation"] == "counts-by-form"


def test_a_party_of_another_run_is_refused(scenario, small_data, tmp_path):
    """Two runs that clash on a port must fail with a clear message, never compute a mixed result."""
    import subprocess
    import sys

    orgs = scenario.org_ids[:3]
    comp = computations.get("counts-by-form")
    params = {"min_cell": scenario.disclosure.min_cell, "orgs": orgs}
    ports = free_ports(3)
    procs = []
    for i, org in enumerate(orgs):
        plan = {"computation": "counts-by-form", "pid": i, "orgs": orgs,
                "csv": str(small_data / f"{org}.csv"), "cells": comp.cells(params),
                "input_bits": comp.input_bits, "params": params,
                "transcript": str(tmp_path / f"t{i}.jsonl"), "result": str(tmp_path / f"r{i}.json"),
                "timeout": 30, "listen_host": "127.0.0.1",
                "run_id": "run-a" if i < 2 else "run-b"}  # party 2 was started by another run
        (tmp_path / f"plan{i}.json").write_text(json.dumps(plan))
        addresses = [a for p in ports for a in ("-P", f"127.0.0.1:{p}")]
        procs.append(subprocess.Popen(
            [sys.executable, "-m", "sandbox.mpc.party", "--plan", str(tmp_path / f"plan{i}.json"),
             "-M", "3", "-I", str(i), "-T", "1", *addresses, "--no-log"],
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    errs = []
    for p in procs:
        _, err = p.communicate(timeout=60)
        errs.append((p.returncode, err))
    for i, (code, err) in enumerate(errs):
        assert code != 0, f"party {i} finished a run mixed with another run's party"
        assert "PARTY-ERROR" in err, err  # "belongs to another run", or the connection its peer closed on it
        assert not (tmp_path / f"r{i}.json").exists()
    # whoever completes the exchange first names the stranger; the others may only see that peer leave
    assert any("party 2 belongs to another run" in err for _, err in errs[:2]) or \
        "belongs to another run" in errs[2][1], errs


def test_check_runs_in_its_own_process_and_reports_own_counts(scenario, small_data, tmp_path):
    """The plaintext check and each organisation's own slice come from the check process, not the caller.

    The own slice (pandas, in the check process) must equal what each party actually secret-shared, as its
    own transcript logs it (the party's own preparation code): two independent derivations.
    """
    from sandbox.mpc.transcript import read_transcript

    orgs = scenario.org_ids[:3]
    r = run_mpc(scenario, small_data, "counts-by-form", orgs=orgs, params={"min_cell": 0}, out_dir=tmp_path)
    assert r.match and r.oracle == run_plain(scenario, small_data, "counts-by-form", orgs=orgs,
                                             params={"min_cell": 0})["revealed"]
    for org in orgs:
        own = next(e for e in read_transcript(r.transcripts[org]) if e["event"] == "own_input")
        assert r.own_counts[org] == dict(zip(own["cells"], own["values"], strict=True)), org
    unchecked = run_mpc(scenario, small_data, "counts-by-form", orgs=orgs, check=False)
    assert unchecked.match is None and unchecked.oracle is None and unchecked.own_counts is None


@pytest.mark.skipif(not Path("/proc/self/autogroup").exists(), reason="kernel without autogroup scheduling")
def test_nice_parties_share_the_callers_scheduling_group(scenario, tmp_path):
    """With autogroup scheduling, Linux shares the CPU fairly between sessions: a party in a session of its
    own would get as much CPU as the whole web server whatever its nice value. The app's parties (nice 19)
    must stay in the caller's group, where their nice value counts."""
    from tests.conftest import write_small_dataset

    data = write_small_dataset(tmp_path / "d", seed=4, low=1500, high=2000)
    seen: dict[int, tuple[str, int]] = {}
    done = threading.Event()

    def watch():
        while not done.is_set():
            for pid in _party_pids(data):
                try:
                    group = _autogroup(pid)
                    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
                    session, nice = int(stat[3]), int(stat[16])
                except (OSError, IndexError, ValueError):
                    continue
                if nice == 19:  # the party has applied its plan's nice value
                    seen[pid] = (group, session)
            time.sleep(0.02)

    thread = threading.Thread(target=watch)
    thread.start()
    try:
        r = run_mpc(scenario, data, "age-statistics", orgs=scenario.org_ids[:3], nice=19, check=False)
    finally:
        done.set()
        thread.join()
    assert r.revealed
    assert len(seen) == 3, seen
    # A new session would mean a new autogroup. Where this process is in no autogroup of its own (a container's
    # cgroup, or a daemon's root group, whose /proc file is empty) the session id still tells.
    assert {session for _, session in seen.values()} == {os.getsid(0)}, seen
    assert {group for group, _ in seen.values()} == {_autogroup(os.getpid())}, seen


def _autogroup(pid: int) -> str:
    """The autogroup ("/autogroup-N") of a process; "" when it is in the root group (the file is then empty)."""
    text = Path(f"/proc/{pid}/autogroup").read_text().split()
    return text[0] if text else ""
