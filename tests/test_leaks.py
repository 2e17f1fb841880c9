"""Leak checks: no organisation sees another's data, nothing is left on disk, nothing listens beyond 127.0.0.1.

* every catalogue computation on generated data (3 organisations): no party's transcript holds another
  party's own input vector among its shares, no other party's linkage key appears anywhere in it, the
  opened outputs equal the result, and the runner's job folder is gone afterwards;
* MPyC parties listen on 127.0.0.1 only (LISTEN sockets of the party processes during a run);
* the app binds to 127.0.0.1 by default (config, Makefile, and a real `streamlit run` without flags);
* an uploaded file stays in the session of the user who uploaded it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

import pytest

from sandbox.mpc import computations
from sandbox.mpc.forkserver import find_parties
from sandbox.mpc.runner import MPCError, run_mpc, values_match
from sandbox.mpc.transcript import read_transcript

ROOT = Path(__file__).resolve().parents[1]
KEY_BITS_THRESHOLD = 2**40  # vectors of integers this large are linkage keys, not counts
PARAMS = {"query-approval": {"region": "amsterdam", "exclude_nationality": None,
                             "differs_from": {"region": "rotterdam", "exclude_nationality": None}},
          "designed-query": {"query": {"group_by": ["form", "sex"], "where": {"region": ["amsterdam"]}}}}
# the differencing check of two designed queries (sandbox/mpc/differencing.py): also per-cell differences
DESIGNED_APPROVAL = {"query": {"group_by": ["form"], "where": {"region": ["amsterdam", "rotterdam"]}},
                     "differs_from_query": {"group_by": ["form"], "where": {"region": ["amsterdam"]}}, "min_cell": 2}
CASES = [(n, PARAMS.get(n)) for n in computations.names()] + [("query-approval", DESIGNED_APPROVAL)]
CASE_IDS = computations.names() + ["query-approval-designed"]


def _own_inputs(events: list[dict]) -> dict[str, list[int]]:
    return {e["label"]: e["values"] for e in events if e["event"] == "own_input"}


def _opened_payloads(events: list[dict]) -> list:
    """What was opened to every party alike (results and leaks; not subset permutations or own slices)."""
    return [e["values"] for e in events if e["event"] == "opened" and e.get("role") in ("result", "leak")]


def _as_opened(revealed):
    return list(revealed.values()) if isinstance(revealed, dict) else revealed


def _opened_equals_result(payload, revealed) -> bool:
    """Does one opened output equal the run's result? (cells in order; pattern lists hold the non-zero cells)"""
    if isinstance(payload, dict):
        return values_match(payload, revealed) or values_match(list(payload.values()), _as_opened(revealed))
    if isinstance(revealed, list) and revealed and all(isinstance(r, dict) and "count" in r for r in revealed):
        return isinstance(payload, list) and [v for v in payload if v] == [r["count"] for r in revealed]
    return values_match(payload, _as_opened(revealed))


# ----------------------------------------------------------------------------- every computation

@pytest.fixture
def private_tmp(tmp_path, monkeypatch) -> Path:
    """The system temp folder of this test only, so other runs on the machine do not disturb the check."""
    d = tmp_path / "systmp"
    d.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(d))
    return d


@pytest.mark.mpc
@pytest.mark.parametrize("name, params", CASES, ids=CASE_IDS)
def test_no_party_sees_another_partys_inputs(name, params, scenario, generated, tmp_path, private_tmp):
    orgs = scenario.org_ids[:3]
    out = tmp_path / "run"
    result = run_mpc(scenario, generated, name, orgs=orgs, out_dir=out, timeout=300, params=params)
    assert result.match is True, f"{name}: MPC {result.revealed} != oracle {result.oracle}"
    assert not list(private_tmp.glob("mpc-sandbox-job-*")), "the runner's job folder survived the run"

    events = {o: read_transcript(result.transcripts[o]) for o in orgs}
    own = {o: _own_inputs(events[o]) for o in orgs}
    assert all(own[o] for o in orgs), "every party logs its own inputs"
    for i, owner in enumerate(orgs):
        own_vectors = [v for v in own[owner].values() if v]
        owner_keys = {v for vec in own_vectors for v in vec if v >= KEY_BITS_THRESHOLD}
        for viewer in orgs:
            if viewer == owner:
                continue
            held = [e for e in events[viewer] if e["event"] == "shares" and e["owner_org"] == owner]
            for e in held:  # value by value: a share equal to the plaintext it hides (chance: n / p)
                plain = own[owner][e["label"]]
                same = [k for k, (a, b) in enumerate(zip(e["values"], plain, strict=False)) if a == b]
                assert not same, f"{name}: {viewer}'s shares of {owner}'s {e['label']!r} equal the plaintext at {same}"
            # Linkage keys: none of the owner's keys that the viewer does not hold itself may appear anywhere.
            viewer_keys = {v for vec in own[viewer].values() for v in vec}
            foreign = owner_keys - viewer_keys
            if foreign:
                text = Path(result.transcripts[viewer]).read_text()
                found = [k for k in foreign if str(k) in text or f"{k:016x}" in text]
                assert not found, f"{name}: {len(found)} of {owner}'s keys appear in {viewer}'s transcript"
        if i == 0:
            assert any(e["event"] == "shares" for e in events[owner]), f"{name}: no shares logged at all"

    expected = _as_opened(result.revealed)
    for o in orgs:
        opened = _opened_payloads(events[o])
        assert opened, f"{name}: nothing opened to {o}"
        assert any(_opened_equals_result(p, result.revealed) for p in opened), (
            f"{name}: the outputs opened to {o} do not contain the result {expected}")
    first = _opened_payloads(events[orgs[0]])
    assert all(_opened_payloads(events[o]) == first for o in orgs), f"{name}: parties opened different outputs"


@pytest.mark.mpc
def test_job_folder_is_removed_after_a_failed_run_and_run_folder_is_private(scenario, small_data, private_tmp):
    (small_data / "kmar.csv").write_text("not,a,records,file\n1,2,3,4\n")
    with pytest.raises(MPCError):
        run_mpc(scenario, small_data, "counts-by-form", orgs=scenario.org_ids[:3], timeout=30)
    assert not list(private_tmp.glob("mpc-sandbox-job-*"))
    # Without out_dir the transcripts stay (the Party views page reads them) in a folder only we can read.
    result = run_mpc(scenario, small_data, "counts-by-form", orgs=["police", "nla", "shelters"], timeout=60)
    assert not list(private_tmp.glob("mpc-sandbox-job-*"))
    run_dir = Path(result.out_dir)
    assert run_dir.parent == private_tmp and run_dir.name.startswith("mpc-sandbox-run-")
    assert run_dir.stat().st_mode & 0o077 == 0, "the run folder is readable by other local users"


# ----------------------------------------------------------------------------- sockets

def _listen_sockets() -> dict[int, tuple[str, int]]:
    """inode -> (local address, port) of every LISTEN socket (IPv4 and IPv6)."""
    out = {}
    for table, family in (("/proc/net/tcp", 4), ("/proc/net/tcp6", 6)):
        try:
            lines = Path(table).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if f[3] != "0A":
                continue
            addr_hex, port_hex = f[1].rsplit(":", 1)
            if family == 4:
                addr = socket.inet_ntop(socket.AF_INET, bytes.fromhex(addr_hex)[::-1])
            else:
                raw = bytes.fromhex(addr_hex)
                addr = socket.inet_ntop(socket.AF_INET6, b"".join(raw[i:i + 4][::-1] for i in range(0, 16, 4)))
            out[int(f[9])] = (addr, int(port_hex, 16))
    return out


def _socket_inodes(pid: int) -> set[int]:
    inodes = set()
    try:
        for fd in Path(f"/proc/{pid}/fd").iterdir():
            try:
                target = os.readlink(fd)
            except OSError:
                continue
            if target.startswith("socket:["):
                inodes.add(int(target[8:-1]))
    except OSError:
        pass
    return inodes


def _listening_addresses(pid: int) -> list[tuple[str, int]]:
    table = _listen_sockets()
    return [table[i] for i in _socket_inodes(pid) if i in table]


def _my_party_pids() -> list[int]:
    """Parties started by this test process (through its fork server, or exec'ed by it)."""
    me = os.getpid()
    return [pid for pid, info in find_parties().items() if info["runner"] == me]


@pytest.mark.mpc
def test_mpyc_parties_listen_on_127_0_0_1_only(scenario, generated):
    seen: dict[int, list[tuple[str, int]]] = {}
    done = threading.Event()

    def watch():
        """Look at each party while it is stopped (SIGSTOP): a fast run cannot close its sockets between two
        looks, and a party cannot finish before it has been seen listening (or has gone)."""
        while not done.is_set():
            for pid in _my_party_pids():
                if pid in seen:
                    continue
                try:
                    os.kill(pid, signal.SIGSTOP)
                except ProcessLookupError:
                    continue
                try:
                    addrs = _listening_addresses(pid)
                    if addrs:
                        seen[pid] = sorted(set(addrs))
                finally:
                    os.kill(pid, signal.SIGCONT)
            time.sleep(0.002)

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    try:
        result = run_mpc(scenario, generated, "crosstab-form-sector", orgs=scenario.org_ids[:3], timeout=120)
    finally:
        done.set()
        thread.join()
    assert result.match
    assert seen, "no listening party socket was observed during the run"
    addresses = {a for addrs in seen.values() for a, _ in addrs}
    assert addresses == {"127.0.0.1"}, f"parties listened on {addresses}"


def test_app_binds_to_loopback_by_default_in_config_and_makefile():
    import tomllib

    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["server"]["address"] == "127.0.0.1"
    make = (ROOT / "Makefile").read_text()
    run_target = make.split("\nrun:", 1)[1].split("\n\n", 1)[0]
    assert "--server.address 127.0.0.1" in run_target


def _non_loopback_ipv4() -> str | None:
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.connect(("192.0.2.123", 9))  # no packet is sent; picks the outgoing interface
            addr = s.getsockname()[0]
    except OSError:
        return None
    return None if addr.startswith("127.") else addr


def test_streamlit_run_with_only_the_repo_config_listens_on_loopback_only(tmp_path):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMLIT_")}
    env.update(HOME=str(tmp_path), MPC_SANDBOX_DATA=str(tmp_path / "data"))  # no ~/.streamlit config
    log = (tmp_path / "streamlit.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "sandbox/app.py", "--server.port", str(port)],
                            cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, (tmp_path / "streamlit.log").read_text()
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as r:
                    if r.read() == b"ok":
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "streamlit did not start"
            time.sleep(0.2)
        listening = [a for a in _listening_addresses(proc.pid) if a[1] == port]
        assert listening and {a for a, _ in listening} == {"127.0.0.1"}, listening
        other = _non_loopback_ipv4()
        if other:
            with pytest.raises(OSError), socket.create_connection((other, port), timeout=2):
                pass
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


# ----------------------------------------------------------------------------- uploads

UPLOAD = (b"police,shelter,inspectorate,count\n1,0,0,4201\n0,1,0,3907\n0,0,1,2003\n1,1,0,311\n1,0,1,97\n"
          b"0,1,1,53\n1,1,1,7\n")
MARKER = b"4201"


def _files_under(folder: Path) -> set[Path]:
    return {p for p in folder.rglob("*") if p.is_file()}


def test_an_upload_stays_in_the_uploaders_session(tmp_path, monkeypatch, private_tmp):
    from streamlit.testing.v1 import AppTest

    page = str(ROOT / "sandbox" / "app_pages" / "size_estimate.py")
    monkeypatch.chdir(tmp_path)
    before_tmp = _files_under(private_tmp)
    t0 = time.time()

    alice = AppTest.from_file(page, default_timeout=60).run()
    bob = AppTest.from_file(page, default_timeout=60).run()
    assert not alice.exception and not bob.exception
    alice.radio(key="mse_source").set_value("Upload a CSV").run()
    alice.get("file_uploader")[0].set_value(("alice-counts.csv", UPLOAD, "text/csv")).run()
    assert not alice.exception
    alice_text = str(alice.main)
    assert "Upload a file to continue" not in alice_text

    bob.radio(key="mse_source").set_value("Upload a CSV").run()
    assert not bob.exception
    uploader = bob.get("file_uploader")[0]
    assert not uploader.value, "Bob's session sees Alice's upload"
    assert any("Upload a file to continue" in i.value for i in bob.info)
    assert bob.session_state["mse_upload"] is None
    assert "alice" not in repr(bob.session_state).lower() and "4201" not in str(bob.main)

    # Nothing of the upload was written to disk: temp folder, working folder, the repository.
    assert _files_under(private_tmp) == before_tmp
    written = [p for p in _files_under(tmp_path) if p.stat().st_mtime >= t0 and MARKER in p.read_bytes()]
    written += [p for p in ROOT.rglob("*.csv") if ".venv" not in p.parts and p.stat().st_mtime >= t0
                and MARKER in p.read_bytes()]
    assert not written, f"the upload was written to {written}"
