"""Per-party transcripts: JSON lines written by each party process, read by the views.

Event kinds (field `event`):

* `start`       — party index, organisation, number of parties m, threshold t, field modulus
* `own_input`   — this organisation's own prepared values, in the clear (they never leave it)
* `shares`      — for one secret-shared value vector: the owner and the field elements THIS party holds
* `public`      — public constants that take the place of shares (e.g. which organisation sent which
                  block of records): every party holds the same value, nothing is hidden
* `message`     — one protocol message: direction, peer, program counter, bytes, payload preview
* `opened`      — a value this party saw in the clear other than its own input, with a `role`:
                  `result`  the agreed output;
                  `leak`    revealed by design beyond the output (list sizes, pseudonyms, small-cell
                            flags, approval bits) -- see each computation's `reveals` text;
                  `masked`  opened but uniformly random by construction (a value plus a secret mask);
                  `subset`  received in the clear by the members of one subset of parties only
                            (the shuffle's permutations)
* `end`         — timings, byte and message counts

Every vector event (`own_input`, `shares`, `public`, `opened` with a list) carries `cells`: the name of
each value, in order, so that views never guess which value is which.

This module is pure Python: the party program calls `Recorder`, the app reads with `read_transcript`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["MAX_LOGGED_VALUES", "ROLES", "Recorder", "read_transcript", "read_wire"]

ROLES = ("result", "leak", "masked", "subset")

MAX_LOGGED_VALUES = 20_000  # per shares/own_input event; larger vectors are logged as a prefix


class Recorder:
    """Appends transcript events to a JSON-lines file and keeps per-peer traffic counters."""

    def __init__(self, path: str | Path, *, party: int, wire: str | Path | None = None) -> None:
        self.path = Path(path)
        self.party = party
        self._fh = self.path.open("w", encoding="utf-8")
        # optional raw log of every payload: per message 1 byte direction (0 sent, 1 received), 1 byte peer,
        # 4 bytes length (little-endian), then the payload exactly as MPyC sent or received it
        self._wire = Path(wire).open("wb") if wire else None
        self._t0 = time.perf_counter()
        self.bytes_sent: Counter[int] = Counter()
        self.bytes_received: Counter[int] = Counter()
        self.messages_sent: Counter[int] = Counter()
        self.messages_received: Counter[int] = Counter()

    def elapsed(self) -> float:
        return time.perf_counter() - self._t0

    def write(self, event: str, **fields: Any) -> None:
        record = {"event": event, "party": self.party, "time": round(self.elapsed(), 6), **fields}
        self._fh.write(json.dumps(record, separators=(",", ":")) + "\n")

    def values(self, event: str, label: str, values: list[int], *, cells: list[str], **fields: Any) -> None:
        """Log a vector of integers, truncated to MAX_LOGGED_VALUES (the count is always exact)."""
        if len(cells) != len(values):
            raise ValueError(f"{label}: {len(values)} values but {len(cells)} cell names")
        self.write(event, label=label, n=len(values), values=[int(v) for v in values[:MAX_LOGGED_VALUES]],
                   cells=cells[:MAX_LOGGED_VALUES], truncated=len(values) > MAX_LOGGED_VALUES, **fields)

    def opened(self, label: str, values: Any, *, role: str, cells: list[str] | None = None) -> None:
        """Log a value seen in the clear, in full (openings are what an attacker works with)."""
        if role not in ROLES:
            raise ValueError(f"unknown role {role!r}; known: {', '.join(ROLES)}")
        if isinstance(values, list):
            cells = cells if cells is not None else [str(k) for k in range(len(values))]
            if len(cells) != len(values):
                raise ValueError(f"{label}: {len(values)} values but {len(cells)} cell names")
            self.write("opened", label=label, role=role, n=len(values), values=values, cells=cells)
        else:
            self.write("opened", label=label, role=role, values=values)

    def message(self, direction: str, peer: int, pc: int, data: bytes) -> None:
        size = 12 + len(data)  # MPyC's wire format adds an 8-byte program counter and a 4-byte length
        if direction == "sent":
            self.bytes_sent[peer] += size
            self.messages_sent[peer] += 1
        else:
            self.bytes_received[peer] += size
            self.messages_received[peer] += 1
        self.write("message", dir=direction, peer=peer, pc=pc, bytes=size, preview=data[:16].hex())
        if self._wire is not None:
            self._wire.write(bytes([direction != "sent", peer]) + len(data).to_bytes(4, "little") + data)

    def rounds(self) -> int:
        """Messages sent to the busiest peer: MPyC has no round counter, this is the usual proxy."""
        return max(self.messages_sent.values(), default=0)

    def close(self) -> None:
        self._fh.close()
        if self._wire is not None:
            self._wire.close()


def read_transcript(path: str | Path) -> list[dict[str, Any]]:
    """All events of one transcript, in order."""
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def read_wire(path: str | Path) -> list[tuple[str, int, bytes]]:
    """A raw payload log (run_mpc(..., wire_log=True)): (direction, peer, payload) per message."""
    data = Path(path).read_bytes()
    out, pos = [], 0
    while pos < len(data):
        direction, peer, n = data[pos], data[pos + 1], int.from_bytes(data[pos + 2:pos + 6], "little")
        out.append(("received" if direction else "sent", peer, data[pos + 6:pos + 6 + n]))
        pos += 6 + n
    return out
