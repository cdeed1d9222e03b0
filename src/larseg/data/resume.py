"""Resuming an interrupted run only with the settings it was started with.

``simulate`` and ``predict`` write ``OUT.partial`` and ``--resume`` continues it;
``train --resume`` continues ``last.pt``. Continuing with other settings would mix
two runs in one output that claims to be one, so each command records what its
output depends on and, on resume, compares it with the new command key by key and
refuses with one line naming the first setting that differs. The partial file is
only read (never opened for writing) until the check has passed, so a refused
resume leaves it byte for byte as it was.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from larseg.data.larcv3 import read_journal
from larseg.data.sources import open_input
from larseg.errors import DataFileError, LarsegError

#: The end of every refusal: what the user can do about it.
REMEDY = "same settings needed, or delete it to start again"


def first_difference(before: Mapping, now: Mapping, prefix: str = "") -> tuple[str, Any, Any] | None:
    """The first setting that differs: ``(dotted key, before's value, now's value)``, or None.

    Nested mappings are compared key by key (``detector.response.gain_scale``), in
    ``now``'s key order, then the keys only ``before`` has; a missing key is None.
    """
    keys = list(now) + [k for k in before if k not in now]
    for k in keys:
        b, n = before.get(k), now.get(k)
        if isinstance(b, Mapping) and isinstance(n, Mapping):
            diff = first_difference(b, n, f"{prefix}{k}.")
            if diff:
                return diff
        elif b != n:
            return f"{prefix}{k}", b, n
    return None


def partial_metadata(partial: str | Path) -> tuple[dict[str, str], int]:
    """The metadata of a writer's partial journal and its number of committed events, read-only."""
    return read_journal(partial)


def not_resumable(partial: str | Path, command: str) -> DataFileError:
    """The error for a partial file that the resuming command did not write."""
    return DataFileError(partial, f"cannot resume: not written by 'larseg {command}' (delete it to start again)")


def check_same_settings(partial: str | Path, before: Mapping, now: Mapping) -> None:
    """Refuse (one line naming ``partial`` and the first differing setting) unless ``before == now``."""
    diff = first_difference(before, now)
    if diff:
        key, b, n = diff
        raise DataFileError(partial, f"cannot resume: it was written with {key} = {b!r}, not {n!r} ({REMEDY})")


# --- the data files of a training run


#: What identifies a data file's content, cheaply (no hash of the whole file): compared on
#: ``train --resume``. Its path is recorded for the message but not compared, nor is its
#: modification time: a sample copied to another disk is the same data and resumes.
DATA_IDENTITY = ("entries", "larseg_sample", "seed", "shard", "config_sha256", "bytes", "content_sha256")

#: ``content_sha256`` hashes this many blocks of this many bytes spread evenly over the file
#: (the whole file when it is smaller): ~1 MiB read per file, however large.
CONTENT_BLOCKS, CONTENT_BLOCK_BYTES = 16, 1 << 16


def content_sha256(path: str | Path) -> str:
    """A cheap fingerprint of a file's bytes: sha256 of its size and of blocks spread over it (16 hex digits)."""
    size = Path(path).stat().st_size
    h = hashlib.sha256(str(size).encode())
    with open(path, "rb") as f:
        if size <= CONTENT_BLOCKS * CONTENT_BLOCK_BYTES:
            h.update(f.read())
        else:
            step = (size - CONTENT_BLOCK_BYTES) / (CONTENT_BLOCKS - 1)
            for i in range(CONTENT_BLOCKS):
                f.seek(int(i * step))
                h.update(f.read(CONTENT_BLOCK_BYTES))
    return h.hexdigest()[:16]


def data_record(path: str | Path) -> dict:
    """A data file's identity: resolved path, entries, (larseg files) sample, seed, shard and config, byte size
    and :func:`content_sha256`."""
    path = Path(path)
    source = open_input(path)
    meta = source.metadata
    record: dict[str, Any] = {"path": str(path.resolve()), "entries": int(source.n_entries)}
    for key in ("larseg_sample", "seed", "shard"):
        if key in meta:
            record[key] = meta[key]
    if "larseg_config" in meta:
        record["config_sha256"] = hashlib.sha256(meta["larseg_config"].encode()).hexdigest()[:16]
    record["bytes"] = path.stat().st_size
    record["content_sha256"] = content_sha256(path)
    return record


def data_records(train_files: Sequence[str | Path], val_files: Sequence[str | Path]) -> dict[str, list[dict]]:
    """The identities of a training run's files, in order (the order sets the batches)."""
    return {"train": [data_record(p) for p in train_files], "val": [data_record(p) for p in val_files]}


def check_same_data(where: str | Path, before: Mapping | None, now: Mapping) -> None:
    """Refuse to resume a training run on other data files than it was started with.

    ``before`` is None for a checkpoint written before larseg recorded its data files:
    nothing to compare.
    """
    if before is None:
        return
    remedy = "resume with the run's own data files"
    for role, label in (("train", "training"), ("val", "validation")):
        old, new = list(before.get(role) or []), list(now.get(role) or [])
        if len(old) != len(new):
            raise LarsegError(f"{where}: cannot resume: the run used {len(old)} {label} file(s) "
                              f"({_names(old)}), not {len(new)} ({_names(new)}); {remedy}")
        for k, (a, b) in enumerate(zip(old, new), 1):
            diff = first_difference({key: a.get(key) for key in DATA_IDENTITY},
                                    {key: b.get(key) for key in DATA_IDENTITY})
            if diff:
                key, va, vb = diff
                raise LarsegError(f"{where}: cannot resume: {label} file {k} was {a.get('path')} ({key} = {va!r}), "
                                  f"not {b.get('path')} ({key} = {vb!r}); {remedy}")


def _names(records: list[dict]) -> str:
    return ", ".join(str(r.get("path")) for r in records) or "none"
