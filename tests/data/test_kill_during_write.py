"""kill -9 inside writes: no committed event is lost, and resuming gives the uninterrupted file, bit for bit.

A child process writes events with :class:`Larcv3Writer` (or runs ``larseg simulate``)
and is killed with SIGKILL at chosen moments while it writes. Then the journal is
read (every committed event must be readable), the run is resumed, and the result
is compared byte for byte with an uninterrupted run.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from larseg.data.larcv3 import Larcv3File, journal_segments, read_journal

WRITER = textwrap.dedent("""
    import sys, numpy as np
    from larseg.data.larcv3 import Event, ImageMeta, Larcv3Writer, sparse_from_dense
    out, n, resume = sys.argv[1], int(sys.argv[2]), sys.argv[3] == "1"
    def event(k):
        rng = np.random.default_rng(k)
        planes = []
        for p in range(3):
            im = np.where(rng.random((256, 256)) < 0.05, rng.exponential(40, (256, 256)), 0).astype(np.float32)
            planes.append(sparse_from_dense(im, ImageMeta.for_dense(p, 256, 256, (0.3, 0.3)), im != 0))
        return Event(1, 0, k, sparse2d={"wire": planes})
    w = Larcv3Writer(out, {"what": "kill test"}, resume=resume, flush_every=2)
    print("start", w.n_entries, flush=True)
    for k in range(w.n_entries, n):
        w.write(event(k))
    w.close()
    print("done", flush=True)
""")
N_EVENTS = 120


def _run(script: Path, out: Path, resume: bool, kill_after: float | None) -> float | int:
    """Run the writer; without ``kill_after`` return the seconds it spent writing, else its exit status."""
    proc = subprocess.Popen([sys.executable, str(script), str(out), str(N_EVENTS), "1" if resume else "0"],
                            stdout=subprocess.PIPE, text=True)
    line = proc.stdout.readline()
    assert line.startswith("start"), line
    t0 = time.perf_counter()
    if kill_after is None:
        proc.wait(timeout=300)
        assert proc.returncode == 0
        return time.perf_counter() - t0
    time.sleep(kill_after)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    return proc.returncode


@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    base = tmp_path_factory.mktemp("kill")
    script = base / "writer.py"
    script.write_text(WRITER)
    reference = base / "reference.h5"
    return script, reference, _run(script, reference, False, None)


def _kill_and_resume(setup, tmp_path, fraction: float) -> bool:
    """Kill at ``fraction`` of the writing time, check the journal, resume; True if the kill landed."""
    script, reference, seconds = setup
    out = tmp_path / f"killed-{fraction:.3f}.h5"
    code = _run(script, out, False, kill_after=fraction * seconds)
    if code == 0:  # finished before the kill
        assert out.read_bytes() == reference.read_bytes()
        return False
    assert code == -signal.SIGKILL
    partial = out.with_name(out.name + ".partial")
    if out.exists():  # killed after the final rename, while the journal was being removed: the file is complete
        assert out.read_bytes() == reference.read_bytes()
    assert partial.is_dir()
    _, committed = read_journal(partial)
    seen = 0
    for seg in journal_segments(partial):  # every committed event is readable
        f = Larcv3File(seg)
        for entry in range(f.n_entries):
            assert f.read(entry).event == seen
            seen += 1
    assert seen == committed
    _run(script, out, True, None)
    assert not partial.exists()
    assert out.read_bytes() == reference.read_bytes()
    return True


def test_kill_9_while_writing_loses_no_committed_event(setup, tmp_path):
    landed = [_kill_and_resume(setup, tmp_path, fraction) for fraction in (0.1, 0.3, 0.5)]
    assert any(landed)  # at least one kill landed while writing (timing on a busy machine varies)


@pytest.mark.slow
@pytest.mark.parametrize("fraction", [0.05 + 0.9 * k / 19 for k in range(20)])
def test_kill_9_at_many_moments(setup, tmp_path, fraction):
    _kill_and_resume(setup, tmp_path, fraction)


@pytest.mark.slow
def test_kill_9_during_simulate_then_resume(tmp_path):
    """``larseg simulate`` killed mid-run, then ``--resume``: the same bytes as an uninterrupted run."""
    base = [sys.executable, "-m", "larseg", "simulate", "1e1p-le", "-n", "40", "--seed", "3"]
    ref = tmp_path / "ref.h5"
    t0 = time.perf_counter()
    subprocess.run([*base, "-o", str(ref)], check=True, capture_output=True, timeout=600)
    seconds = time.perf_counter() - t0
    out = tmp_path / "out.h5"
    proc = subprocess.Popen([*base, "-o", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(0.6 * seconds)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait(timeout=60)
    if proc.returncode == -signal.SIGKILL:
        assert not out.exists()
        subprocess.run([*base, "-o", str(out), "--resume"], check=True, capture_output=True, timeout=600)
    assert out.read_bytes() == ref.read_bytes()
