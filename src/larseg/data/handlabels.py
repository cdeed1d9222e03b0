"""Hand labels painted by a physicist (``larseg scan``): the labels file and its journal.

The labels file ``LABELS.h5`` has the larcv3 layout (:class:`~larseg.data.larcv3.Larcv3Writer`):
one entry per scanned event, with the event's run/subrun/event ids and a ``sparse2d``
product ``handlabel`` holding one image per labelled wire plane (``projection_id`` = plane).
Its pixel values are the hand-label codes

    1 track, 2 shower, 3 ignore   (pixels not stored: unlabelled)

``ignore`` marks pixels a scanner leaves out of the comparison (the paper's cosmic muons,
Sec. V C). The root group's attributes record the scanner, the larseg version, the journal
position the file includes (``journal_seq``), and ``scan_events``: a JSON list with one record
per entry (source file, source entry, ids, scanner, time of the last edit, done flag, planes).

**No edit is lost.** Every edit is appended to ``LABELS.h5.journal`` (one JSON record and its
CRC-32 per line, flushed and fsynced before the edit is acknowledged) and applied in memory. The
labels file itself is only ever replaced whole, atomically (written beside it, then renamed):
on :meth:`LabelStore.save`, every ``autosave_every`` edits and at close. Opening a store reads the
file and replays the journal records after its ``journal_seq``; a record torn by a kill in the
middle of its write (the last line, without its newline or with a wrong CRC) was never
acknowledged and is dropped. After a save the journal is replaced by an empty one (again by a
rename); a kill between the two renames leaves records the file already holds, and replay skips
them by their sequence numbers. One process at a time holds a store (an advisory lock on the
journal): a second ``larseg scan`` on the same labels file is refused with a one-line error.

Pixels are addressed by row-major flat index ``row * n_cols + col`` of the dense plane
``(rows = time ticks, cols = wires)``, the browser's order; the file stores larcv's
``wire * n_rows + row`` like every larcv3 product.
"""

from __future__ import annotations

import fcntl
import json
import os
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path

import h5py
import numpy as np

from larseg import __version__
from larseg.atomic import atomic_open, write_error
from larseg.data.larcv3 import Event, ImageMeta, Larcv3File, Larcv3Writer, SparseImage
from larseg.errors import DataFileError, LarsegError

UNLABELLED, TRACK, SHOWER, IGNORE = 0, 1, 2, 3
#: Names of the hand-label codes, indexed by code.
HAND_CLASSES = ("unlabelled", "track", "shower", "ignore")
PRODUCER = "handlabel"
JOURNAL_SUFFIX = ".journal"
FORMAT = "larseg-handlabels-1"


def journal_path(labels: str | Path) -> Path:
    labels = Path(labels)
    return labels.with_name(labels.name + JOURNAL_SUFFIX)


@dataclass(frozen=True)
class EventKey:
    """A scanned event: the source file (absolute path as text) and its entry there."""

    source: str
    entry: int


@dataclass
class PlaneLabels:
    """One plane's hand labels, sparse: sorted row-major flat ``index`` and ``code`` (1, 2, 3)."""

    shape: tuple[int, int]  # (rows, cols) of the dense plane
    meta: ImageMeta
    index: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    code: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint8))

    def dense(self) -> np.ndarray:
        out = np.zeros(self.shape[0] * self.shape[1], np.uint8)
        out[self.index] = self.code
        return out.reshape(self.shape)

    def codes_at(self, index: np.ndarray) -> np.ndarray:
        """The codes at flat ``index`` (0 where unlabelled)."""
        index = np.asarray(index, dtype=np.int64)
        if not len(self.index):
            return np.zeros(index.shape, np.uint8)
        pos = np.minimum(np.searchsorted(self.index, index), len(self.index) - 1)
        return np.where(self.index[pos] == index, self.code[pos], 0).astype(np.uint8)

    def assign(self, index: np.ndarray, code: np.ndarray) -> None:
        """Set ``code`` (0 clears) at flat ``index``; the last value wins for a repeated index."""
        idx = np.concatenate([self.index, index.astype(np.int64)])
        val = np.concatenate([self.code, code.astype(np.uint8)])
        uniq, first = np.unique(idx[::-1], return_index=True)
        val = val[::-1][first]
        keep = val != UNLABELLED
        self.index, self.code = uniq[keep], val[keep]

    def counts(self) -> dict[str, int]:
        return {HAND_CLASSES[c]: int(np.count_nonzero(self.code == c)) for c in (TRACK, SHOWER, IGNORE)}


@dataclass
class EventLabels:
    key: EventKey
    ids: tuple[int, int, int]
    planes: dict[int, PlaneLabels] = field(default_factory=dict)
    scanner: str = ""
    time: str = ""
    done: bool = False
    tool_version: str = __version__

    def record(self) -> dict:
        return {"source": self.key.source, "entry": self.key.entry, "ids": list(self.ids), "scanner": self.scanner,
                "time": self.time, "done": self.done, "tool_version": self.tool_version,
                "planes": sorted(self.planes)}


def _meta_list(meta: ImageMeta) -> list:
    return [meta.projection_id, *meta.shape, *meta.size, *meta.origin]


def _meta_from(values, where: str) -> ImageMeta:
    try:
        p, n0, n1, s0, s1, o0, o1 = values
        return ImageMeta(int(p), (int(n0), int(n1)), (float(s0), float(s1)), (float(o0), float(o1)))
    except (TypeError, ValueError):
        raise LarsegError(f"{where}: bad plane meta {values!r}") from None


def _now() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


def _line(record: dict) -> bytes:
    body = json.dumps(record, separators=(",", ":"), sort_keys=True)
    return f"{body}\t{zlib.crc32(body.encode()):08x}\n".encode()


def read_journal_records(path: Path) -> tuple[list[dict], int]:
    """The intact records of a journal and the byte length they end at (a torn last line excluded).

    A damaged line before the last is corruption, not a torn write: a one-line error names it.
    """
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    except OSError as exc:
        raise DataFileError(path, f"cannot read ({exc.strerror or exc})") from None
    records, end, pos = [], 0, 0
    lines = data.split(b"\n")
    for n, raw in enumerate(lines):
        last = n == len(lines) - 1  # the text after the final newline: a torn write if not empty
        if last:
            break
        pos += len(raw) + 1
        try:
            body, crc = raw.decode().rsplit("\t", 1)
            ok = int(crc, 16) == zlib.crc32(body.encode())
            record = json.loads(body) if ok else None
        except (UnicodeDecodeError, ValueError):
            ok, record = False, None
        if not ok or not isinstance(record, dict):
            if n == len(lines) - 2 and not lines[-1]:
                break  # the final line, damaged as it was written: never acknowledged
            raise DataFileError(path, f"line {n + 1} is damaged (bad checksum); the journal was altered, "
                                      "not torn by a crash: restore it, or move it away to keep only the "
                                      "labels file")
        records.append(record)
        end = pos
    return records, end


class LabelStore:
    """The hand labels of one scanner in one labels file, with every edit journaled (module doc)."""

    def __init__(self, path: str | Path, scanner: str, *, autosave_every: int = 200):
        self.path = Path(path)
        self.journal = journal_path(self.path)
        self.scanner = scanner
        self.autosave_every = autosave_every
        self.events: dict[EventKey, EventLabels] = {}
        self.seq = 0
        self._since_save = 0
        if self.path.is_dir():
            raise DataFileError(self.path, "is a directory; give the labels file name")
        if not self.path.parent.is_dir():
            raise DataFileError(self.path, f"directory {self.path.parent} does not exist")
        try:
            self._fd = os.open(self.journal, os.O_RDWR | os.O_CREAT | os.O_APPEND, 0o644)
        except OSError as exc:
            raise write_error(self.journal, exc) from None
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            os.close(self._fd)
            raise DataFileError(self.path, "is open in another 'larseg scan' (its journal is locked); "
                                           "one scanner session per labels file") from None
        try:
            if self.path.exists():
                self._read_file()
            records, end = read_journal_records(self.journal)
            if end < self.journal.stat().st_size:  # a torn final record: cut it off before appending
                os.ftruncate(self._fd, end)
            for rec in records:
                if int(rec.get("seq", 0)) > self.seq:
                    self._apply(rec, f"{self.journal}")
                    self.seq = int(rec["seq"])
                    self._since_save += 1
        except BaseException:
            self.close(save=False)
            raise

    # -- reading the file

    def _read_file(self) -> None:
        try:
            with h5py.File(self.path, "r") as f:
                attrs = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in f.attrs.items()}
        except OSError:
            raise DataFileError(self.path, "not an HDF5 labels file (or damaged)") from None
        if attrs.get("larseg_format") != FORMAT:
            raise DataFileError(self.path, f"not a larseg labels file (format {attrs.get('larseg_format')!r}, "
                                           f"expected {FORMAT})")
        if attrs.get("scanner") != self.scanner:
            raise DataFileError(self.path, f"holds the labels of scanner '{attrs.get('scanner')}', not "
                                           f"'{self.scanner}'; each scanner labels into a file of their own")
        for ev in read_labels(self.path):
            self.events[ev.key] = ev
        self.seq = int(attrs.get("journal_seq", 0))

    # -- edits

    def _append(self, record: dict) -> None:
        self.seq += 1
        record = {"seq": self.seq, "t": _now(), **record}
        try:
            os.write(self._fd, _line(record))
            os.fsync(self._fd)
        except OSError as exc:
            self.seq -= 1
            raise write_error(self.journal, exc) from None
        self._apply(record, str(self.journal))
        self._since_save += 1
        if self.autosave_every and self._since_save >= self.autosave_every:
            self.save()

    def _apply(self, rec: dict, where: str) -> None:
        op = rec.get("op")
        try:
            key = EventKey(str(rec["src"]), int(rec["entry"]))
            if op == "event":
                ev = self.events.get(key) or EventLabels(key, tuple(int(x) for x in rec["ids"]))
                for p, values in rec["planes"].items():
                    meta = _meta_from(values, where)
                    if int(p) not in ev.planes:
                        ev.planes[int(p)] = PlaneLabels(meta.dense_shape, meta)
                ev.scanner = str(rec.get("scanner", self.scanner))
                self.events[key] = ev
                return
            ev = self.events[key]
            ev.time = str(rec.get("t", ""))
            if op == "set":
                plane = ev.planes[int(rec["plane"])]
                index = np.asarray(rec["idx"], dtype=np.int64)
                code = np.broadcast_to(np.asarray(rec["cls"], dtype=np.uint8), index.shape)
                plane.assign(index, code)
            elif op == "done":
                ev.done = bool(rec["done"])
            else:
                raise KeyError(op)
        except (KeyError, TypeError, ValueError):
            raise LarsegError(f"{where}: record {rec.get('seq')} ({op}) does not fit the labels") from None

    def register(self, key: EventKey, ids: tuple[int, int, int], metas: dict[int, ImageMeta]) -> EventLabels:
        """The labels of ``key`` (journaling its planes the first time they are seen)."""
        ev = self.events.get(key)
        new = {p: m for p, m in metas.items() if ev is None or p not in ev.planes}
        if new:
            self._append({"op": "event", "src": key.source, "entry": key.entry, "ids": [int(i) for i in ids],
                          "scanner": self.scanner, "planes": {str(p): _meta_list(m) for p, m in new.items()}})
        return self.events[key]

    def set(self, key: EventKey, plane: int, index: np.ndarray,
            code: np.ndarray | int) -> tuple[np.ndarray, np.ndarray]:
        """Set hand-label ``code`` (0 clears) at flat ``index`` of a registered plane; returns
        (index, previous codes) of the pixels that changed, for undo."""
        labels = self.events[key].planes[plane]
        index = np.asarray(index, dtype=np.int64)
        code = np.broadcast_to(np.asarray(code, dtype=np.uint8), index.shape)
        index, first = np.unique(index[::-1], return_index=True)  # the last value of a repeated pixel wins
        code = code[::-1][first]
        before = labels.codes_at(index)
        changed = before != code
        index, code, before = index[changed], code[changed], before[changed]
        if len(index):
            uniform = len(np.unique(code)) == 1
            self._append({"op": "set", "src": key.source, "entry": key.entry, "plane": int(plane),
                          "idx": index.tolist(), "cls": int(code[0]) if uniform else code.tolist()})
        return index, before

    def mark_done(self, key: EventKey, done: bool = True) -> None:
        if self.events[key].done != done:
            self._append({"op": "done", "src": key.source, "entry": key.entry, "done": bool(done)})

    # -- the file

    def save(self) -> Path:
        """Rewrite the labels file atomically with every edit so far, then empty the journal."""
        events = sorted(self.events.values(), key=lambda e: (e.key.source, e.key.entry))
        meta = {"larseg_format": FORMAT, "scanner": self.scanner, "larseg_version": __version__,
                "journal_seq": str(self.seq), "scan_events": json.dumps([e.record() for e in events])}
        writer = Larcv3Writer(self.path, meta, overwrite=True)
        try:
            for ev in events:
                images = []
                for p in sorted(ev.planes):
                    lab = ev.planes[p]
                    rows, cols = np.divmod(lab.index, lab.shape[1])
                    larcv = cols.astype(np.uint64) * np.uint64(lab.shape[0]) + rows.astype(np.uint64)
                    order = np.argsort(larcv, kind="stable")
                    images.append(SparseImage(lab.meta, larcv[order], lab.code[order].astype(np.float32)))
                writer.write(Event(*ev.ids, sparse2d={PRODUCER: images}))
            writer.close()
        except BaseException:
            writer.abort()
            raise
        with atomic_open(self.journal, "wb"):  # an empty journal, renamed over the old one
            pass
        # the lock and the append position follow the new journal file
        old = self._fd
        self._fd = os.open(self.journal, os.O_RDWR | os.O_APPEND)
        fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        os.close(old)
        self._since_save = 0
        return self.path

    def close(self, save: bool = True) -> None:
        if getattr(self, "_fd", None) is None:
            return
        try:
            if save and self._since_save:
                self.save()
        finally:
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> LabelStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def read_labels(path: str | Path) -> list[EventLabels]:
    """The events of a labels file as written by :meth:`LabelStore.save` (the journal not replayed)."""
    path = Path(path)
    try:
        with h5py.File(path, "r") as f:
            attrs = {k: (v.decode() if isinstance(v, bytes) else str(v)) for k, v in f.attrs.items()}
    except FileNotFoundError:
        raise DataFileError(path, "no such file") from None
    except OSError:
        raise DataFileError(path, "not an HDF5 labels file (or damaged)") from None
    if attrs.get("larseg_format") != FORMAT:
        raise DataFileError(path, f"not a larseg labels file (format {attrs.get('larseg_format')!r})")
    try:
        records = json.loads(attrs.get("scan_events", "[]"))
    except ValueError:
        raise DataFileError(path, "damaged scan_events record") from None
    if not records:
        return []
    events = []
    with Larcv3File(path) as f:
        if len(f) != len(records):
            raise DataFileError(path, f"{len(f)} entries but {len(records)} scan_events records")
        for entry, rec in enumerate(records):
            try:
                key = EventKey(str(rec["source"]), int(rec["entry"]))
                ev = EventLabels(key, tuple(int(x) for x in rec["ids"]), scanner=str(rec.get("scanner", "")),
                                 time=str(rec.get("time", "")), done=bool(rec.get("done", False)),
                                 tool_version=str(rec.get("tool_version", "")))
            except (KeyError, TypeError, ValueError, AttributeError):
                raise DataFileError(path, f"scan_events record {entry} lacks its source, entry or ids") from None
            for img in f.sparse2d(PRODUCER, entry):
                shape = img.meta.dense_shape
                rows, cols = img.rows_cols()
                code = img.value.astype(np.uint8)
                if np.any((code < TRACK) | (code > IGNORE)) or not np.array_equal(code, img.value):
                    raise DataFileError(path, f"entry {entry}: hand-label codes must be 1, 2 or 3")
                flat = rows.astype(np.int64) * shape[1] + cols
                order = np.argsort(flat)
                ev.planes[img.meta.projection_id] = PlaneLabels(shape, img.meta, flat[order], code[order])
            events.append(ev)
    return events


def load_labels(path: str | Path) -> list[EventLabels]:
    """Every labelled event of a labels file, journal included (what a scan session would show).

    Read-only: the journal is replayed in memory (neither file is changed), so a study can read
    the labels of a scan that is still open or was killed.
    """
    path = Path(path)
    events = {ev.key: ev for ev in read_labels(path)} if path.exists() else {}
    scanner = ""
    seq = 0
    if path.exists():
        with h5py.File(path, "r") as f:
            scanner = str(f.attrs.get("scanner", ""))
            seq = int(f.attrs.get("journal_seq", 0))
    records, _ = read_journal_records(journal_path(path))
    if not path.exists() and not records:
        raise DataFileError(path, "no such labels file (and no journal)")
    view = LabelStore.__new__(LabelStore)
    view.events, view.scanner = events, scanner
    for rec in records:
        if int(rec.get("seq", 0)) > seq:
            view._apply(rec, str(journal_path(path)))
    return sorted(view.events.values(), key=lambda e: (e.key.source, e.key.entry))
