"""The live workshop room: shared state for one facilitator and one participant per organisation.

Everything lives in one embedded SQLite file (env MPC_SANDBOX_ROOMS, default in the system temp
folder), so a browser refresh or a second server thread sees the same room. Each call opens its own
short connection; writes use `BEGIN IMMEDIATE` (one writer at a time, others wait up to the busy
timeout) and WAL mode lets readers continue meanwhile.

The flow:
1. the facilitator opens a room and gets a short code plus a secret facilitator token;
2. each participant joins as ONE organisation and gets a participant token (one seat per
   organisation; the same token may rejoin after a refresh, anybody else is refused);
3. anyone in the room proposes a computation for three or more organisations;
4. every organisation in the proposal approves or rejects it; one rejection stops it;
5. when all approved, exactly one session claims the run, runs it and stores the result (a designed query
   first passes the differencing checks against the room's answered queries, sandbox/mpc/differencing.py;
   a refusal ends it as 'refused' without running);
6. the audit log records who did what, when, and what was revealed.

Pure: no Streamlit, no MPyC.
"""

from __future__ import annotations

import json
import os
import secrets
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sandbox.i18n import N_

__all__ = [
    "FACILITATOR",
    "AuditEntry",
    "NotAllowed",
    "Proposal",
    "Room",
    "RoomError",
    "RoomStore",
    "SeatTaken",
    "UnknownRoom",
    "rooms_path",
    "run_proposal",
]

CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: easy to read from a projector
CODE_LENGTH = 6
BUSY_SECONDS = 15.0
FACILITATOR = "facilitator"
MIN_PARTIES = 3

SCHEMA = """
CREATE TABLE IF NOT EXISTS rooms (
    code TEXT PRIMARY KEY, scenario TEXT NOT NULL, seed INTEGER NOT NULL, orgs TEXT NOT NULL,
    facilitator_token TEXT NOT NULL, created TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS seats (
    code TEXT NOT NULL REFERENCES rooms(code) ON DELETE CASCADE, org TEXT NOT NULL,
    token TEXT NOT NULL, joined TEXT NOT NULL, PRIMARY KEY (code, org));
CREATE TABLE IF NOT EXISTS proposals (
    id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL REFERENCES rooms(code) ON DELETE CASCADE,
    computation TEXT NOT NULL, orgs TEXT NOT NULL, params TEXT NOT NULL, proposed_by TEXT NOT NULL,
    created TEXT NOT NULL, status TEXT NOT NULL, result TEXT, error TEXT);
CREATE TABLE IF NOT EXISTS votes (
    proposal INTEGER NOT NULL REFERENCES proposals(id) ON DELETE CASCADE, org TEXT NOT NULL,
    approve INTEGER NOT NULL, at TEXT NOT NULL, PRIMARY KEY (proposal, org));
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, code TEXT NOT NULL REFERENCES rooms(code) ON DELETE CASCADE,
    at TEXT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL, detail TEXT NOT NULL);
"""


class RoomError(ValueError):
    """Something the user asked for is not possible; the message says why in plain language."""


class UnknownRoom(RoomError):
    pass


class SeatTaken(RoomError):
    pass


class NotAllowed(RoomError):
    pass


@dataclass
class Room:
    code: str
    scenario: str
    seed: int
    orgs: list[str]
    created: str
    facilitator_token: str = field(repr=False)


@dataclass
class Proposal:
    id: int
    computation: str
    orgs: list[str]
    params: dict[str, Any]
    proposed_by: str
    created: str
    status: str  # pending | approved | rejected | running | done | failed | refused (differencing)
    votes: dict[str, bool]  # org -> approved?
    result: dict[str, Any] | None = None
    error: str | None = None

    @property
    def waiting_for(self) -> list[str]:
        """Organisations that have not voted yet."""
        return [o for o in self.orgs if o not in self.votes]


@dataclass
class AuditEntry:
    id: int
    at: str
    actor: str
    action: str
    detail: str


def rooms_path() -> Path:
    env = os.environ.get("MPC_SANDBOX_ROOMS")
    return Path(env) if env else Path(tempfile.gettempdir()) / "mpc-sandbox-rooms.sqlite3"


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def _clean_code(code: str) -> str:
    return "".join(str(code).split()).upper()


class RoomStore:
    """All room operations. Cheap to create; every method opens and closes its own connection."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path else rooms_path()
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self._connection() as conn:
            conn.execute("PRAGMA journal_mode=WAL")
            conn.executescript(SCHEMA)

    # ------------------------------------------------------------------ connections
    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        conn = sqlite3.connect(self.path, timeout=BUSY_SECONDS, isolation_level=None)
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(BUSY_SECONDS * 1000)}")
            conn.execute("PRAGMA foreign_keys = ON")
            conn.row_factory = sqlite3.Row
            yield conn
        finally:
            conn.close()

    @contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One short write transaction; the write lock is taken at the start, so no upgrade deadlocks."""
        with self._connection() as conn:
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    @staticmethod
    def _log(conn: sqlite3.Connection, code: str, actor: str, action: str, detail: str = "") -> None:
        conn.execute("INSERT INTO audit (code, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)",
                     (code, _now(), actor, action, detail))

    @staticmethod
    def _room_row(conn: sqlite3.Connection, code: str) -> sqlite3.Row:
        row = conn.execute("SELECT * FROM rooms WHERE code = ?", (code,)).fetchone()
        if row is None:
            raise UnknownRoom(N_("there is no room with code {code!r}; check the code on the projector").format(
                code=code))
        return row

    @staticmethod
    def _actor(conn: sqlite3.Connection, room: sqlite3.Row, token: str | None) -> str:
        """Who holds this token: 'facilitator' or an organisation id."""
        if token and secrets.compare_digest(token, room["facilitator_token"]):
            return FACILITATOR
        row = conn.execute("SELECT org FROM seats WHERE code = ? AND token = ?", (room["code"], token)).fetchone()
        if row is None:
            raise NotAllowed(N_("you are not in this room (join it first)"))
        return row["org"]

    # ------------------------------------------------------------------ rooms and seats
    def open_room(self, scenario: str, seed: int, orgs: list[str]) -> Room:
        """Open a new room for the scenario's organisations; returns it with the facilitator token."""
        if len(set(orgs)) != len(orgs) or not orgs:
            raise RoomError(N_("a room needs a list of distinct organisations"))
        token = secrets.token_urlsafe(16)
        for _ in range(20):
            code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
            try:
                with self._write() as conn:
                    created = _now()
                    conn.execute("INSERT INTO rooms VALUES (?, ?, ?, ?, ?, ?)",
                                 (code, scenario, int(seed), json.dumps(orgs), token, created))
                    self._log(conn, code, FACILITATOR, "opened room",
                              f"scenario {scenario}, seed {seed}, organisations {', '.join(orgs)}")
                return Room(code, scenario, int(seed), list(orgs), created, token)
            except sqlite3.IntegrityError:
                continue  # the code exists already: draw another
        raise RoomError("could not find a free room code")  # pragma: no cover

    def room(self, code: str) -> Room:
        with self._connection() as conn:
            row = self._room_row(conn, _clean_code(code))
        return Room(row["code"], row["scenario"], row["seed"], json.loads(row["orgs"]), row["created"],
                    row["facilitator_token"])

    def who(self, code: str, token: str | None) -> str | None:
        """'facilitator', an organisation id, or None when the token is not (or no longer) in the room."""
        try:
            with self._connection() as conn:
                return self._actor(conn, self._room_row(conn, _clean_code(code)), token)
        except RoomError:
            return None

    def join(self, code: str, org: str, token: str | None = None) -> str:
        """Take the seat of `org`; returns the participant token. The same token may rejoin."""
        code = _clean_code(code)
        with self._write() as conn:
            room = self._room_row(conn, code)
            if org not in json.loads(room["orgs"]):
                raise RoomError(N_("{org!r} is not one of the organisations in room {code}").format(org=org, code=code))
            seat = conn.execute("SELECT token FROM seats WHERE code = ? AND org = ?", (code, org)).fetchone()
            if seat is not None:
                if token and secrets.compare_digest(token, seat["token"]):
                    self._log(conn, code, org, "rejoined")
                    return token
                self._log(conn, code, org, "join refused", "the seat was already taken by another browser")
                refused = True
            else:
                refused = False
                new_token = secrets.token_urlsafe(16)
                conn.execute("INSERT INTO seats VALUES (?, ?, ?, ?)", (code, org, new_token, _now()))
                self._log(conn, code, org, "joined")
        if refused:  # raised after the commit so that the refusal stays in the audit log
            raise SeatTaken(N_("the seat of {org} is already taken in room {code}; ask the facilitator "
                               "to free it if that browser is gone").format(org=org, code=code))
        return new_token

    def free_seat(self, code: str, org: str, facilitator_token: str) -> None:
        """The facilitator frees a seat (e.g. a participant closed the browser without the link)."""
        code = _clean_code(code)
        with self._write() as conn:
            if self._actor(conn, self._room_row(conn, code), facilitator_token) != FACILITATOR:
                raise NotAllowed(N_("only the facilitator can free a seat"))
            conn.execute("DELETE FROM seats WHERE code = ? AND org = ?", (code, org))
            self._log(conn, code, FACILITATOR, "freed seat", org)

    def seats(self, code: str) -> dict[str, str]:
        """Taken seats: organisation -> time joined."""
        with self._connection() as conn:
            rows = conn.execute("SELECT org, joined FROM seats WHERE code = ? ORDER BY joined",
                                (_clean_code(code),)).fetchall()
        return {r["org"]: r["joined"] for r in rows}

    def close_room(self, code: str, facilitator_token: str) -> None:
        """Delete the room with its seats, proposals, votes and audit log."""
        code = _clean_code(code)
        with self._write() as conn:
            if self._actor(conn, self._room_row(conn, code), facilitator_token) != FACILITATOR:
                raise NotAllowed(N_("only the facilitator can close the room"))
            conn.execute("DELETE FROM rooms WHERE code = ?", (code,))

    # ------------------------------------------------------------------ proposals and votes
    def propose(self, code: str, token: str, computation: str, orgs: list[str],
                params: dict[str, Any] | None = None) -> Proposal:
        code = _clean_code(code)
        if len(set(orgs)) < MIN_PARTIES or len(set(orgs)) != len(orgs):
            raise RoomError(N_("a proposal needs at least {n} different organisations: with two, "
                               "secret sharing hides nothing").format(n=MIN_PARTIES))
        if computation == "designed-query":  # checked now, so that every browser can show what it reveals
            from sandbox.mpc.query import QueryError, parse_query

            try:
                params = {**(params or {}), "query": parse_query((params or {}).get("query")).to_json()}
            except QueryError as exc:
                raise RoomError(N_("the designed query cannot run: {error}").format(error=exc)) from None
        with self._write() as conn:
            room = self._room_row(conn, code)
            actor = self._actor(conn, room, token)
            unknown = [o for o in orgs if o not in json.loads(room["orgs"])]
            if unknown:
                raise RoomError(N_("not in this room: {orgs}").format(orgs=", ".join(unknown)))
            cur = conn.execute(
                "INSERT INTO proposals (code, computation, orgs, params, proposed_by, created, status) "
                "VALUES (?, ?, ?, ?, ?, ?, 'pending')",
                (code, computation, json.dumps(orgs), json.dumps(params or {}), actor, _now()))
            pid = int(cur.lastrowid)
            what = f" {json.dumps((params or {})['query'], ensure_ascii=False)}" if (params or {}).get("query") else ""
            self._log(conn, code, actor, "proposed", f"#{pid} {computation}{what} for {', '.join(orgs)}")
        return self.proposal(code, pid)

    def vote(self, code: str, proposal_id: int, token: str, approve: bool) -> Proposal:
        """The organisation holding `token` approves or rejects; returns the updated proposal."""
        code = _clean_code(code)
        with self._write() as conn:
            org = self._actor(conn, self._room_row(conn, code), token)
            row = conn.execute("SELECT * FROM proposals WHERE id = ? AND code = ?", (proposal_id, code)).fetchone()
            if row is None:
                raise RoomError(N_("there is no proposal #{id} in this room").format(id=proposal_id))
            orgs = json.loads(row["orgs"])
            if org not in orgs:
                raise NotAllowed(N_("{org} is not part of proposal #{id}").format(org=org, id=proposal_id))
            if row["status"] != "pending":
                raise NotAllowed(N_("proposal #{id} is already {status}").format(id=proposal_id, status=row["status"]))
            if conn.execute("SELECT 1 FROM votes WHERE proposal = ? AND org = ?", (proposal_id, org)).fetchone():
                raise NotAllowed(N_("{org} has already voted on proposal #{id}").format(org=org, id=proposal_id))
            conn.execute("INSERT INTO votes VALUES (?, ?, ?, ?)", (proposal_id, org, int(bool(approve)), _now()))
            self._log(conn, code, org, "approved" if approve else "rejected", f"#{proposal_id} {row['computation']}")
            votes = dict(conn.execute("SELECT org, approve FROM votes WHERE proposal = ?", (proposal_id,)).fetchall())
            status = "pending"
            if not approve:
                status = "rejected"
                self._log(conn, code, "room", "proposal stopped", f"#{proposal_id}: rejected by {org}")
            elif all(votes.get(o) == 1 for o in orgs):
                status = "approved"
                self._log(conn, code, "room", "all approved", f"#{proposal_id} may run")
            conn.execute("UPDATE proposals SET status = ? WHERE id = ?", (status, proposal_id))
        return self.proposal(code, proposal_id)

    def claim_run(self, code: str, proposal_id: int) -> bool:
        """Atomically move an approved proposal to 'running'; True for exactly one caller."""
        code = _clean_code(code)
        with self._write() as conn:
            cur = conn.execute("UPDATE proposals SET status = 'running' WHERE id = ? AND code = ? "
                               "AND status = 'approved'", (proposal_id, code))
            if cur.rowcount == 1:
                self._log(conn, code, "room", "run started", f"#{proposal_id}")
                return True
        return False

    def finish_run(self, code: str, proposal_id: int, result: dict[str, Any]) -> None:
        code = _clean_code(code)
        shown = json.dumps(result.get("revealed"), ensure_ascii=False)
        if result.get("suppressed"):  # the small-cell flags are opened too
            shown += f"; below the threshold, never opened: {json.dumps(result['suppressed'], ensure_ascii=False)}"
        if len(shown) > 600:
            shown = shown[:600] + "…"
        with self._write() as conn:
            conn.execute("UPDATE proposals SET status = 'done', result = ? WHERE id = ? AND code = ?",
                         (json.dumps(result), proposal_id, code))
            self._log(conn, code, "room", "revealed", f"#{proposal_id} {result.get('computation', '')}: {shown}")

    def log(self, code: str, actor: str, action: str, detail: str = "") -> None:
        """Add one line to the room's audit log (e.g. a differencing check and its opened bit)."""
        with self._write() as conn:
            self._log(conn, _clean_code(code), actor, action, detail)

    def refuse_run(self, code: str, proposal_id: int, reason: str) -> None:
        """A claimed proposal that the differencing protection refused: it never runs."""
        code = _clean_code(code)
        with self._write() as conn:
            conn.execute("UPDATE proposals SET status = 'refused', error = ? WHERE id = ? AND code = ?",
                         (reason, proposal_id, code))
            self._log(conn, code, "room", "refused", f"#{proposal_id}: {reason}")

    def fail_run(self, code: str, proposal_id: int, error: str) -> None:
        code = _clean_code(code)
        with self._write() as conn:
            conn.execute("UPDATE proposals SET status = 'failed', error = ? WHERE id = ? AND code = ?",
                         (error, proposal_id, code))
            self._log(conn, code, "room", "run failed", f"#{proposal_id}: {error}")

    # ------------------------------------------------------------------ reading
    def proposals(self, code: str) -> list[Proposal]:
        code = _clean_code(code)
        with self._connection() as conn:
            rows = conn.execute("SELECT * FROM proposals WHERE code = ? ORDER BY id", (code,)).fetchall()
            votes: dict[int, dict[str, bool]] = {}
            for v in conn.execute("SELECT v.proposal, v.org, v.approve FROM votes v JOIN proposals p "
                                  "ON p.id = v.proposal WHERE p.code = ? ORDER BY v.at", (code,)):
                votes.setdefault(v["proposal"], {})[v["org"]] = bool(v["approve"])
        return [Proposal(id=r["id"], computation=r["computation"], orgs=json.loads(r["orgs"]),
                         params=json.loads(r["params"]), proposed_by=r["proposed_by"], created=r["created"],
                         status=r["status"], votes=votes.get(r["id"], {}),
                         result=json.loads(r["result"]) if r["result"] else None, error=r["error"])
                for r in rows]

    def proposal(self, code: str, proposal_id: int) -> Proposal:
        for p in self.proposals(code):
            if p.id == proposal_id:
                return p
        raise RoomError(f"there is no proposal #{proposal_id} in this room")

    def audit(self, code: str) -> list[AuditEntry]:
        with self._connection() as conn:
            rows = conn.execute("SELECT id, at, actor, action, detail FROM audit WHERE code = ? ORDER BY id",
                                (_clean_code(code),)).fetchall()
        return [AuditEntry(**dict(r)) for r in rows]


def run_proposal(store: RoomStore, code: str, proposal_id: int, *, cancel: threading.Event | None = None,
                 timeout: float = 180.0) -> dict[str, Any] | None:
    """Run a claimed proposal with real MPyC parties and store the result (or the error) in the room.

    Call `store.claim_run` first so that only one session runs it. Returns the stored result.
    """
    from sandbox.datasets import ensure_dataset
    from sandbox.mpc.runner import run_mpc
    from sandbox.scenario import load_scenario

    try:
        room = store.room(code)
        prop = store.proposal(code, proposal_id)
        scenario = load_scenario(room.scenario)
        folder = ensure_dataset(scenario, seed=room.seed)
        if prop.computation == "designed-query":
            run = _run_designed(store, code, prop, scenario, folder, cancel=cancel, timeout=timeout)
            if run is None:
                return None
        else:
            run = run_mpc(scenario, folder, prop.computation, orgs=prop.orgs, params=prop.params, nice=10,
                          cancel=cancel, timeout=timeout).to_json()
    except Exception as exc:  # stored and shown in the room; never a traceback
        store.fail_run(code, proposal_id, str(exc) or type(exc).__name__)
        return None
    # Keep what everyone may see; transcripts and the plaintext check stay out of the shared room.
    result = {k: run.get(k) for k in ("computation", "parties", "threshold", "revealed", "suppressed",
                                      "empty", "join_opened", "match", "seconds", "bytes_sent")}
    store.finish_run(code, proposal_id, result)
    return result


def _run_designed(store: RoomStore, code: str, prop: Proposal, scenario: Any, folder: Any, *,
                  cancel: threading.Event | None, timeout: float) -> dict[str, Any] | None:
    """A designed query of the room: first the differencing checks against every designed query the room
    has answered on the same organisations (each check opens one bit, written to the audit log), then the
    query. Returns the run, or None when a check refused it (the proposal is then 'refused')."""
    from sandbox.mpc.differencing import REFUSAL_TELLS, run_designed_query

    earlier = [(f"#{p.id}", p.params["query"]) for p in store.proposals(code)
               if p.computation == "designed-query" and p.status == "done" and p.id != prop.id
               and sorted(p.orgs) == sorted(prop.orgs) and p.params.get("query")]
    outcome = run_designed_query(scenario, folder, prop.params["query"], orgs=prop.orgs, earlier=earlier,
                                 min_cell=scenario.disclosure.min_cell, nice=10, cancel=cancel, timeout=timeout)
    for check in outcome.checks:
        store.log(code, "room", "differencing check",
                  f"#{prop.id} against {check.earlier_label}: {'approved' if check.approved else 'refused'} "
                  "(one bit opened inside MPC)")
    refused = outcome.refused_by
    if refused is not None:
        store.refuse_run(code, prop.id, N_("its answer would differ from {label}'s by too few records. {detail}"
                                           ).format(label=refused.earlier_label, detail=REFUSAL_TELLS))
        return None
    run = outcome.run
    store.log(code, "room", "ran", f"#{prop.id} designed-query {json.dumps(outcome.query, ensure_ascii=False)} "
              f"for {', '.join(prop.orgs)}, threshold t = {run.get('threshold')}")
    return run
