"""Per-party transcripts: JSON lines written by each party process, read by the views.

Event kinds (field `event`):

* `start`       — party index, organisation, number of parties m, threshold t, field modulus
* `own_input`   — this organisation's own prepared values, in the clear (they never leave it)
* `shares`      — for one secret-shared value vector: the owner and the field elements THIS party holds
* `message`     — one protocol message: direction, peer, program counter, bytes, payload preview
* `opened`      — an output opened to this party
* `end`         — timings, byte and message counts

This module is pure Python: the party program calls `Recorder`, the app reads with `read_transcript`.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from pathlib import Path
from typing import Any

__all__ = ["MAX_LOGGED_VALUES", "Recorder", "read_transcript"]

MAX_LOGGED_VALUES = 20_000  # per shares/own_input event; larger vectors are logged as a prefix


class Recorder:
    """Appends transcript events to a JSON-lines file and keeps per-peer traffic counters."""

    def __init__(self, path: str | Path, *, party: int) -> None:
        self.path = Path(path)
        self.party = party
        self._fh = self.path.open("w", encoding="utf-8")
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

    def values(self, event: str, label: str, values: list[int], **fields: Any) -> None:
        """Log a vector of integers, truncated to MAX_LOGGED_VALUES (the count is always exact)."""
        self.write(event, label=label, n=len(values), values=[int(v) for v in values[:MAX_LOGGED_VALUES]],
                   truncated=len(values) > MAX_LOGGED_VALUES, **fields)

    def message(self, direction: str, peer: int, pc: int, data: bytes) -> None:
        size = 12 + len(data)  # MPyC's wire format adds an 8-byte program counter and a 4-byte length
        if direction == "sent":
            self.bytes_sent[peer] += size
            self.messages_sent[peer] += 1
        else:
            self.bytes_received[peer] += size
            self.messages_received[peer] += 1
        self.write("message", dir=direction, peer=peer, pc=pc, bytes=size, preview=data[:16].hex())

    def rounds(self) -> int:
        """Messages sent to the busiest peer: MPyC has no round counter, this is the usual proxy."""
        return max(self.messages_sent.values(), default=0)

    def close(self) -> None:
        self._fh.close()


def read_transcript(path: str | Path) -> list[dict[str, Any]]:
    """All events of one transcript, in order."""
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]
