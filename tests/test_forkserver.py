"""Parties forked from a warm server: as separate, as fresh and as well cleaned up as exec'ed parties.

The claim (sandbox/mpc/party.py, README): the fork server holds no secret and no randomness a party uses,
so forking changes nothing an attacker can exploit. Played as party 0 would: if two parties came out of
the fork with the same random state, party 0's own sharing polynomial would be party 1's too, and party
0 would read party 1's input off the one share it holds. The attack is run on real runs from the real
server (it must fail) and from a broken server whose randomness is seeded before the fork (it must win).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from sandbox.mpc import forkserver
from sandbox.mpc.forkserver import ForkServer, find_parties
from sandbox.mpc.runner import MPCError, run_mpc
from sandbox.mpc.transcript import read_transcript

pytestmark = pytest.mark.mpc

THREE = ["police", "kmar", "nla"]
FORMS = ["sexual", "labour", "criminal", "other"]
# What a careless warm start would do: a generator seeded once in the server, copied into every child.
BROKEN = (sys.executable, "-c", "import random, secrets; secrets.randbelow = random.Random(2024).randrange; "
          "from sandbox.mpc.party import serve_forks; serve_forks()")


def _own_counts(folder: Path, org: str) -> list[int]:
    """An organisation's records per form, from its own CSV (independent of the catalogue code)."""
    df = pd.read_csv(folder / f"{org}.csv", dtype=str, keep_default_na=False)
    counts = df["form"].str.split(";").explode().value_counts()
    return [int(counts.get(f, 0)) for f in FORMS]


def same_polynomial_attack(transcript: str) -> list[int]:
    """Party 0's guess of party 1's input, assuming party 1 drew the same sharing coefficients (t = 1).

    Party 0 knows its own input x0 and holds its own share s00 = x0 + c at point 1, so it knows c; if party
    1 used the same c, its share s01 = x1 + c gives x1 = s01 - c.
    """
    events = read_transcript(transcript)
    p = int(next(e for e in events if e["event"] == "start")["modulus"])
    x0 = next(e for e in events if e["event"] == "own_input" and e["label"] == "counts")["values"]
    shares = {e["owner"]: e["values"] for e in events if e["event"] == "shares" and e["label"] == "counts"}
    c = [(s - x) % p for s, x in zip(shares[0], x0, strict=True)]
    return [(s - ci) % p for s, ci in zip(shares[1], c, strict=True)]


def _run(scenario, folder: Path, out: Path):
    forkserver._end_spares()  # no warm spare from an earlier test: this run gets a server of its own
    result = run_mpc(scenario, folder, "counts-by-form", orgs=THREE, params={"min_cell": 0}, out_dir=out,
                     keep_warm=False)
    assert result.match is True
    return same_polynomial_attack(result.transcripts["police"])


def test_forked_parties_draw_their_own_randomness(scenario, small_data, tmp_path, monkeypatch):
    truth = _own_counts(small_data, "kmar")
    assert sum(truth) > 0
    real = _run(scenario, small_data, tmp_path / "real")
    assert sum(g == x for g, x in zip(real, truth, strict=True)) == 0  # each hit has chance 2^-64

    monkeypatch.setattr(ForkServer, "COMMAND", BROKEN)
    broken = _run(scenario, small_data, tmp_path / "broken")
    assert broken == truth  # the attack works when the randomness is shared


def test_no_process_outlives_a_killed_runner(scenario, small_data, tmp_path):
    """SIGKILL the process that started a run: its fork server and every party end within seconds."""
    code = (
        "import sys; from sandbox.scenario import load_scenario; from sandbox.mpc.runner import run_mpc\n"
        f"run_mpc(load_scenario('nl-baseline'), {str(small_data)!r}, 'capture-patterns', timeout=120)\n"
    )
    runner = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    mine: set[int] = set()
    while time.monotonic() < deadline and not mine:
        mine = {pid for pid, info in find_parties().items() if info["runner"] == runner.pid}
        time.sleep(0.05)
    assert mine, "the run's parties never started"
    servers = {find_parties()[pid]["ppid"] for pid in mine if pid in find_parties()}
    runner.send_signal(signal.SIGKILL)
    runner.wait(10)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and any(Path(f"/proc/{p}").exists() and not _zombie(p)
                                              for p in mine | servers):
        time.sleep(0.1)
    left = {p for p in mine | servers if Path(f"/proc/{p}").exists() and not _zombie(p)}
    assert left == set(), f"still running after the runner was killed: {sorted(left)}"


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return False


def test_exec_mode_still_works(scenario, small_data, monkeypatch):
    """MPC_SANDBOX_FORK=0: one interpreter per party, as before; the same opened numbers."""
    monkeypatch.setenv("MPC_SANDBOX_FORK", "0")
    execed = run_mpc(scenario, small_data, "counts-by-form", orgs=THREE, params={"min_cell": 0})
    monkeypatch.delenv("MPC_SANDBOX_FORK")
    forked = run_mpc(scenario, small_data, "counts-by-form", orgs=THREE, params={"min_cell": 0})
    assert execed.match is True and forked.match is True
    assert execed.revealed == forked.revealed == dict(zip(FORMS, [sum(c) for c in zip(
        *(_own_counts(small_data, o) for o in THREE), strict=True)], strict=True))
    assert json.dumps(execed.revealed) == json.dumps(forked.revealed)


def test_the_check_can_arrive_after_the_result(scenario, small_data):
    """check="later": the opened result returns at once; the plaintext check follows and still has to agree."""
    result = run_mpc(scenario, small_data, "counts-by-form", orgs=THREE, params={"min_cell": 0}, check="later")
    assert result.check in ("pending", "match")  # the check may already have landed
    assert result.finish_check(60).check == "match" and result.match is True
    assert result.check_seconds is not None and result.check_seconds >= 0
    by_hand = [sum(c) for c in zip(*(_own_counts(small_data, o) for o in THREE), strict=True)]
    assert result.revealed == dict(zip(FORMS, by_hand, strict=True)) == result.oracle
    assert _my_servers() == set()  # the check's thread closed the run's fork server


def test_a_bad_check_mode_is_refused(scenario, small_data):
    with pytest.raises(MPCError, match="check must be"):
        run_mpc(scenario, small_data, "counts-by-form", orgs=THREE, check="sometimes")


def _my_servers() -> set[int]:
    spares, out = forkserver.spare_pids(), set()
    for p in Path("/proc").iterdir():
        try:
            if p.name.isdigit() and "--fork-server" in (p / "cmdline").read_text().split("\0") and \
                    forkserver._ppid(int(p.name)) == os.getpid() and int(p.name) not in spares:
                out.add(int(p.name))
        except (OSError, ValueError):
            pass
    return out
