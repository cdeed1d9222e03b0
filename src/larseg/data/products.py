"""larseg's products in the larcv3 layout, and the conversions to and from them.

One simulated entry holds, for every wire plane (projection 0 = U, 1 = V, 2 = Y):

=====================  =========================================================
``sparse2d wire``      the image: non-zero pixel values (deconvolved charge)
``sparse2d segment``   semantic label of the same pixels: 1 track, 2 shower
``cluster2d instance`` one cluster per particle instance (primary ancestor
                       track id), voxel values = pixel charge
``sparse2d vertex``    one voxel per plane at the interaction-vertex pixel
                       (value 1); absent on a plane whose window misses it
``particle truth``     every simulated particle (larcv3 particle record)
``particle neutrino``  neutrino samples: the incoming neutrino (energy, mode)
=====================  =========================================================

See docs/data-format.md.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from larseg.conventions import BACKGROUND, CLASSES, SHOWER, TRACK  # noqa: F401  (re-exported)
from larseg.data.larcv3 import (
    INVALID_U2,
    INVALID_U4,
    LARCV_PARTICLE_DTYPE,
    Cluster,
    ClusterSet,
    Event,
    ImageMeta,
    SparseImage,
    sparse_from_dense,
)
from larseg.physics.constants import DELTA_RAY_PROCESSES
from larseg.physics.truth import PARTICLE_DTYPE, is_shower_pdg

WIRE, SEGMENT, INSTANCE, VERTEX, TRUTH, NEUTRINO = "wire", "segment", "instance", "vertex", "truth", "neutrino"
PLANE_NAMES = ("U", "V", "Y")
LABEL_NAMES = CLASSES

# larcv ShapeType_t codes for the particle record's ``shape`` field.
SHAPE_SHOWER, SHAPE_TRACK, SHAPE_MICHEL, SHAPE_DELTA, SHAPE_LESCATTER = 0, 1, 2, 3, 4
# Interaction modes in the neutrino record's ``interaction_type`` (larseg's own codes).
MODES = {"QE": 0, "MEC": 1, "RES": 2, "DIS": 3, "MPV": -1, "michel": -1}


@dataclass
class PlaneImage:
    """One plane's dense window: ``(rows = time, columns = wire)`` arrays and its meta."""

    meta: ImageMeta
    image: np.ndarray  # float32
    label: np.ndarray  # uint8: 0 background, 1 track, 2 shower
    instance: np.ndarray  # int32: primary ancestor track id, -1 for background
    #: (row, col) in this window, pixel k centred on k; None if outside the window.
    vertex: tuple[float, float] | None = None


@dataclass
class EntryTruth:
    """Everything of one simulated entry before it is written."""

    planes: list[PlaneImage]
    particles: np.ndarray  # PARTICLE_DTYPE
    neutrino: np.ndarray | None = None  # LARCV_PARTICLE_DTYPE, one record
    ids: tuple[int, int, int] = (0, 0, 0)
    extra: dict = field(default_factory=dict)


def larcv_particles(particles: np.ndarray) -> np.ndarray:
    """Convert larseg's particle table to larcv3 particle records."""
    particles = np.asarray(particles, dtype=PARTICLE_DTYPE)
    out = np.zeros(len(particles), dtype=LARCV_PARTICLE_DTYPE)
    out["id"] = np.arange(len(particles))
    out["mcst_index"] = INVALID_U2
    out["mct_index"] = INVALID_U2
    out["current_type"] = -1
    out["interaction_type"] = -1
    out["trackid"] = particles["track_id"]
    out["pdg"] = particles["pdg"]
    out["px"], out["py"], out["pz"] = particles["momentum"].T
    for name, src in (("vtx", "start"), ("first_step", "start"), ("end_pt", "end"), ("last_step", "end")):
        for i, axis in enumerate("xyzt"):
            out[name][axis] = particles[src][:, i]
    out["dist_travel"] = particles["length"]
    out["energy_init"] = particles["energy_init"]
    out["energy_deposit"] = particles["energy_deposit"]
    out["process"] = particles["process"]
    shower = is_shower_pdg(particles["pdg"])
    process = particles["process"]
    shape = np.where(shower, SHAPE_SHOWER, SHAPE_TRACK)
    shape = np.where(shower & np.isin(process, DELTA_RAY_PROCESSES), SHAPE_DELTA, shape)
    shape = np.where(shower & (process == b"Decay"), SHAPE_MICHEL, shape)
    shape = np.where(shower & (particles["kinetic"] < 5.0) & (process == b"compt"), SHAPE_LESCATTER, shape)
    out["shape"] = shape
    by_id = {int(t): i for i, t in enumerate(particles["track_id"])}
    for i, p in enumerate(particles):
        for prefix, key in (("parent", "parent_id"), ("ancestor", "ancestor_id")):
            j = by_id.get(int(p[key]))
            if j is None:
                out[f"{prefix}_trackid"][i] = INVALID_U4
                continue
            out[f"{prefix}_trackid"][i] = particles["track_id"][j]
            out[f"{prefix}_pdg"][i] = particles["pdg"][j]
            for k, axis in enumerate("xyzt"):
                out[f"{prefix}_vtx"][axis][i] = particles["start"][j, k]
    return out


def neutrino_record(nu_pdg: int, energy: float, mode: str, vertex: np.ndarray) -> np.ndarray:
    rec = np.zeros(1, dtype=LARCV_PARTICLE_DTYPE)
    rec["mcst_index"] = INVALID_U2
    rec["mct_index"] = INVALID_U2
    rec["trackid"] = INVALID_U4
    rec["parent_trackid"] = INVALID_U4
    rec["ancestor_trackid"] = INVALID_U4
    rec["pdg"] = nu_pdg
    rec["pz"] = energy
    rec["energy_init"] = energy
    rec["current_type"] = 0  # charged current
    rec["interaction_type"] = MODES.get(mode, -1)
    rec["process"] = mode.encode()
    for k, axis in enumerate("xyz"):
        rec["vtx"][axis] = vertex[k]
    return rec


def to_event(entry: EntryTruth) -> Event:
    """The larcv3 products of one entry."""
    wire, segment, instance, vertex = [], [], [], []
    for plane in entry.planes:
        meta = plane.meta
        nonzero = plane.image != 0
        wire.append(sparse_from_dense(plane.image, meta, nonzero))
        segment.append(sparse_from_dense(plane.label.astype(np.float32), meta, nonzero))
        sp_inst = sparse_from_dense(plane.instance.astype(np.float32), meta, nonzero)
        ids = sp_inst.value.astype(np.int64)
        clusters = []
        for cid in np.unique(ids):
            sel = ids == cid
            clusters.append(Cluster(int(cid), wire[-1].index[sel], wire[-1].value[sel]))
        instance.append(ClusterSet(meta, clusters))
        if plane.vertex is not None:
            row, col = (int(np.floor(v + 0.5)) for v in plane.vertex)
            idx = np.array([col * meta.shape[1] + row], dtype=np.uint64)
            vertex.append(SparseImage(meta, idx, np.ones(1, dtype=np.float32)))
        else:
            vertex.append(SparseImage(meta, np.zeros(0, dtype=np.uint64), np.zeros(0, dtype=np.float32)))
    particle = {TRUTH: larcv_particles(entry.particles)}
    if entry.neutrino is not None:
        particle[NEUTRINO] = entry.neutrino
    run, subrun, event = entry.ids
    return Event(run, subrun, event, sparse2d={WIRE: wire, SEGMENT: segment, VERTEX: vertex},
                 cluster2d={INSTANCE: instance}, particle=particle)


def planes_from_event(event: Event) -> list[PlaneImage]:
    """Dense planes of an entry read back from a file (inverse of :func:`to_event`)."""
    out = []
    wires = event.sparse2d[WIRE]
    segments = event.sparse2d.get(SEGMENT, [None] * len(wires))
    instances = event.cluster2d.get(INSTANCE, [None] * len(wires))
    vertices = event.sparse2d.get(VERTEX, [None] * len(wires))
    for w, s, c, v in zip(wires, segments, instances, vertices):
        image = w.dense()
        label = s.dense().astype(np.uint8) if s is not None else np.zeros(image.shape, np.uint8)
        inst = c.dense_ids().astype(np.int32) if c is not None else np.full(image.shape, -1, np.int32)
        vtx = None
        if v is not None and len(v.index):
            row, col = v.rows_cols()
            vtx = (float(row[0]), float(col[0]))
        out.append(PlaneImage(w.meta, image, label, inst, vtx))
    return out
