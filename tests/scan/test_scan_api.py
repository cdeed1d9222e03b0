"""The JSON API of larseg scan: every route, the token, the host check, traversal, bad bodies."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx2")

from fastapi.testclient import TestClient  # noqa: E402
from scan_helpers import BLOB_PIXELS, COLS, FAINT, ISOLATED, ROWS, TRACK_PIXELS, flat, make_sample  # noqa: E402

from larseg.data.handlabels import journal_path, load_labels, read_labels  # noqa: E402
from larseg.errors import LarsegError  # noqa: E402
from larseg.scan.server import MAX_BODY, create_app  # noqa: E402
from larseg.scan.session import ScanSession  # noqa: E402

TOKEN = "s3cret-token"
H = {"X-Larseg-Token": TOKEN}


class FakeNet:
    """Calls the blob shower and everything else track, with a known shower share."""

    def predict(self, image):
        out = np.zeros((3, *image.shape), np.float32)
        out[0] = image == 0
        shower = np.zeros(image.shape, bool)
        for rc in BLOB_PIXELS:
            shower[rc] = True
        out[2] = np.where(shower & (image > 0), 0.9, 0.0)
        out[1] = np.where(~shower & (image > 0), 0.8, 0.0)
        out[2] += np.where(~shower & (image > 0), 0.2, 0.0)
        out[1] += np.where(shower & (image > 0), 0.1, 0.0)
        return out


@pytest.fixture
def sample(tmp_path):
    path = tmp_path / "sample.npz"
    make_sample(path)
    return path


def _client(sample, tmp_path, blind=False, net=True, hosts=None):
    session = ScanSession([sample], tmp_path / "labels.h5", "alice", blind=blind)
    if net:
        session.predictor = FakeNet()
    return session, TestClient(create_app(session, TOKEN, hosts))


def _edit(c, body, e=0, p=2):
    return c.post(f"/api/events/{e}/planes/{p}/edit", headers=H, json=body)


def _labels(c, e=0, p=2):
    got = c.get(f"/api/events/{e}/planes/{p}/labels", headers=H).json()
    return dict(zip(got["index"], got["code"])), got["progress"]


def test_token_is_required_on_every_api_route_and_the_page(sample, tmp_path):
    _, c = _client(sample, tmp_path)
    routes = [("get", "/"), ("get", "/api/info"), ("get", "/api/events/0"), ("get", "/api/events/0/planes/2/image"),
              ("get", "/api/events/0/planes/2/labels"), ("get", "/api/events/0/planes/2/network"),
              ("get", "/api/events/0/planes/2/truth"), ("post", "/api/events/0/planes/2/edit"),
              ("post", "/api/events/0/planes/2/undo"), ("post", "/api/events/0/planes/2/redo"),
              ("post", "/api/events/0/done"), ("get", "/api/events/0/next"), ("post", "/api/save"),
              ("get", "/api/openapi.json")]
    for method, url in routes:
        for headers in ({}, {"X-Larseg-Token": "wrong"}, {"X-Larseg-Token": TOKEN[:-1]}):
            r = getattr(c, method)(url, headers=headers, **({"json": {}} if method == "post" else {}))
            assert r.status_code == 403 and "token" in r.json()["error"], (method, url, headers)
    assert c.get(f"/api/info?token={TOKEN}").status_code == 200  # the page's URL form
    assert c.get(f"/?token={TOKEN}").status_code == 200
    assert c.get("/static/scan.js").status_code == 200  # the page's own code needs no token


def test_host_header_must_be_the_servers_address(sample, tmp_path):
    _, c = _client(sample, tmp_path, hosts={"127.0.0.1:8765"})
    assert c.get("/api/info", headers={**H, "Host": "127.0.0.1:8765"}).status_code == 200
    r = c.get("/api/info", headers={**H, "Host": "evil.example:8765"})
    assert r.status_code == 421 and "evil.example" in r.json()["error"]


@pytest.mark.parametrize("url", ["/static/../server.py", "/static/%2e%2e/server.py", "/static/..%2fsession.py",
                                 "/static//etc/passwd", "/static/%2fetc%2fpasswd", "/static/index.html",
                                 "/../../etc/passwd", "/api/events/..%2f..%2fetc/planes/2/image",
                                 "/api/events/0/planes/2/..%2f..%2f..%2fetc%2fpasswd"])
def test_traversal_and_absolute_paths_are_refused(sample, tmp_path, url):
    _, c = _client(sample, tmp_path)
    r = c.get(url + ("&" if "?" in url else "?") + f"token={TOKEN}")
    assert r.status_code in (403, 404, 422), url
    assert b"root:" not in r.content and b"def " not in r.content


def test_info_event_image_truth_network(sample, tmp_path):
    _, c = _client(sample, tmp_path)
    info = c.get("/api/info", headers=H).json()
    assert info["events"] == 3 and info["scanner"] == "alice" and info["network"] and not info["blind"]
    ev = c.get("/api/events/1", headers=H).json()
    assert (ev["run"], ev["event"], ev["entry"], ev["file"]) == (9, 101, 1, "sample.npz")
    assert [p["name"] for p in ev["planes"]] == ["U", "V", "Y"] and ev["truth"]
    im = c.get("/api/events/0/planes/2/image", headers=H).json()
    expect = sorted(flat(rc) for rc in TRACK_PIXELS + BLOB_PIXELS + [ISOLATED])  # the faint pixel is below 10
    assert (im["rows"], im["cols"]) == (ROWS, COLS) and im["index"] == expect and flat(FAINT) not in im["index"]
    truth = c.get("/api/events/0/planes/2/truth", headers=H).json()
    t = dict(zip(truth["index"], truth["label"]))
    assert all(t[flat(rc)] == 2 for rc in BLOB_PIXELS) and all(t[flat(rc)] == 1 for rc in TRACK_PIXELS)
    net = c.get("/api/events/0/planes/2/network", headers=H).json()
    n = dict(zip(net["index"], zip(net["label"], net["shower"])))
    assert n[flat(BLOB_PIXELS[0])] == (2, pytest.approx(0.9, abs=1e-3))
    assert n[flat(TRACK_PIXELS[0])] == (1, pytest.approx(0.2, abs=1e-3))
    assert c.get("/api/events/3", headers=H).status_code == 404
    assert c.get("/api/events/0/planes/5/image", headers=H).status_code == 404


def test_tools_label_only_nonzero_pixels(sample, tmp_path):
    session, c = _client(sample, tmp_path)
    # brush over the track's start, radius 2: the track pixels within 2 of (5, 5)..(5, 8), nothing else
    r = _edit(c, {"tool": "brush", "code": 1, "points": [[5, 5], [5, 8]], "radius": 2})
    assert r.status_code == 200
    lab, prog = _labels(c)
    assert sorted(lab) == [flat((5, col)) for col in range(5, 11)] and set(lab.values()) == {1}
    assert prog["track"] == 6 and prog["unlabelled"] == prog["nonzero"] - 6
    # a click next to the blob labels the whole 8-connected blob (and only it)
    _edit(c, {"tool": "cluster", "code": 2, "points": [[20, 25]]})  # 2 pixels left of the blob's edge
    lab, _ = _labels(c)
    assert sorted(k for k, v in lab.items() if v == 2) == sorted(flat(rc) for rc in BLOB_PIXELS)
    # a click far from any charge does nothing
    assert _edit(c, {"tool": "cluster", "code": 2, "points": [[30, 45]]}).json()["changed"] == 0
    # a lasso around the isolated pixel and the faint one marks only the isolated pixel ignore
    _edit(c, {"tool": "polygon", "code": 3, "points": [[26, 0], [26, 45], [31, 45], [31, 0]]})
    lab, prog = _labels(c)
    assert lab[flat(ISOLATED)] == 3 and flat(FAINT) not in lab and prog["ignore"] == 1
    # explicit pixels: zero pixels are dropped; erase with code 0
    _edit(c, {"tool": "pixels", "code": 0, "pixels": [flat((5, 5)), flat((0, 0))]})
    lab, _ = _labels(c)
    assert flat((5, 5)) not in lab
    # start from the network: fills the unlabelled non-zero pixels only
    _edit(c, {"tool": "network", "code": 1})
    lab, prog = _labels(c)
    assert prog["unlabelled"] == 0 and lab[flat(ISOLATED)] == 3 and lab[flat((5, 20))] == 1
    assert len(lab) == prog["nonzero"]


def test_undo_redo_and_done_and_next(sample, tmp_path):
    session, c = _client(sample, tmp_path)
    assert c.post("/api/events/0/planes/2/undo", headers=H).status_code == 409
    _edit(c, {"tool": "cluster", "code": 1, "points": [[5, 10]]})
    _edit(c, {"tool": "cluster", "code": 2, "points": [[5, 10]]})
    assert set(_labels(c)[0].values()) == {2}
    assert c.post("/api/events/0/planes/2/undo", headers=H).json()["progress"]["can_redo"]
    assert set(_labels(c)[0].values()) == {1}
    c.post("/api/events/0/planes/2/undo", headers=H)
    assert _labels(c)[0] == {}
    c.post("/api/events/0/planes/2/redo", headers=H)
    assert set(_labels(c)[0].values()) == {1}
    _edit(c, {"tool": "cluster", "code": 3, "points": [[28, 2]]})  # a new edit clears the redo stack
    assert c.post("/api/events/0/planes/2/redo", headers=H).status_code == 409
    assert c.post("/api/events/0/done", headers=H, json={"done": True}).json()["done"]
    assert _labels(c)[1]["events_done"] == 1
    assert c.get("/api/events/2/next", headers=H).json() == {"index": 0}
    assert c.get("/api/events/0/next?step=-1", headers=H).json() == {"index": 2}
    nxt = c.get("/api/events/0/next?order=uncertainty", headers=H).json()["index"]
    assert nxt in (1, 2)  # never the event that is done
    assert c.post("/api/save", headers=H).json() == {"saved": "labels.h5", "events": 1}
    (ev,) = read_labels(tmp_path / "labels.h5")
    assert ev.done and ev.key.entry == 0 and ev.planes[2].counts() == {"track": 26, "shower": 0, "ignore": 1}


def test_blind_mode_hides_network_and_truth(sample, tmp_path):
    _, c = _client(sample, tmp_path, blind=True)
    info = c.get("/api/info", headers=H).json()
    assert info["blind"] and not info["network"]
    ev = c.get("/api/events/0", headers=H).json()
    assert not ev["truth"] and not ev["network"]
    for what in ("network", "truth"):
        r = c.get(f"/api/events/0/planes/2/{what}", headers=H)
        assert r.status_code == 403 and "blind" in r.json()["error"]
    assert _edit(c, {"tool": "network", "code": 1}).status_code == 403
    assert c.get("/api/events/0/next?order=uncertainty", headers=H).status_code == 409


BAD_BODIES = [
    ({"tool": "lasso", "code": 1}, "tool"),
    ({"tool": "brush", "code": 7, "points": [[1, 1]]}, "code"),
    ({"tool": "brush", "code": -1, "points": [[1, 1]]}, "code"),
    ({"tool": "brush", "code": "track", "points": [[1, 1]]}, "code"),
    ({"tool": "brush", "code": 1, "points": [[1, 1]], "radius": 1e9}, "radius"),
    ({"tool": "brush", "code": 1, "points": [[1, 1, 1]]}, "points"),
    ({"tool": "brush", "code": 1, "points": "all"}, "points"),
    ({"tool": "brush", "code": 1, "points": [[1, 1]], "path": "/etc/passwd"}, "path"),
    ({"tool": "brush", "code": 1}, "no points"),
    ({"tool": "polygon", "code": 1, "points": [[1, 1], [2, 2]]}, "at least 3"),
    ({"tool": "pixels", "code": 1, "pixels": [ROWS * COLS]}, "out of"),
    ({"tool": "pixels", "code": 1, "pixels": [-1]}, "out of"),
    ({"tool": "brush", "code": 1, "points": [[1, 1]] * 20001}, "points"),
    ({"code": 1}, "tool"),
]


def test_bad_bodies_get_clear_errors_and_change_nothing(sample, tmp_path):
    session, c = _client(sample, tmp_path)
    _edit(c, {"tool": "cluster", "code": 1, "points": [[5, 10]]})
    journal = journal_path(tmp_path / "labels.h5")
    before = hashlib.sha256(journal.read_bytes()).hexdigest()
    state = _labels(c)[0]
    for body, words in BAD_BODIES:
        r = _edit(c, body)
        assert 400 <= r.status_code < 500, body
        error = r.json()["error"]
        assert words in error and "\n" not in error, (body, error)
    for raw in (b"{not json", b"[]", b"null", b'{"tool": "brush", "code": 1, "points": [[NaN, 1]]}'):
        r = c.post("/api/events/0/planes/2/edit", headers={**H, "Content-Type": "application/json"}, content=raw)
        assert 400 <= r.status_code < 500 and "error" in r.json(), raw
    r = c.post("/api/events/0/planes/2/edit", headers={**H, "Content-Type": "application/json"},
               content=b" " * (MAX_BODY + 1))
    assert r.status_code == 413
    assert c.post("/api/events/0/done", headers=H, json={"done": "maybe"}).status_code == 422
    assert c.get("/api/events/0/next?step=5", headers=H).status_code == 422
    assert c.get("/api/events/0/next?order=random", headers=H).status_code == 422
    assert hashlib.sha256(journal.read_bytes()).hexdigest() == before
    assert _labels(c)[0] == state
    session.close()
    (ev,) = load_labels(tmp_path / "labels.h5")
    assert dict(zip(ev.planes[2].index.tolist(), ev.planes[2].code.tolist())) == state


def test_session_refuses_bad_inputs_in_one_line(sample, tmp_path):
    with pytest.raises(LarsegError, match="no such file"):
        ScanSession([tmp_path / "missing.h5"], tmp_path / "l.h5", "alice")
    with pytest.raises(LarsegError, match="scanner name"):
        ScanSession([sample], tmp_path / "l.h5", "")
    with pytest.raises(LarsegError, match="not both"):
        ScanSession([sample], tmp_path / "l.h5", "alice", model="a.pt", predictions="b.h5")
    with pytest.raises(LarsegError, match="does not exist"):
        ScanSession([sample], tmp_path / "nodir" / "l.h5", "alice")
