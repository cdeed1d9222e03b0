"""kill -9 of a running ``larseg scan`` server, then a restart: every acknowledged edit is there."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
import urllib.request

import numpy as np
import pytest
from scan_helpers import BLOB_PIXELS, ISOLATED, TRACK_PIXELS, flat, make_sample

from larseg.data.handlabels import journal_path, read_labels

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

URL_LINE = re.compile(r"open (http://127\.0\.0\.1:\d+)/\?token=([\w-]+)")


def start(sample, labels):
    proc = subprocess.Popen([sys.executable, "-m", "larseg", "scan", str(sample), "--labels", str(labels),
                             "--scanner", "tester", "--no-browser", "--port", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deadline = time.time() + 60
    while time.time() < deadline:
        line = proc.stdout.readline()
        if not line and proc.poll() is not None:
            break
        m = URL_LINE.search(line)
        if m:
            return proc, m.group(1), m.group(2)
    proc.kill()
    pytest.fail(f"larseg scan did not start: {proc.stdout.read() if proc.stdout else ''}")


def call(base, token, path, body=None):
    req = urllib.request.Request(base + path, data=None if body is None else json.dumps(body).encode(),
                                 headers={"X-Larseg-Token": token, "Content-Type": "application/json"},
                                 method="GET" if body is None else "POST")
    with urllib.request.urlopen(req, timeout=30) as r:
        return json.loads(r.read())


def test_kill_9_then_restart_shows_every_label(tmp_path):
    sample, labels = tmp_path / "sample.npz", tmp_path / "labels.h5"
    make_sample(sample)
    nonzero = np.array(sorted(flat(rc) for rc in TRACK_PIXELS + BLOB_PIXELS + [ISOLATED]))
    rng = np.random.default_rng(3)
    edits = [(rng.choice(nonzero, 5, replace=False).tolist(), int(rng.integers(0, 4))) for _ in range(5000)]
    acked: list[int] = []
    errors: list[Exception] = []
    proc, base, token = start(sample, labels)

    def scanner():
        for k, (pixels, code) in enumerate(edits):
            try:
                call(base, token, "/api/events/1/planes/2/edit", {"tool": "pixels", "code": code, "pixels": pixels})
            except OSError as exc:  # the kill: the connection is refused or reset
                errors.append(exc)
                return
            acked.append(k)

    worker = threading.Thread(target=scanner)
    worker.start()
    while len(acked) < 40 and worker.is_alive():
        time.sleep(0.05)
    time.sleep(np.random.default_rng().uniform(0, 0.5))
    os.kill(proc.pid, signal.SIGKILL)  # mid-stream: some request may be in flight
    proc.wait()
    worker.join()
    assert len(acked) >= 40, errors
    states = [np.zeros(nonzero.max() + 1, np.uint8)]
    for pixels, code in edits[:len(acked) + 1]:
        nxt = states[-1].copy()
        nxt[pixels] = code
        states.append(nxt)
    proc, base, token = start(sample, labels)  # a restart on the same labels file
    try:
        got = call(base, token, "/api/events/1/planes/2/labels")
        state = np.zeros(nonzero.max() + 1, np.uint8)
        state[got["index"]] = got["code"]
        # the acknowledged edits, and at most the one in flight at the kill
        assert np.array_equal(state, states[len(acked)]) or np.array_equal(state, states[len(acked) + 1])
        call(base, token, "/api/save", {})
    finally:
        proc.send_signal(signal.SIGTERM)  # a clean stop saves and exits
        assert proc.wait(timeout=30) == 0
    (ev,) = read_labels(labels)
    assert journal_path(labels).stat().st_size == 0 and ev.scanner == "tester" and ev.key.entry == 1
    saved = np.zeros(nonzero.max() + 1, np.uint8)
    saved[ev.planes[2].index] = ev.planes[2].code
    assert np.array_equal(saved, state)
