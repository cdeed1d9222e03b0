"""End-to-end tests of ``larseg scan`` in a real browser (headless Debian chromium + chromedriver).

The real server runs as a subprocess on a small ``.npz`` built here (3 events of 3 planes: two
straight tracks and a blob each, with truth labels); Selenium paints on the page at exact pixels
(``window.larsegScan.imageToClient``) and the labels are checked through the API. Screenshots go
to ``tmp_path``; ``LARSEG_SCREENSHOTS=1`` also runs the test that makes the docs' screenshots
(``docs/images/scan-*.png``) on a realistic event with the shipped model.

Run: ``.venv/bin/pytest tests/scan/test_browser.py`` (needs ``apt-get install chromium chromium-driver``).
"""

from __future__ import annotations

import json
import os
import queue
import re
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
#: `make test-browser` (CI) sets this: there a missing browser or package fails instead of skipping
REQUIRED = os.environ.get("LARSEG_REQUIRE_BROWSER") == "1"


def _need(ok: bool, why: str) -> None:
    if ok:
        return
    if REQUIRED:
        pytest.fail(f"LARSEG_REQUIRE_BROWSER=1 but {why}", pytrace=False)
    pytest.skip(why, allow_module_level=True)


def _importable(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


_need(CHROMIUM.exists() and CHROMEDRIVER.exists(),
      "browser tests need Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver)")
_need(_importable("selenium"), "browser tests need selenium (pip install 'larseg[browser]')")
_need(_importable("fastapi") and _importable("uvicorn"), "larseg scan needs the 'scan' extra")

from selenium import webdriver  # noqa: E402
from selenium.webdriver.common.action_chains import ActionChains  # noqa: E402
from selenium.webdriver.common.actions.action_builder import ActionBuilder  # noqa: E402
from selenium.webdriver.common.actions.mouse_button import MouseButton  # noqa: E402
from selenium.webdriver.common.actions.wheel_input import ScrollOrigin  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SCREENSHOTS = os.environ.get("LARSEG_SCREENSHOTS") == "1"
URL_LINE = re.compile(r"open (http://\S+\?token=(\S+))")
TIMEOUT = 20
# the synthetic planes: (rows, cols) of planes 0, 1, 2
SHAPES = [(64, 96), (64, 96), (64, 128)]


# -- the sample file


def _line(r0, c0, r1, c1):
    n = int(2 * max(abs(r1 - r0), abs(c1 - c0))) + 1
    rr = np.round(np.linspace(r0, r1, n)).astype(int)
    cc = np.round(np.linspace(c0, c1, n)).astype(int)
    return sorted(set(zip(rr.tolist(), cc.tolist())))


def _blob(r, c, radius):
    return [(r + dr, c + dc) for dr in range(-radius, radius + 1) for dc in range(-radius, radius + 1)
            if dr * dr + dc * dc <= radius * radius]


def sample_parts(event: int, plane: int) -> dict[str, list[tuple[int, int]]]:
    """Pixels (row, col) of the three objects of a plane: well apart, so each is one 8-connected cluster."""
    rows, cols = SHAPES[plane]
    s = 2 * event + plane
    return {"track_a": _line(10 + s, 8, 12 + s, cols // 2 + 10),
            "track_b": _line(30, cols - 30 + s, 56, cols - 8),
            "blob": _blob(44, 24 + s, 5)}


@pytest.fixture(scope="module")
def sample(tmp_path_factory) -> Path:
    n = 3
    planes = [np.zeros((n, *shape), np.float32) for shape in SHAPES]
    labels = [np.zeros((n, *shape), np.uint8) for shape in SHAPES]
    rng = np.random.default_rng(5)
    for e in range(n):
        for p in range(3):
            for name, pixels in sample_parts(e, p).items():
                rr, cc = np.array(pixels).T
                planes[p][e, rr, cc] = rng.uniform(30, 90, len(rr))
                labels[p][e, rr, cc] = 2 if name == "blob" else 1
    path = tmp_path_factory.mktemp("sample") / "sample.npz"
    arrays = {f"plane{p}": planes[p] for p in range(3)} | {f"label{p}": labels[p] for p in range(3)}
    np.savez_compressed(path, **arrays, run=np.full(n, 7), subrun=np.zeros(n, int), event=np.arange(n) + 100)
    return path


def flat(pixels, plane: int) -> list[int]:
    cols = SHAPES[plane][1]
    return sorted(r * cols + c for r, c in pixels)


# -- the server


class Server:
    """``larseg scan`` as a subprocess; ``url`` and ``token`` from the line it prints."""

    def __init__(self, files, labels: Path, *extra: str):
        self.args = [sys.executable, "-m", "larseg", "scan", *map(str, files), "--labels", str(labels),
                     "--scanner", "tester", "--no-browser", "--port", "0", *extra]
        self.proc = None
        self.url = self.token = None
        self.start()

    def start(self, timeout: float = 90) -> None:
        env = dict(os.environ, PYTHONUNBUFFERED="1", OMP_NUM_THREADS="1")
        self.proc = subprocess.Popen(self.args, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True)
        lines: queue.Queue = queue.Queue()
        self.output: list[str] = []

        def read(stream):
            for line in stream:
                lines.put(line)
            lines.put(None)

        threading.Thread(target=read, args=(self.proc.stdout,), daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                break
            if line is None:
                break
            self.output.append(line)
            m = URL_LINE.search(line)
            if m:
                self.url, self.token = m.group(1), m.group(2)
                self.base = self.url.split("/?")[0]
                return
        self.stop()
        raise AssertionError("larseg scan did not print its URL:\n" + "".join(self.output))

    def api(self, path: str, body=None, expect: int = 200):
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.base + "/api" + path, data=data, method="POST" if data else "GET",
                                     headers={"X-Larseg-Token": self.token, "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                status, payload = res.status, json.loads(res.read())
        except urllib.error.HTTPError as exc:
            status, payload = exc.code, json.loads(exc.read() or b"null")
        assert status == expect, (path, status, payload)
        return payload

    def labels(self, event: int, plane: int) -> dict[int, int]:
        got = self.api(f"/events/{event}/planes/{plane}/labels")
        return dict(zip(got["index"], got["code"]))

    def kill(self) -> None:
        self.proc.kill()  # SIGKILL: no chance to save
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def servers():
    started: list[Server] = []

    def start(*args, **kw) -> Server:
        s = Server(*args, **kw)
        started.append(s)
        return s

    yield start
    for s in started:
        s.stop()


# -- the browser


@pytest.fixture(scope="module")
def driver():
    opts = webdriver.ChromeOptions()
    opts.binary_location = str(CHROMIUM)
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,900",
                "--hide-scrollbars", "--force-device-scale-factor=1", "--no-first-run", "--disable-extensions"):
        opts.add_argument(arg)
    d = webdriver.Chrome(options=opts, service=webdriver.ChromeService(executable_path=str(CHROMEDRIVER)))
    d.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                      {"width": 1400, "height": 900, "deviceScaleFactor": 1, "mobile": False})
    d.set_script_timeout(TIMEOUT)
    yield d
    d.quit()


@pytest.fixture
def shots(tmp_path) -> Path:
    if SCREENSHOTS:
        out = REPO / "docs" / "images"
        out.mkdir(parents=True, exist_ok=True)
        return out
    return tmp_path


def js(d, script: str, *args):
    return d.execute_script(script, *args)


def wait_ready(d, timeout: float = TIMEOUT) -> None:
    WebDriverWait(d, timeout, poll_frequency=0.05).until(
        lambda d: js(d, "return !!(window.larsegScan && window.larsegScan.ready)"),
        message="the page did not become ready: " + str(status_text(d)))


def status_text(d) -> str:
    try:
        return d.find_element(By.ID, "status").text
    except Exception:  # only for a message
        return "?"


def open_page(d, server: Server, fragment: str = "") -> None:
    d.get(server.url + fragment)
    wait_ready(d)


def edits(d) -> int:
    return js(d, "return window.larsegScan.state.edits")


def after_edit(d, before: int, n: int = 1) -> None:
    """Wait until ``n`` more edit answers have arrived and the page is idle."""
    WebDriverWait(d, TIMEOUT, poll_frequency=0.05).until(
        lambda d: edits(d) >= before + n and js(d, "return window.larsegScan.ready"),
        message="no answer to the edit: " + status_text(d))


def client(d, row: float, col: float) -> tuple[int, int]:
    p = js(d, "return window.larsegScan.imageToClient(arguments[0], arguments[1])", float(row), float(col))
    return round(p["x"]), round(p["y"])


def wheel(d, x: int, y: int, delta_y: int) -> None:
    """Real wheel input at client (x, y)."""
    ActionChains(d).scroll_from_origin(ScrollOrigin.from_viewport(x, y), 0, delta_y).perform()


def pointer(d):
    return ActionBuilder(d, duration=20)


def drag(d, points, button=MouseButton.LEFT) -> None:
    """Press at the first (row, col), move through the others, release."""
    ab = pointer(d)
    x, y = client(d, *points[0])
    ab.pointer_action.move_to_location(x, y)
    ab.pointer_action.pointer_down(button)
    for r, c in points[1:]:
        ab.pointer_action.move_to_location(*client(d, r, c))
    ab.pointer_action.pointer_up(button)
    ab.perform()


def click_pixel(d, row: float, col: float) -> None:
    ab = pointer(d)
    ab.pointer_action.move_to_location(*client(d, row, col))
    ab.pointer_action.click()
    ab.perform()


def press(d, *keys: str) -> None:
    ActionChains(d).send_keys(*keys).perform()


def click(d, element_id: str) -> None:
    d.find_element(By.ID, element_id).click()


def text(d, element_id: str) -> str:
    return d.find_element(By.ID, element_id).text


def set_range(d, element_id: str, value: float) -> None:
    js(d, "const s = document.getElementById(arguments[0]); s.value = arguments[1];"
          "s.dispatchEvent(new Event('input'))", element_id, value)


def set_radius(d, r: float) -> None:
    set_range(d, "brush-radius", r)


def canvas_rgb(d, row: int, col: int) -> list[int]:
    """The colour the visible canvas shows at the centre of image pixel (row, col)."""
    return js(d, """
        const c = document.getElementById('canvas'), r = c.getBoundingClientRect();
        const p = window.larsegScan.imageToClient(arguments[0], arguments[1]), k = window.devicePixelRatio || 1;
        const px = c.getContext('2d').getImageData(Math.floor((p.x - r.left) * k), Math.floor((p.y - r.top) * k), 1, 1);
        return Array.from(px.data.slice(0, 3));""", int(row), int(col))


def counts_shown(d) -> dict[str, str]:
    return {k: text(d, f"count-{k}") for k in ("track", "shower", "ignore")} | {
        "unlabelled": text(d, "progress-unlabelled"), "events": text(d, "progress-events")}


# -- the tests


def test_page_draws_the_plane_and_its_controls(driver, sample, servers, tmp_path):
    server = servers([sample], sample.parent / "l0.h5")
    open_page(driver, server)
    d = driver
    state = js(d, "const s = window.larsegScan.state; return {event: s.event, plane: s.plane, rows: s.image.rows,"
                  " cols: s.image.cols, blind: s.info.blind}")
    assert state == {"event": 0, "plane": 2, "rows": 64, "cols": 128, "blind": False}
    options = [o.text for o in d.find_elements(By.CSS_SELECTOR, "#plane option")]
    assert options == ["U (0)", "V (1)", "Y (2)"]
    assert text(d, "event-total") == "/ 3"
    nz = sum(len(v) for v in sample_parts(0, 2).values())
    assert text(d, "progress-unlabelled") == f"{nz} / {nz}"
    assert text(d, "progress-events") == "0 / 3"
    # zoomed to the charge: every charged pixel is on screen, and drawn in the colour map (not background)
    r, c = sample_parts(0, 2)["blob"][0]
    assert canvas_rgb(d, r, c) != [20, 23, 29]
    assert canvas_rgb(d, 25, 60) == [0, 0, 0]  # inside the image, no charge
    for el in ("show-network", "from-network", "next-uncertain"):  # no model: no network controls
        assert not d.find_element(By.ID, el).is_displayed()
    assert d.find_element(By.ID, "show-truth").is_displayed()
    # the truth overlay loads on demand
    click(d, "show-truth")
    wait_ready(d)
    assert js(d, "return window.larsegScan.state.truth.index.length") == nz
    # plane selector and keyboard navigation
    d.find_element(By.CSS_SELECTOR, "#plane option[value='0']").click()
    wait_ready(d)
    assert js(d, "return [window.larsegScan.state.plane, window.larsegScan.state.image.cols]") == [0, 96]
    press(d, "n")
    WebDriverWait(d, TIMEOUT).until(lambda d: js(d, "return window.larsegScan.state.event") == 1)
    wait_ready(d)
    assert d.find_element(By.ID, "event").get_attribute("value") == "1"
    assert js(d, "return window.larsegScan.state.plane") == 0  # the plane is kept
    press(d, "p")
    WebDriverWait(d, TIMEOUT).until(lambda d: js(d, "return window.larsegScan.state.event") == 0)
    wait_ready(d)
    # the wheel zooms about the cursor; a right-button drag pans; z zooms back to the charge
    r, c = sample_parts(0, 0)["blob"][3]
    x, y = client(d, r, c)
    scale = js(d, "return window.larsegScan.state.view.scale")
    wheel(d, x, y, -200)
    WebDriverWait(d, TIMEOUT).until(lambda d: js(d, "return window.larsegScan.state.view.scale") > scale * 1.2)
    x2, y2 = client(d, r, c)
    assert abs(x2 - x) <= 1 and abs(y2 - y) <= 1
    target = client(d, r + 3, c + 5)
    drag(d, [(r, c), (r + 3, c + 5)], button=MouseButton.RIGHT)
    x3, y3 = client(d, r, c)
    assert abs(x3 - target[0]) <= 1 and abs(y3 - target[1]) <= 1  # the image moved with the mouse
    assert js(d, "return window.larsegScan.state.edits") == 0  # panning labels nothing
    press(d, "z")
    assert js(d, "return window.larsegScan.state.view.scale") == pytest.approx(scale)
    # help overlay
    press(d, "h")
    assert d.find_element(By.ID, "help-overlay").is_displayed()
    d.save_screenshot(str(tmp_path / "help.png"))
    press(d, Keys.ESCAPE)
    assert not d.find_element(By.ID, "help-overlay").is_displayed()
    # an event number past the end goes to the last event
    js(d, "document.getElementById('event').value = '7'; document.getElementById('event')"
          ".dispatchEvent(new Event('change'))")
    wait_ready(d)
    assert js(d, "return window.larsegScan.state.event") == 2  # clamped to the last event


def test_brush_cluster_undo_save_reload_kill_restart(driver, sample, servers, tmp_path):
    labels_file = sample.parent / "l1.h5"
    server = servers([sample], labels_file)
    d = driver
    open_page(d, server)
    parts = sample_parts(0, 2)
    ev, pl = 0, 2

    # brush: radius 1 along the middle of track A, class track
    click(d, "class-track")
    click(d, "tool-brush")
    set_radius(d, 1)
    track_a = parts["track_a"]
    start, end = track_a[10], track_a[40]
    n = edits(d)
    drag(d, [start, ((start[0] + end[0]) / 2, (start[1] + end[1]) / 2), end])
    after_edit(d, n)
    got = server.labels(ev, pl)
    assert got, "the brush labelled nothing"
    assert set(got.values()) == {1}
    assert set(got) <= set(flat(track_a, pl)), "the brush labelled pixels outside the track"
    inner = [(r, c) for r, c in track_a if start[1] + 1 < c < end[1] - 1]
    assert set(flat(inner, pl)) <= set(got), "the brush missed pixels of its stroke"
    after_brush = got

    # cluster click on the blob, class shower (by keyboard)
    press(d, "2")
    press(d, "c")
    assert js(d, "return [window.larsegScan.state.code, window.larsegScan.state.tool]") == [2, "cluster"]
    blob = parts["blob"]
    n = edits(d)
    click_pixel(d, *blob[len(blob) // 2])
    after_edit(d, n)
    got = server.labels(ev, pl)
    assert {k for k, v in got.items() if v == 2} == set(flat(blob, pl))
    assert {k: v for k, v in got.items() if v == 1} == after_brush
    assert text(d, "count-shower") == str(len(blob))

    # undo (button): the blob is unlabelled again; redo (Ctrl+Shift+Z) brings it back, Ctrl+Z undoes it
    # again and Ctrl+Y redoes it
    n = edits(d)
    click(d, "undo")
    after_edit(d, n)
    assert server.labels(ev, pl) == after_brush
    assert text(d, "count-shower") == "0"
    n = edits(d)
    ActionChains(d).key_down(Keys.CONTROL).key_down(Keys.SHIFT).send_keys("z").key_up(Keys.SHIFT).key_up(
        Keys.CONTROL).perform()
    after_edit(d, n)
    assert len(server.labels(ev, pl)) == len(after_brush) + len(blob)
    n = edits(d)
    ActionChains(d).key_down(Keys.CONTROL).send_keys("z").key_up(Keys.CONTROL).perform()
    after_edit(d, n)
    assert server.labels(ev, pl) == after_brush
    n = edits(d)
    ActionChains(d).key_down(Keys.CONTROL).send_keys("y").key_up(Keys.CONTROL).perform()
    after_edit(d, n)
    labelled = server.labels(ev, pl)
    assert len(labelled) == len(after_brush) + len(blob)
    assert not d.find_element(By.ID, "undo").get_attribute("disabled")
    assert d.find_element(By.ID, "redo").get_attribute("disabled")

    # mark done, save, reload: the labels and the counters come back
    click(d, "done")
    WebDriverWait(d, TIMEOUT).until(lambda d: d.find_element(By.ID, "done").get_attribute("aria-pressed") == "true")
    wait_ready(d)
    click(d, "save")
    WebDriverWait(d, TIMEOUT).until(lambda d: "saved" in status_text(d))
    assert labels_file.exists()
    shown = counts_shown(d)
    d.refresh()
    wait_ready(d)
    assert js(d, "return [window.larsegScan.state.event, window.larsegScan.state.plane]") == [ev, pl]
    assert counts_shown(d) == shown
    nz = sum(len(v) for v in parts.values())
    assert shown == {"track": str(len(after_brush)), "shower": str(len(blob)), "ignore": "0",
                     "unlabelled": f"{nz - len(labelled)} / {nz}", "events": "1 / 3"}
    assert d.find_element(By.ID, "done").get_attribute("aria-pressed") == "true"
    assert server.labels(ev, pl) == labelled
    # the hand labels are drawn: a labelled pixel shows the track colour mixed in (yellow: red >> blue)
    r, c = inner[len(inner) // 2]
    rgb = canvas_rgb(d, r, c)
    assert rgb[0] > 150 and rgb[0] > rgb[2] + 60, rgb

    # after the save: a lasso (class ignore) round track B, closed by a double-click -- journaled only
    press(d, "3")
    press(d, "l")
    track_b = parts["track_b"]
    rr, cc = np.array(track_b).T
    r0, r1, c0, c1 = rr.min() - 2, rr.max() + 2, cc.min() - 2, cc.max() + 2
    for corner in ((r0, c0), (r0, c1), (r1, c1)):
        click_pixel(d, *corner)
    n = edits(d)
    x, y = client(d, r1, c0)
    ab = pointer(d)
    ab.pointer_action.move_to_location(x, y)
    ab.pointer_action.double_click()
    ab.perform()
    after_edit(d, n)
    got = server.labels(ev, pl)
    assert {k for k, v in got.items() if v == 3} == set(flat(track_b, pl))
    assert text(d, "count-ignore") == str(len(track_b))
    # and one more brush stroke on another plane
    d.find_element(By.CSS_SELECTOR, "#plane option[value='1']").click()
    wait_ready(d)
    press(d, "1")
    press(d, "b")
    a1 = sample_parts(0, 1)["track_a"]
    n = edits(d)
    drag(d, [a1[5], a1[20]])
    after_edit(d, n)
    d.save_screenshot(str(tmp_path / "synthetic.png"))
    def stored():
        return {p: {k: server.api(f"/events/{ev}/planes/{p}/labels")[k] for k in ("index", "code")} for p in range(3)}

    before = stored()
    assert before[1]["index"] and before[2]["index"] and not before[0]["index"]
    assert dict(zip(before[2]["index"], before[2]["code"])) == server.labels(ev, pl)

    # kill -9 the server, restart it on the same labels file: every label is there, exactly
    server.kill()
    server.start()
    assert stored() == before
    assert server.api(f"/events/{ev}")["done"] is True
    # the page, on the new server, shows them
    open_page(d, server, f"#e={ev}&p={pl}")
    assert text(d, "count-ignore") == str(len(track_b))
    assert text(d, "count-shower") == str(len(blob))
    assert text(d, "progress-events") == "1 / 3"


def test_lasso_by_enter_erase_and_errors(driver, sample, servers):
    server = servers([sample], sample.parent / "l2.h5")
    d = driver
    open_page(d, server, "#e=1&p=0")
    assert js(d, "return [window.larsegScan.state.event, window.larsegScan.state.plane]") == [1, 0]
    parts = sample_parts(1, 0)
    blob = parts["blob"]
    rr, cc = np.array(blob).T
    box = [(rr.min() - 2, cc.min() - 2), (rr.min() - 2, cc.max() + 2), (rr.max() + 2, cc.max() + 2),
           (rr.max() + 2, cc.min() - 2)]
    press(d, "1")
    press(d, "l")
    n = edits(d)
    for corner in box:
        click_pixel(d, *corner)
    wait_ready(d)
    assert edits(d) == n and js(d, "return window.larsegScan.state.queued") == 0  # nothing sent while drawing
    press(d, Keys.ENTER)
    after_edit(d, n)
    assert server.labels(1, 0) == dict.fromkeys(flat(blob, 0), 1)
    # erase half of it with the brush (class erase by 'e')
    press(d, "e")
    press(d, "b")
    set_radius(d, 0)
    row = blob[len(blob) // 2][0]
    n = edits(d)
    drag(d, [(row, cc.min() - 1), (row, cc.max() + 1)])
    after_edit(d, n)
    erased = {k for k in flat(blob, 0) if k // SHAPES[0][1] == row}
    assert set(server.labels(1, 0)) == set(flat(blob, 0)) - erased
    # brush size by keyboard
    press(d, "]", "]")
    assert js(d, "return window.larsegScan.state.radius") == 1.0
    press(d, "[")
    assert js(d, "return window.larsegScan.state.radius") == 0.5
    # an error answer is shown in the status line (nothing to redo after a new edit)
    ActionChains(d).key_down(Keys.CONTROL).send_keys("y").key_up(Keys.CONTROL).perform()
    WebDriverWait(d, TIMEOUT).until(lambda d: "nothing to redo" in status_text(d))
    assert "error" in d.find_element(By.ID, "status").get_attribute("class")
    # a stopped server is reported, not hidden
    server.kill()
    click(d, "save")
    WebDriverWait(d, TIMEOUT).until(lambda d: "cannot reach" in status_text(d))


def test_blind_mode_hides_network_and_truth(driver, sample, servers):
    server = servers([sample], sample.parent / "l3.h5", "--blind")
    d = driver
    open_page(d, server)
    assert js(d, "return window.larsegScan.state.info.blind") is True
    for el in ("show-network", "show-truth", "truth-opacity", "network-opacity", "from-network", "next-uncertain"):
        assert not d.find_element(By.ID, el).is_displayed(), el
    assert d.find_element(By.ID, "blind-note").is_displayed()
    server.api("/events/0/planes/2/truth", expect=403)
    server.api("/events/0/planes/2/network", expect=403)
    assert js(d, "return window.larsegScan.state.truth") is None


def test_a_full_size_plane(driver, servers, tmp_path):
    """A 1008 x 3456 plane (MicroBooNE's collection plane, 6 ticks per pixel): drawn, zoomed, labelled."""
    rows, cols = 1008, 3456
    image = np.zeros((rows, cols), np.float32)
    track = _line(100, 200, 900, 3300)
    rr, cc = np.array(track).T
    image[rr, cc] = 50
    image[500:503, 40:44] = 80  # a small cluster far from the track
    path = tmp_path / "big.npz"
    np.savez_compressed(path, plane0=image)
    server = servers([path], tmp_path / "big.h5")
    d = driver
    open_page(d, server)
    assert js(d, "return [window.larsegScan.state.image.rows, window.larsegScan.state.image.cols]") == [rows, cols]
    x0, _ = client(d, 500, 40)
    x1, _ = client(d, 100, 3300)
    assert 0 <= x0 < x1 <= 1400  # the charge's bounding box fits the view
    press(d, "c")
    n = edits(d)
    click_pixel(d, *track[len(track) // 2])
    after_edit(d, n)
    assert server.labels(0, 0) == dict.fromkeys(sorted(r * cols + c for r, c in track), 1)
    assert text(d, "count-track") == str(len(track))


def _tiny_checkpoint(path: Path) -> Path:
    """A tiny untrained U-ResNet checkpoint (random weights; only its overlay is looked at)."""
    import torch

    from larseg import __version__
    from larseg.config import to_yaml
    from larseg.model import ModelConfig, build_model, save_atomic
    from larseg.model.io import FORMAT

    torch.manual_seed(0)
    model = build_model(ModelConfig(name="tiny", stem_filters=4, filters=(4, 8, 8))).eval()
    with torch.no_grad():
        model.head[-1].bias.copy_(torch.tensor([-4.0, 0.3, -0.3]))  # charged pixels come out track or shower
    save_atomic({"format": FORMAT, "task": "segment", "model": model.state_dict(),
                 "model_config": to_yaml(model.config), "provenance": {"larseg_version": __version__}}, path)
    return path


def test_network_overlay_and_start_from_network(driver, sample, servers, tmp_path):
    pytest.importorskip("torch")
    model = _tiny_checkpoint(tmp_path / "tiny.pt")
    server = servers([sample], sample.parent / "l4.h5", "--model", str(model))
    d = driver
    open_page(d, server)
    for el in ("show-network", "from-network", "next-uncertain"):
        assert d.find_element(By.ID, el).is_displayed(), el
    click(d, "show-network")
    wait_ready(d)
    net = server.api("/events/0/planes/2/network")
    assert js(d, "return window.larsegScan.state.network.index.length") == len(net["index"])
    d.find_element(By.CSS_SELECTOR, "#network-mode option[value='shower']").click()
    wait_ready(d)
    # a hand label first: start-from-network keeps it
    press(d, "3", "c")
    blob = sample_parts(0, 2)["blob"]
    n = edits(d)
    click_pixel(d, *blob[0])
    after_edit(d, n)
    n = edits(d)
    click(d, "from-network")
    after_edit(d, n)
    got = server.labels(0, 2)
    want = {k: v for k, v in zip(net["index"], net["label"]) if v != 0} | dict.fromkeys(flat(blob, 2), 3)
    assert got == want
    # next uncertain: another event (the current one is excluded)
    click(d, "next-uncertain")
    WebDriverWait(d, TIMEOUT).until(lambda d: js(d, "return window.larsegScan.state.event") != 0)
    wait_ready(d)


REAL_DATA = REPO / "data" / "ccpi0-datalike.h5"
REAL_MODEL = REPO / "models" / "larseg-sparse-cpu.pt"


@pytest.mark.skipif(not SCREENSHOTS, reason="screenshots for the docs: set LARSEG_SCREENSHOTS=1")
@pytest.mark.skipif(not (REAL_DATA.exists() and REAL_MODEL.exists()), reason="needs data/ccpi0-datalike.h5 and "
                                                                             "models/larseg-sparse-cpu.pt")
def test_screenshots_of_a_realistic_event(driver, servers, tmp_path, shots):
    event = int(os.environ.get("LARSEG_SCREENSHOT_EVENT", "3"))
    server = servers([REAL_DATA], tmp_path / "labels.h5", "--model", str(REAL_MODEL))
    d = driver
    open_page(d, server, f"#e={event}&p=2")
    d.find_element(By.CSS_SELECTOR, "#cmap option[value='grey']").click()
    click(d, "show-network")
    wait_ready(d)
    set_range(d, "network-opacity", 0.4)
    set_range(d, "labels-opacity", 0.9)
    # start from the network, then erase the right part with the lasso: the network's overlay shows there
    n = edits(d)
    click(d, "from-network")
    after_edit(d, n)
    rows, cols, index = js(d, "const s = window.larsegScan.state.image; return [s.rows, s.cols, s.index]")
    rr, cc = np.divmod(np.asarray(index), cols)
    split = float(np.percentile(cc, 50))
    press(d, "e", "l")
    top, bottom, last = rr.min() - 2, rr.max() + 2, min(cc.max() + 2, cols)
    for corner in ((top, split), (top, last), (bottom, last)):
        click_pixel(d, *corner)
    n = edits(d)
    click_pixel(d, bottom, split)
    press(d, Keys.ENTER)
    after_edit(d, n)
    # zoom in (the wheel, about the cursor) between the labelled and the unlabelled part
    right = np.flatnonzero(cc > split + 10)
    k = right[len(right) // 2]
    wheel(d, *client(d, (rr.mean() + rr[k]) / 2, split), -300)
    # the brush over an unlabelled pixel: the cursor readout shows the network's opinion
    press(d, "2", "b")
    set_radius(d, 3)
    ab = pointer(d)
    ab.pointer_action.move_to_location(*client(d, rr[k], cc[k]))
    ab.perform()
    wait_ready(d)
    d.save_screenshot(str(shots / "scan-overview.png"))
    # a lasso being drawn, the network overlay as shower score
    d.find_element(By.CSS_SELECTOR, "#network-mode option[value='shower']").click()
    press(d, "1", "l")
    sel = cc > split
    r0, r1 = np.percentile(rr[sel], [25, 75])
    c0, c1 = np.percentile(cc[sel], [25, 75])
    for corner in ((r0, c0), (r0 - 4, (c0 + c1) / 2), (r0, c1), (r1, c1)):
        click_pixel(d, *corner)
    ab = pointer(d)
    ab.pointer_action.move_to_location(*client(d, r1 + 3, c0))
    ab.perform()
    wait_ready(d)
    d.save_screenshot(str(shots / "scan-lasso.png"))
    press(d, Keys.ESCAPE)
    press(d, "h")
    d.save_screenshot(str(shots / "scan-help.png"))
    press(d, Keys.ESCAPE)
