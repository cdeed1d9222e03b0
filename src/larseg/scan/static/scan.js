// larseg scan: the hand-scanning page (plain JS, no build step, no external resources).
//
// The plane image is rendered once, at native resolution, into an offscreen canvas (one pixel per
// wire x tick); hand labels, network labels / shower score and truth are further offscreen layers
// of the same size. The visible canvas draws them scaled (imageSmoothingEnabled = false) under a
// view transform {scale, ox, oy}: client x = ox + (col + 0.5) * scale at the centre of pixel col.
// Every edit is sent to the server (which journals it before answering) and the answer, the
// plane's new labels, replaces the local copy.
'use strict';

(() => {
  const TOKEN = new URLSearchParams(location.search).get('token') || '';
  const CLASS_NAMES = ['erase', 'track', 'shower', 'ignore'];
  const LABEL_NAMES = ['none', 'track', 'shower', 'ignore'];
  const TRACK_RGB = [255, 214, 0];
  const SHOWER_RGB = [0, 214, 255];
  const IGNORE_RGBA = [214, 64, 230, 150];
  const BG = '#14171d';
  const STROKE_CHUNK = 4000; // brush points per request while dragging (the server takes 20000)
  const MAX_RADIUS = 64;
  const MIN_SCALE = 0.02;
  const MAX_SCALE = 64;
  const SETTINGS_KEY = 'larseg-scan-settings';

  const $ = (id) => document.getElementById(id);
  const pack = (r, g, b, a) => ((a << 24) | (b << 16) | (g << 8) | r) >>> 0; // little-endian RGBA

  // -- colour maps (value / vmax in 0..1 -> RGB), as 256-entry lookup tables

  const CMAPS = {
    viridis: [[0, [68, 1, 84]], [0.25, [59, 82, 139]], [0.5, [33, 145, 140]], [0.75, [94, 201, 98]],
      [1, [253, 231, 37]]],
    grey: [[0, [70, 70, 70]], [1, [255, 255, 255]]],
    heat: [[0, [70, 0, 10]], [0.35, [190, 30, 0]], [0.7, [255, 160, 0]], [1, [255, 250, 210]]],
  };
  const SHARE_STOPS = [[0, TRACK_RGB], [0.5, [255, 60, 90]], [1, SHOWER_RGB]];

  function ramp(stops, t) {
    t = Math.min(1, Math.max(0, t));
    for (let k = 1; k < stops.length; k++) {
      const [t1, c1] = stops[k];
      if (t <= t1) {
        const [t0, c0] = stops[k - 1];
        const f = t1 > t0 ? (t - t0) / (t1 - t0) : 0;
        return c0.map((v, j) => Math.round(v + f * (c1[j] - v)));
      }
    }
    return stops[stops.length - 1][1];
  }

  function lut(stops, alpha = 255) {
    const out = new Uint32Array(256);
    for (let i = 0; i < 256; i++) {
      const [r, g, b] = ramp(stops, i / 255);
      out[i] = pack(r, g, b, alpha);
    }
    return out;
  }

  const LUTS = Object.fromEntries(Object.entries(CMAPS).map(([k, v]) => [k, lut(v)]));
  const SHARE_LUT = lut(SHARE_STOPS);
  const HAND_COLOURS = [0, pack(...TRACK_RGB, 255), pack(...SHOWER_RGB, 255), pack(...IGNORE_RGBA)];
  const NET_COLOURS = [pack(120, 120, 120, 90), pack(...TRACK_RGB, 255), pack(...SHOWER_RGB, 255)];
  const IMAGE_BG = pack(0, 0, 0, 255);

  // -- state

  const state = {
    info: null,
    event: 0,
    eventInfo: null,
    plane: null,
    image: null, // {rows, cols, index, value, vmax}
    labels: null, // {index, code}
    progress: null,
    network: null, // {index, label, shower}
    truth: null, // {index, label}
    code: 1,
    tool: 'brush',
    radius: 2,
    cmap: 'viridis',
    vmax: 1,
    layers: {
      labels: {show: true, opacity: 0.7},
      network: {show: false, opacity: 0.6, mode: 'label'},
      truth: {show: false, opacity: 0.6},
    },
    view: {scale: 1, ox: 0, oy: 0},
    pending: 0, // requests in flight
    queued: 0, // edits / undo / done / save queued or running
    edits: 0, // edit, undo and redo answers received
    drawn: false, // the current plane has been drawn
    loading: 0, // plane loads running
  };

  const layers = {base: null, labels: null, network: null, truth: null};
  let canvas;
  let ctx;
  let loadSeq = 0;
  let queue = Promise.resolve();
  let stroke = null; // {points: [[row, col], ...], last: [row, col]} while the brush is down
  let poly = null; // lasso vertices [[row, col], ...] while drawing
  let panning = null; // {x, y, ox, oy}
  let mouse = null; // last pointer position, canvas CSS pixels
  let spaceDown = false;
  let drawQueued = false;
  let baseQueued = false;

  // -- server

  async function api(path, method = 'GET', body = undefined) {
    const opts = {method, headers: {'X-Larseg-Token': TOKEN}, cache: 'no-store'};
    if (method !== 'GET') {
      opts.headers['Content-Type'] = 'application/json';
      opts.body = JSON.stringify(body || {});
    }
    state.pending++;
    try {
      let res;
      try {
        res = await fetch('/api' + path, opts);
      } catch (_) {
        throw new Error('cannot reach the larseg scan server (has it stopped?)');
      }
      let data = null;
      try {
        data = await res.json();
      } catch (_) { /* not JSON */ }
      if (!res.ok) {
        const err = new Error((data && data.error) || `HTTP ${res.status} ${res.statusText}`);
        err.status = res.status;
        throw err;
      }
      return data;
    } finally {
      state.pending--;
      showLoading();
    }
  }

  // Mutating requests run one at a time, in order.
  function enqueue(fn) {
    state.queued++;
    const run = queue.then(fn).catch(showError).finally(() => {
      state.queued--;
    });
    queue = run;
    return run;
  }

  function setStatus(text, error = false) {
    const el = $('status');
    el.textContent = text;
    el.classList.toggle('error', error);
    el.title = text;
  }

  function showError(err) {
    setStatus(String((err && err.message) || err), true);
  }

  function showLoading() {
    $('loading').hidden = state.loading === 0;
  }

  // -- layers

  function makeLayer(rows, cols) {
    const c = document.createElement('canvas');
    c.width = cols;
    c.height = rows;
    const g = c.getContext('2d');
    const img = g.createImageData(cols, rows);
    return {canvas: c, ctx: g, img, u32: new Uint32Array(img.data.buffer), rows, cols};
  }

  function ensureLayers(rows, cols) {
    for (const name of Object.keys(layers)) {
      const l = layers[name];
      if (!l || l.rows !== rows || l.cols !== cols) layers[name] = makeLayer(rows, cols);
    }
  }

  function paintBase() {
    baseQueued = false;
    const im = state.image;
    const l = layers.base;
    if (!im || !l) return;
    const table = LUTS[state.cmap] || LUTS.viridis;
    const u32 = l.u32;
    u32.fill(IMAGE_BG);
    const k = 255 / Math.max(state.vmax, 1e-6);
    const {index, value} = im;
    for (let i = 0; i < index.length; i++) {
      u32[index[i]] = table[Math.min(255, Math.max(0, Math.round(value[i] * k)))];
    }
    l.ctx.putImageData(l.img, 0, 0);
    requestDraw();
  }

  function queueBase() {
    if (baseQueued) return;
    baseQueued = true;
    requestAnimationFrame(paintBase);
  }

  function paintLabels() {
    const l = layers.labels;
    if (!l) return;
    l.u32.fill(0);
    if (state.labels) {
      const {index, code} = state.labels;
      for (let i = 0; i < index.length; i++) l.u32[index[i]] = HAND_COLOURS[code[i]] || 0;
    }
    l.ctx.putImageData(l.img, 0, 0);
    requestDraw();
  }

  function paintNetwork() {
    const l = layers.network;
    if (!l) return;
    l.u32.fill(0);
    const net = state.network;
    if (net) {
      const {index, label, shower} = net;
      if (state.layers.network.mode === 'shower') {
        for (let i = 0; i < index.length; i++) l.u32[index[i]] = SHARE_LUT[Math.round(shower[i] * 255)];
      } else {
        for (let i = 0; i < index.length; i++) l.u32[index[i]] = NET_COLOURS[label[i]] || 0;
      }
    }
    l.ctx.putImageData(l.img, 0, 0);
    requestDraw();
  }

  function paintTruth() {
    const l = layers.truth;
    if (!l) return;
    l.u32.fill(0);
    if (state.truth) {
      const {index, label} = state.truth;
      for (let i = 0; i < index.length; i++) l.u32[index[i]] = NET_COLOURS[label[i]] || 0;
    }
    l.ctx.putImageData(l.img, 0, 0);
    requestDraw();
  }

  // -- drawing

  function requestDraw() {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(draw);
  }

  function resize() {
    const dpr = window.devicePixelRatio || 1;
    const w = Math.max(1, Math.round(canvas.clientWidth * dpr));
    const h = Math.max(1, Math.round(canvas.clientHeight * dpr));
    if (canvas.width !== w || canvas.height !== h) {
      canvas.width = w;
      canvas.height = h;
    }
    requestDraw();
  }

  function draw() {
    drawQueued = false;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.globalAlpha = 1;
    ctx.fillStyle = BG;
    ctx.fillRect(0, 0, canvas.width, canvas.height);
    const im = state.image;
    if (!im || !layers.base) return;
    const {scale, ox, oy} = state.view;
    ctx.setTransform(dpr * scale, 0, 0, dpr * scale, dpr * ox, dpr * oy);
    ctx.imageSmoothingEnabled = false;
    ctx.drawImage(layers.base.canvas, 0, 0);
    const L = state.layers;
    const blind = state.info && state.info.blind;
    if (!blind && L.truth.show && state.truth) drawLayer(layers.truth, L.truth.opacity);
    if (!blind && L.network.show && state.network) drawLayer(layers.network, L.network.opacity);
    if (L.labels.show && state.labels) drawLayer(layers.labels, L.labels.opacity);
    ctx.globalAlpha = 1;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.strokeStyle = 'rgba(255,255,255,0.18)';
    ctx.lineWidth = 1;
    ctx.strokeRect(ox - 0.5, oy - 0.5, im.cols * scale + 1, im.rows * scale + 1);
    drawTools();
    state.drawn = true;
  }

  function drawLayer(layer, opacity) {
    if (opacity <= 0) return;
    ctx.globalAlpha = opacity;
    ctx.drawImage(layer.canvas, 0, 0);
  }

  function classCss(alpha) {
    const c = state.code;
    if (c === 1) return `rgba(${TRACK_RGB},${alpha})`;
    if (c === 2) return `rgba(${SHOWER_RGB},${alpha})`;
    if (c === 3) return `rgba(214,64,230,${alpha})`;
    return `rgba(235,235,235,${alpha})`;
  }

  function drawTools() {
    const s = state.view.scale;
    if (stroke && stroke.trail.length) {
      ctx.save();
      ctx.strokeStyle = classCss(0.35);
      ctx.lineWidth = Math.max(1, (2 * state.radius + 1) * s);
      ctx.lineCap = 'round';
      ctx.lineJoin = 'round';
      ctx.beginPath();
      stroke.trail.forEach(([r, c], k) => {
        const p = toLocal(r, c);
        if (k === 0) ctx.moveTo(p.x, p.y);
        else ctx.lineTo(p.x, p.y);
      });
      if (stroke.trail.length === 1) {
        const p = toLocal(...stroke.trail[0]);
        ctx.lineTo(p.x + 0.01, p.y);
      }
      ctx.stroke();
      ctx.restore();
    }
    if (poly && poly.length) {
      ctx.save();
      ctx.beginPath();
      poly.forEach(([r, c], k) => {
        const p = toLocal(r, c);
        if (k === 0) ctx.moveTo(p.x, p.y);
        else ctx.lineTo(p.x, p.y);
      });
      if (mouse) ctx.lineTo(mouse.x, mouse.y);
      ctx.closePath();
      ctx.fillStyle = classCss(0.15);
      ctx.fill();
      ctx.setLineDash([5, 4]);
      ctx.strokeStyle = classCss(0.95);
      ctx.lineWidth = 1.5;
      ctx.stroke();
      ctx.setLineDash([]);
      ctx.fillStyle = '#fff';
      for (const [r, c] of poly) {
        const p = toLocal(r, c);
        ctx.fillRect(p.x - 2.5, p.y - 2.5, 5, 5);
      }
      ctx.restore();
    }
    if (mouse && state.tool === 'brush' && !panning && !spaceDown) {
      ctx.save();
      ctx.strokeStyle = classCss(0.9);
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.arc(mouse.x, mouse.y, Math.max(2, (state.radius + 0.5) * s), 0, 2 * Math.PI);
      ctx.stroke();
      ctx.restore();
    }
  }

  // -- coordinates

  function toLocal(row, col) {
    const v = state.view;
    return {x: v.ox + (col + 0.5) * v.scale, y: v.oy + (row + 0.5) * v.scale};
  }

  function toImage(p) {
    const v = state.view;
    return [(p.y - v.oy) / v.scale - 0.5, (p.x - v.ox) / v.scale - 0.5];
  }

  function local(e) {
    const r = canvas.getBoundingClientRect();
    return {x: e.clientX - r.left, y: e.clientY - r.top};
  }

  function fit(r0, c0, r1, c1) {
    // show rows r0..r1 and cols c0..c1 (pixel edges) in the canvas
    const w = canvas.clientWidth;
    const h = canvas.clientHeight;
    const bw = Math.max(c1 - c0, 1);
    const bh = Math.max(r1 - r0, 1);
    const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, Math.min(w / bw, h / bh)));
    state.view = {scale, ox: (w - bw * scale) / 2 - c0 * scale, oy: (h - bh * scale) / 2 - r0 * scale};
    requestDraw();
  }

  function zoomToCharge() {
    const im = state.image;
    if (!im) return;
    if (!im.index.length) {
      fit(0, 0, im.rows, im.cols);
      return;
    }
    let r0 = Infinity;
    let r1 = -Infinity;
    let c0 = Infinity;
    let c1 = -Infinity;
    const cols = im.cols;
    for (const k of im.index) {
      const r = Math.floor(k / cols);
      const c = k - r * cols;
      if (r < r0) r0 = r;
      if (r > r1) r1 = r;
      if (c < c0) c0 = c;
      if (c > c1) c1 = c;
    }
    const pad = Math.max(4, 0.04 * Math.max(r1 - r0, c1 - c0));
    const minSide = 24; // never zoom in further than a 24-pixel box
    const extraR = Math.max(0, minSide - (r1 - r0 + 1)) / 2;
    const extraC = Math.max(0, minSide - (c1 - c0 + 1)) / 2;
    fit(r0 - pad - extraR, c0 - pad - extraC, r1 + 1 + pad + extraR, c1 + 1 + pad + extraC);
  }

  function zoomAt(x, y, factor) {
    const v = state.view;
    const scale = Math.min(MAX_SCALE, Math.max(MIN_SCALE, v.scale * factor));
    const f = scale / v.scale;
    state.view = {scale, ox: x - (x - v.ox) * f, oy: y - (y - v.oy) * f};
    requestDraw();
  }

  // -- lookups

  function find(sorted, x) {
    let lo = 0;
    let hi = sorted.length - 1;
    while (lo <= hi) {
      const m = (lo + hi) >> 1;
      const v = sorted[m];
      if (v === x) return m;
      if (v < x) lo = m + 1;
      else hi = m - 1;
    }
    return -1;
  }

  function showCursor() {
    const el = $('cursor');
    const im = state.image;
    if (!im || !mouse) {
      el.textContent = '–';
      return;
    }
    const [rf, cf] = toImage(mouse);
    const r = Math.round(rf);
    const c = Math.round(cf);
    if (r < 0 || c < 0 || r >= im.rows || c >= im.cols) {
      el.textContent = '–';
      return;
    }
    const flat = r * im.cols + c;
    const parts = [`tick ${r} · wire ${c}`];
    const k = find(im.index, flat);
    parts.push(k >= 0 ? `charge ${fmt(im.value[k])}` : 'no charge');
    if (state.labels) {
      const j = find(state.labels.index, flat);
      parts.push(`hand: ${j >= 0 ? LABEL_NAMES[state.labels.code[j]] : 'unlabelled'}`);
    }
    if (k >= 0 && state.network && state.network.index[k] === flat) {
      parts.push(`network: ${LABEL_NAMES[state.network.label[k]]}, shower ${state.network.shower[k].toFixed(2)}`);
    }
    if (k >= 0 && state.truth && state.truth.index[k] === flat) {
      parts.push(`truth: ${LABEL_NAMES[state.truth.label[k]]}`);
    }
    el.textContent = parts.join('\n');
    el.style.whiteSpace = 'pre-line';
  }

  // -- loading

  function planeName(p) {
    const ev = state.eventInfo;
    const hit = ev && ev.planes.find((x) => x.id === p);
    return hit ? hit.name : String(p);
  }

  function endGestures() {
    // a brush stroke still down is sent (to its own event and plane); a lasso being drawn is dropped
    if (stroke) {
      flushStroke();
      stroke = null;
    }
    poly = null;
  }

  async function loadEvent(i, plane = null) {
    endGestures();
    const n = state.info.events;
    i = ((Math.trunc(i) % n) + n) % n;
    const seq = ++loadSeq;
    state.drawn = false;
    state.loading++;
    showLoading();
    try {
      const ev = await api(`/events/${i}`);
      if (seq !== loadSeq) return;
      state.event = i;
      state.eventInfo = ev;
      $('event').value = String(i);
      const sel = $('plane');
      sel.replaceChildren(...ev.planes.map((p) => new Option(`${p.name} (${p.id})`, String(p.id))));
      const ids = ev.planes.map((p) => p.id);
      let p = plane !== null && ids.includes(plane) ? plane : state.plane;
      if (!ids.includes(p)) p = ids.length ? ids[ids.length - 1] : null;
      $('event-id').textContent = `run ${ev.run} · subrun ${ev.subrun} · event ${ev.event}\n` +
        `${ev.file}, entry ${ev.entry}`;
      $('event-id').style.whiteSpace = 'pre-line';
      document.body.classList.toggle('no-truth', !ev.truth);
      if (p === null) {
        state.image = null;
        setStatus(`event ${i} has no planes`, true);
        requestDraw();
        return;
      }
      sel.value = String(p);
      await loadPlane(p, seq);
    } catch (err) {
      if (seq === loadSeq) showError(err);
    } finally {
      state.loading--;
      showLoading();
    }
  }

  async function loadPlane(p, seq = ++loadSeq) {
    const i = state.event;
    endGestures();
    state.drawn = false;
    state.loading++;
    showLoading();
    try {
      const base = `/events/${i}/planes/${p}`;
      const [image, labels] = await Promise.all([api(base + '/image'), api(base + '/labels')]);
      if (seq !== loadSeq) return;
      state.plane = p;
      state.image = image;
      state.network = null;
      state.truth = null;
      ensureLayers(image.rows, image.cols);
      setVmaxRange(image);
      paintBase();
      applyLabels(labels);
      paintNetwork();
      paintTruth();
      zoomToCharge();
      history.replaceState(null, '', `${location.pathname}${location.search}#e=${i}&p=${p}`);
      document.title = `larseg scan · event ${i} · plane ${planeName(p)}`;
      setStatus(`event ${i}, plane ${planeName(p)}: ${image.rows} × ${image.cols} pixels, ` +
        `${image.index.length} with charge`);
      await loadOverlays(seq);
    } catch (err) {
      if (seq === loadSeq) showError(err);
    } finally {
      state.loading--;
      showLoading();
    }
  }

  async function loadOverlays(seq = loadSeq) {
    const jobs = [];
    if (state.layers.network.show && !state.network && networkAvailable()) jobs.push(loadOverlay('network', seq));
    if (state.layers.truth.show && !state.truth && truthAvailable()) jobs.push(loadOverlay('truth', seq));
    await Promise.all(jobs);
  }

  async function loadOverlay(name, seq = loadSeq) {
    const i = state.event;
    const p = state.plane;
    try {
      const data = await api(`/events/${i}/planes/${p}/${name}`);
      if (seq !== loadSeq || i !== state.event || p !== state.plane) return;
      state[name] = data;
      if (name === 'network') paintNetwork();
      else paintTruth();
    } catch (err) {
      showError(err);
    }
  }

  function networkAvailable() {
    return !!(state.info && state.info.network && !state.info.blind);
  }

  function truthAvailable() {
    return !!(state.eventInfo && state.eventInfo.truth && !(state.info && state.info.blind));
  }

  function setVmaxRange(image) {
    let top = 0;
    for (const v of image.value) if (v > top) top = v;
    const vmax = image.vmax > 0 ? image.vmax : 1;
    top = Math.max(top, vmax * 1.5, 1);
    const slider = $('vmax');
    slider.min = String(Math.min(1, vmax));
    slider.max = String(top);
    slider.step = String(top / 500);
    slider.value = String(vmax);
    state.vmax = vmax;
    $('vmax-value').textContent = fmt(vmax);
  }

  function fmt(v) {
    return v >= 100 ? v.toFixed(0) : v.toFixed(1);
  }

  function applyLabels(data) {
    state.labels = {index: data.index, code: data.code};
    state.progress = data.progress;
    paintLabels();
    showProgress();
  }

  function showProgress() {
    const g = state.progress;
    if (!g) return;
    $('progress-events').textContent = `${g.events_done} / ${g.events_total}`;
    $('progress-unlabelled').textContent = `${g.unlabelled} / ${g.nonzero}`;
    $('count-track').textContent = String(g.track);
    $('count-shower').textContent = String(g.shower);
    $('count-ignore').textContent = String(g.ignore);
    const share = g.nonzero ? 100 * (1 - g.unlabelled / g.nonzero) : 0;
    $('progress-bar').style.width = `${share.toFixed(1)}%`;
    $('undo').disabled = !g.can_undo;
    $('redo').disabled = !g.can_redo;
    setDoneButton(g.done);
  }

  function setDoneButton(done) {
    const b = $('done');
    b.setAttribute('aria-pressed', done ? 'true' : 'false');
    b.textContent = done ? 'done ✓' : 'mark done';
  }

  // -- edits

  function describe(body, changed) {
    const px = `${changed} pixel${changed === 1 ? '' : 's'}`;
    const tool = body.tool === 'polygon' ? 'lasso' : body.tool;
    if (body.tool === 'network') return `start from network: ${px} labelled`;
    return body.code === 0 ? `${tool}: ${px} erased` : `${tool}: ${px} labelled ${CLASS_NAMES[body.code]}`;
  }

  function sendEdit(body, i = state.event, p = state.plane) {
    if (p === null || !state.image) return Promise.resolve();
    return enqueue(async () => {
      const r = await api(`/events/${i}/planes/${p}/edit`, 'POST', body);
      state.edits++;
      if (i === state.event && p === state.plane) applyLabels(r);
      setStatus(describe(body, r.changed));
    });
  }

  function undo(redo = false) {
    const i = state.event;
    const p = state.plane;
    if (p === null) return;
    enqueue(async () => {
      const r = await api(`/events/${i}/planes/${p}/${redo ? 'redo' : 'undo'}`, 'POST');
      state.edits++;
      if (i === state.event && p === state.plane) applyLabels(r);
      setStatus(`${redo ? 'redo' : 'undo'}: ${r.changed} pixel${r.changed === 1 ? '' : 's'} changed`);
    });
  }

  function toggleDone() {
    const i = state.event;
    const p = state.plane;
    const now = !(state.eventInfo && state.eventInfo.done);
    enqueue(async () => {
      const ev = await api(`/events/${i}/done`, 'POST', {done: now});
      if (i !== state.event) return;
      state.eventInfo.done = ev.done;
      setDoneButton(ev.done);
      if (p !== null) {
        const lab = await api(`/events/${i}/planes/${p}/labels`);
        if (i === state.event && p === state.plane) applyLabels(lab);
      }
      setStatus(ev.done ? `event ${i} marked done` : `event ${i} no longer done`);
    });
  }

  function save() {
    enqueue(async () => {
      const r = await api('/save', 'POST');
      setStatus(`saved ${r.saved} (${r.events} event${r.events === 1 ? '' : 's'})`);
    });
  }

  function fromNetwork() {
    if (!networkAvailable()) return;
    sendEdit({tool: 'network', code: 1});
  }

  async function step(dir, order = 'index') {
    if (!state.info) return;
    if (order === 'uncertainty') {
      if (!networkAvailable()) return;
      setStatus('looking for the event the network is least sure of…');
    }
    try {
      const r = await api(`/events/${state.event}/next?step=${dir}&order=${order}`);
      await loadEvent(r.index);
    } catch (err) {
      showError(err);
    }
  }

  // -- brush stroke

  function strokeStep() {
    return Math.max(0.5, state.radius * 0.5);
  }

  function round2(v) {
    return Math.round(v * 100) / 100;
  }

  function addStrokePoint(pt) {
    const pts = stroke.points;
    if (!stroke.last) {
      pts.push(pt);
      stroke.trail.push(pt);
      stroke.last = pt;
      return;
    }
    const [r0, c0] = stroke.last;
    const d = Math.hypot(pt[0] - r0, pt[1] - c0);
    const h = strokeStep();
    if (d < h * 0.5) return;
    const n = Math.max(1, Math.ceil(d / h));
    for (let k = 1; k <= n; k++) {
      pts.push([round2(r0 + (pt[0] - r0) * k / n), round2(c0 + (pt[1] - c0) * k / n)]);
    }
    stroke.last = pt;
    stroke.trail.push(pt);
    if (pts.length >= STROKE_CHUNK) flushStroke();
  }

  function flushStroke() {
    if (!stroke || !stroke.points.length) return;
    const points = stroke.points;
    stroke.points = [];
    sendEdit({tool: 'brush', code: stroke.code, points, radius: stroke.radius}, stroke.event, stroke.plane);
  }

  // -- lasso

  function closeLasso() {
    if (!poly) return;
    if (poly.length < 3) {
      setStatus('lasso: at least 3 points are needed (Esc cancels)', true);
      return;
    }
    const points = poly.map(([r, c]) => [round2(r), round2(c)]);
    const {event, plane} = poly;
    poly = null;
    requestDraw();
    sendEdit({tool: 'polygon', code: state.code, points}, event, plane);
  }

  function cancelLasso() {
    if (poly) {
      poly = null;
      setStatus('lasso cancelled');
      requestDraw();
    }
  }

  // -- pointer

  function onPointerDown(e) {
    if (!state.image) return;
    canvas.focus({preventScroll: true});
    const p = local(e);
    mouse = p;
    const wantsPan = e.button === 1 || e.button === 2 || (e.button === 0 && (spaceDown || state.tool === 'pan'));
    if (wantsPan) {
      e.preventDefault();
      panning = {x: p.x, y: p.y, ox: state.view.ox, oy: state.view.oy};
      canvas.setPointerCapture(e.pointerId);
      canvas.classList.add('panning');
      return;
    }
    if (e.button !== 0) return;
    const pt = toImage(p);
    if (state.tool === 'brush') {
      stroke = {points: [], trail: [], last: null, event: state.event, plane: state.plane, code: state.code,
        radius: state.radius};
      addStrokePoint([round2(pt[0]), round2(pt[1])]);
      canvas.setPointerCapture(e.pointerId);
      requestDraw();
    } else if (state.tool === 'cluster') {
      sendEdit({tool: 'cluster', code: state.code, points: [[Math.round(pt[0]), Math.round(pt[1])]]});
    } else if (state.tool === 'lasso') {
      if (!poly) poly = Object.assign([], {event: state.event, plane: state.plane});
      const last = poly[poly.length - 1];
      if (last) {
        const q = toLocal(...last);
        if (Math.hypot(q.x - p.x, q.y - p.y) < 4) return; // the second click of a double-click
      }
      poly.push(pt);
      requestDraw();
    }
  }

  function onPointerMove(e) {
    const p = local(e);
    mouse = p;
    if (panning) {
      state.view.ox = panning.ox + (p.x - panning.x);
      state.view.oy = panning.oy + (p.y - panning.y);
    } else if (stroke) {
      const pt = toImage(p);
      addStrokePoint([round2(pt[0]), round2(pt[1])]);
    }
    showCursor();
    requestDraw();
  }

  function onPointerUp(e) {
    if (panning) {
      panning = null;
      canvas.classList.remove('panning');
    }
    if (stroke && (e.button === 0 || e.type === 'pointercancel')) {
      flushStroke();
      stroke = null;
    }
    if (canvas.hasPointerCapture(e.pointerId)) canvas.releasePointerCapture(e.pointerId);
    requestDraw();
  }

  function onWheel(e) {
    e.preventDefault();
    const p = local(e);
    const unit = e.deltaMode === 1 ? 0.05 : e.deltaMode === 2 ? 1 : 0.0015;
    zoomAt(p.x, p.y, Math.exp(-e.deltaY * unit));
  }

  // -- controls

  function setCode(code) {
    state.code = code;
    for (const b of document.querySelectorAll('.class-btn')) {
      const on = Number(b.dataset.code) === code;
      b.classList.toggle('active', on);
      b.setAttribute('aria-checked', on ? 'true' : 'false');
    }
    requestDraw();
  }

  function setTool(tool) {
    if (tool !== 'lasso') poly = null;
    state.tool = tool;
    for (const b of document.querySelectorAll('.tool-btn')) {
      const on = b.dataset.tool === tool;
      b.classList.toggle('active', on);
      b.setAttribute('aria-checked', on ? 'true' : 'false');
    }
    canvas.classList.toggle('pan', tool === 'pan');
    requestDraw();
  }

  function setRadius(r) {
    r = Math.min(MAX_RADIUS, Math.max(0, Math.round(r * 2) / 2));
    state.radius = r;
    $('brush-radius').value = String(r);
    $('brush-radius-value').textContent = String(r);
    requestDraw();
  }

  function toggleHelp(show) {
    const el = $('help-overlay');
    el.hidden = show === undefined ? !el.hidden : !show;
  }

  function loadSettings() {
    try {
      const s = JSON.parse(localStorage.getItem(SETTINGS_KEY) || '{}');
      if (s.cmap in CMAPS) state.cmap = s.cmap;
      for (const name of ['labels', 'network', 'truth']) {
        const v = s[name];
        if (v && typeof v.opacity === 'number') state.layers[name].opacity = Math.min(1, Math.max(0, v.opacity));
        if (v && typeof v.show === 'boolean') state.layers[name].show = v.show;
      }
      if (s.mode === 'label' || s.mode === 'shower') state.layers.network.mode = s.mode;
      if (typeof s.radius === 'number') state.radius = Math.min(MAX_RADIUS, Math.max(0, s.radius));
    } catch (_) { /* no or bad settings: the defaults */ }
  }

  function storeSettings() {
    const L = state.layers;
    try {
      localStorage.setItem(SETTINGS_KEY, JSON.stringify({cmap: state.cmap, radius: state.radius,
        mode: L.network.mode, labels: L.labels, network: L.network, truth: L.truth}));
    } catch (_) { /* storage unavailable */ }
  }

  function bindControls() {
    const click = (id, fn) => $(id).addEventListener('click', (e) => {
      e.currentTarget.blur();
      fn();
    });
    click('prev', () => step(-1));
    click('next', () => step(1));
    click('next-uncertain', () => step(1, 'uncertainty'));
    click('undo', () => undo(false));
    click('redo', () => undo(true));
    click('save', save);
    click('done', toggleDone);
    click('from-network', fromNetwork);
    click('zoom-charge', zoomToCharge);
    click('help', () => toggleHelp());
    click('help-close', () => toggleHelp(false));
    $('help-overlay').addEventListener('click', (e) => {
      if (e.target === e.currentTarget) toggleHelp(false);
    });
    for (const b of document.querySelectorAll('.class-btn')) {
      b.addEventListener('click', () => {
        b.blur();
        setCode(Number(b.dataset.code));
      });
    }
    for (const b of document.querySelectorAll('.tool-btn')) {
      b.addEventListener('click', () => {
        b.blur();
        setTool(b.dataset.tool);
      });
    }
    const ev = $('event');
    ev.addEventListener('keydown', (e) => {
      if (e.key === 'Enter') {
        ev.blur();
      }
    });
    ev.addEventListener('change', () => {
      const v = parseInt(ev.value, 10);
      if (Number.isFinite(v) && state.info) loadEvent(Math.min(Math.max(v, 0), state.info.events - 1));
      else ev.value = String(state.event);
    });
    $('plane').addEventListener('change', (e) => {
      e.target.blur();
      loadPlane(Number(e.target.value));
    });
    $('brush-radius').addEventListener('input', (e) => {
      setRadius(Number(e.target.value));
      storeSettings();
    });
    $('cmap').addEventListener('change', (e) => {
      e.target.blur();
      state.cmap = e.target.value;
      paintBase();
      storeSettings();
    });
    $('vmax').addEventListener('input', (e) => {
      state.vmax = Math.max(Number(e.target.value), 1e-3);
      $('vmax-value').textContent = fmt(state.vmax);
      queueBase();
    });
    for (const name of ['labels', 'network', 'truth']) {
      $(`show-${name}`).addEventListener('change', (e) => {
        e.target.blur();
        state.layers[name].show = e.target.checked;
        storeSettings();
        if (e.target.checked) loadOverlays();
        requestDraw();
      });
      $(`${name}-opacity`).addEventListener('input', (e) => {
        state.layers[name].opacity = Number(e.target.value);
        storeSettings();
        requestDraw();
      });
    }
    $('network-mode').addEventListener('change', (e) => {
      e.target.blur();
      state.layers.network.mode = e.target.value;
      paintNetwork();
      storeSettings();
    });

    canvas.addEventListener('pointerdown', onPointerDown);
    canvas.addEventListener('pointermove', onPointerMove);
    canvas.addEventListener('pointerup', onPointerUp);
    canvas.addEventListener('pointercancel', onPointerUp);
    canvas.addEventListener('pointerleave', () => {
      if (!stroke && !panning) {
        mouse = null;
        showCursor();
        requestDraw();
      }
    });
    canvas.addEventListener('dblclick', (e) => {
      e.preventDefault();
      if (state.tool === 'lasso') closeLasso();
    });
    canvas.addEventListener('wheel', onWheel, {passive: false});
    canvas.addEventListener('contextmenu', (e) => e.preventDefault());
    canvas.addEventListener('mousedown', (e) => {
      if (e.button === 1) e.preventDefault(); // no autoscroll on middle-drag
    });
    new ResizeObserver(resize).observe(canvas);
    document.addEventListener('keydown', onKey);
    document.addEventListener('keyup', (e) => {
      if (e.key === ' ') {
        spaceDown = false;
        canvas.classList.toggle('pan', state.tool === 'pan');
        requestDraw();
      }
    });
    window.addEventListener('blur', () => {
      spaceDown = false;
    });
  }

  function onKey(e) {
    const t = e.target;
    const typing = t && ((t.tagName === 'INPUT' && (t.type === 'number' || t.type === 'text')) ||
      t.tagName === 'TEXTAREA');
    if (typing) {
      if (e.key === 'Escape') t.blur();
      return;
    }
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    if (e.ctrlKey || e.metaKey) {
      if (key === 'z') undo(e.shiftKey);
      else if (key === 'y') undo(true);
      else if (key === 's') save();
      else return;
      e.preventDefault();
      return;
    }
    if (e.altKey) return;
    const helpOpen = !$('help-overlay').hidden;
    switch (key) {
      case '1': setCode(1); break;
      case '2': setCode(2); break;
      case '3': setCode(3); break;
      case '0': case 'e': setCode(0); break;
      case 'b': setTool('brush'); break;
      case 'l': setTool('lasso'); break;
      case 'c': setTool('cluster'); break;
      case 'n': step(1); break;
      case 'p': step(-1); break;
      case 'u': step(1, 'uncertainty'); break;
      case 'z': zoomToCharge(); break;
      case '[': setRadius(state.radius - (state.radius > 8 ? 2 : state.radius > 2 ? 1 : 0.5)); storeSettings(); break;
      case ']': setRadius(state.radius + (state.radius >= 8 ? 2 : state.radius >= 2 ? 1 : 0.5)); storeSettings(); break;
      case '+': case '=': zoomAt(canvas.clientWidth / 2, canvas.clientHeight / 2, 1.25); break;
      case '-': case '_': zoomAt(canvas.clientWidth / 2, canvas.clientHeight / 2, 0.8); break;
      case 'h': case '?': toggleHelp(); break;
      case 'Enter': if (poly) closeLasso(); else return; break;
      case 'Backspace':
        if (!poly) return;
        poly.pop();
        if (!poly.length) poly = null;
        requestDraw();
        break;
      case 'Escape':
        if (helpOpen) toggleHelp(false);
        else cancelLasso();
        break;
      case ' ':
        spaceDown = true;
        canvas.classList.add('pan');
        requestDraw();
        break;
      default: return;
    }
    e.preventDefault();
  }

  // -- start

  function parseHash() {
    const h = new URLSearchParams(location.hash.slice(1));
    const e = parseInt(h.get('e'), 10);
    const p = parseInt(h.get('p'), 10);
    return {event: Number.isFinite(e) ? e : 0, plane: Number.isFinite(p) ? p : null};
  }

  async function start() {
    canvas = $('canvas');
    ctx = canvas.getContext('2d', {alpha: false});
    loadSettings();
    bindControls();
    resize();
    setCode(1);
    setTool('brush');
    setRadius(state.radius);
    $('cmap').value = state.cmap;
    for (const name of ['labels', 'network', 'truth']) {
      $(`show-${name}`).checked = state.layers[name].show;
      $(`${name}-opacity`).value = String(state.layers[name].opacity);
    }
    $('network-mode').value = state.layers.network.mode;
    if (!TOKEN) {
      setStatus('no token in the address: open the URL larseg scan printed (it ends in ?token=...)', true);
      return;
    }
    try {
      state.info = await api('/info');
    } catch (err) {
      showError(err);
      return;
    }
    const info = state.info;
    document.body.classList.toggle('blind', !!info.blind);
    document.body.classList.toggle('no-network', !info.network);
    $('blind-note').hidden = !info.blind;
    $('event').max = String(info.events - 1);
    $('event-total').textContent = `/ ${info.events}`;
    $('session').textContent = `${info.scanner} · ${info.labels}${info.blind ? ' · blind' : ''}`;
    const want = parseHash();
    await loadEvent(Math.min(Math.max(want.event, 0), info.events - 1), want.plane);
  }

  window.larsegScan = {
    state,
    imageToClient(row, col) {
      const r = canvas.getBoundingClientRect();
      const p = toLocal(row, col);
      return {x: r.left + p.x, y: r.top + p.y};
    },
    clientToImage(x, y) {
      const r = canvas.getBoundingClientRect();
      const [row, col] = toImage({x: x - r.left, y: y - r.top});
      return {row, col};
    },
    get ready() {
      return !!(state.drawn && state.image && state.pending === 0 && state.queued === 0 && state.loading === 0 &&
        !stroke && !panning && !drawQueued);
    },
  };

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
