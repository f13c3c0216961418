"""TraceCache: the one trace policy (run, record, replay) behind every cache of Programs.

Eager regions (regions.py), the realisation cache of deferred graphs
(engine/realize.py) and `@lt.compile` (compile.py) solve one problem at
three scales: the first time a signature is seen, run it; the second time,
record its launches into a Program; later, replay the Program. They differ
only in their settings, which live here:

- `record_first`: record on the first call instead (the realisation cache:
  scheduling is the cost it saves, and recording a schedule costs nothing).
- `limit`: signatures kept; the oldest goes first past it, or, with
  `on_full`, that callable raises instead (lt.compile's recompile limit).
- `variants_limit`: distinct variants (a region's Python constants) per
  signature; past it the call runs unrecorded (a value that changes every
  call would otherwise record every call).
- `explain(old, new)`: why a new signature was traced; the reasons are kept
  in `reasons` (lt.compile reports them).

A signature whose recording was refused (Program.from_recording gave None)
runs unrecorded from then on.
"""

from __future__ import annotations

from collections import OrderedDict

RUN, RECORD, REPLAY = "run", "record", "replay"
SEEN, REFUSED = "seen once", "not replayable"  # states of a variant besides its Program


class TraceCache:
    """signature -> {variant -> state}; see the module docstring."""

    def __init__(self, limit: int, *, record_first: bool = False, variants_limit: int = 0,
                 explain=None, on_full=None):
        self.limit = limit
        self.record_first = record_first
        self.variants_limit = variants_limit
        self.explain = explain
        self.on_full = on_full
        self.entries: OrderedDict = OrderedDict()
        self.reasons: list[str] = []

    def lookup(self, signature, variant=None, record_first: bool | None = None) -> tuple:
        """(RUN, None), (RECORD, None) or (REPLAY, program) for this call."""
        variants = self.entries.get(signature)
        if variants is None:
            variants = self._add(signature)
        state = variants.get(variant)
        if state is None:
            if self.variants_limit and len(variants) >= self.variants_limit:
                return RUN, None
            if self.record_first if record_first is None else record_first:
                return RECORD, None
            variants[variant] = SEEN
            return RUN, None
        if state is SEEN:
            return RECORD, None
        if state is REFUSED:
            return RUN, None
        return REPLAY, state

    def store(self, signature, variant, program) -> None:
        """Keep what a RECORD call recorded (None: it cannot be replayed)."""
        variants = self.entries.get(signature)
        if variants is None:
            variants = self._add(signature)
        variants[variant] = REFUSED if program is None else program

    def programs(self) -> list:
        """Every recorded Program, oldest signature first."""
        return [state for variants in self.entries.values() for state in variants.values()
                if state is not SEEN and state is not REFUSED]

    def clear(self) -> None:
        self.entries.clear()
        self.reasons.clear()

    def __len__(self) -> int:
        return len(self.entries)

    def _add(self, signature) -> dict:
        if self.entries and self.explain is not None:
            self.reasons.append(self.explain(next(reversed(self.entries)), signature))
        if len(self.entries) >= self.limit:
            if self.on_full is not None:
                self.on_full(self)
            while len(self.entries) >= self.limit:
                self.entries.popitem(last=False)
        variants = self.entries[signature] = {}
        return variants
