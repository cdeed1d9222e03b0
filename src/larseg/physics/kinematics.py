"""Vectorised kinematics: directions, rotations (quaternions), Lorentz boosts.

All functions take and return numpy arrays; directions are unit vectors of
shape (n, 3); quaternions are (n, 4) arrays (w, x, y, z).
"""

from __future__ import annotations

import numpy as np


def isotropic(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` unit vectors uniform on the sphere, shape (n, 3)."""
    cos_t = rng.uniform(-1.0, 1.0, n)
    phi = rng.uniform(0.0, 2.0 * np.pi, n)
    sin_t = np.sqrt(1.0 - cos_t * cos_t)
    return np.stack([sin_t * np.cos(phi), sin_t * np.sin(phi), cos_t], axis=1)


def normalize(v: np.ndarray) -> np.ndarray:
    """Rows of ``v`` scaled to unit length (zero rows become +z)."""
    norm = np.linalg.norm(v, axis=1, keepdims=True)
    out = np.divide(v, norm, out=np.zeros_like(v), where=norm > 0)
    out[norm[:, 0] == 0, 2] = 1.0
    return out


def deflect(direction: np.ndarray, cos_theta: np.ndarray, phi: np.ndarray) -> np.ndarray:
    """Directions at polar angle ``theta`` and azimuth ``phi`` around ``direction``, shape (n, 3)."""
    dx, dy, dz = direction[:, 0], direction[:, 1], direction[:, 2]
    # u: a unit vector perpendicular to d (d x z, or d x x where d is near z); v = d x u
    near_z = np.abs(dz) > 0.9
    ux = np.where(near_z, 0.0, dy)
    uy = np.where(near_z, dz, -dx)
    uz = np.where(near_z, -dy, 0.0)
    norm = np.sqrt(ux * ux + uy * uy + uz * uz)
    ux, uy, uz = ux / norm, uy / norm, uz / norm
    vx, vy, vz = dy * uz - dz * uy, dz * ux - dx * uz, dx * uy - dy * ux
    sin_t = np.sqrt(np.clip(1.0 - cos_theta * cos_theta, 0.0, None))
    a, b = sin_t * np.cos(phi), sin_t * np.sin(phi)
    return np.stack([dx * cos_theta + ux * a + vx * b, dy * cos_theta + uy * a + vy * b,
                     dz * cos_theta + uz * a + vz * b], axis=1)


# --- quaternions


def quat_multiply(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Hamilton product a*b of quaternion arrays of shape (n, 4)."""
    aw, ax, ay, az = a[:, 0], a[:, 1], a[:, 2], a[:, 3]
    bw, bx, by, bz = b[:, 0], b[:, 1], b[:, 2], b[:, 3]
    return np.stack(
        [
            aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw,
        ],
        axis=1,
    )


def quat_from_z(direction: np.ndarray) -> np.ndarray:
    """Unit quaternions rotating +z onto each of ``direction`` (n, 3)."""
    d = direction
    w = 1.0 + d[:, 2]
    q = np.stack([w, -d[:, 1], d[:, 0], np.zeros(len(d))], axis=1)
    flip = w < 1e-12  # d = -z: rotate by pi about x
    q[flip] = (0.0, 1.0, 0.0, 0.0)
    return q / np.linalg.norm(q, axis=1, keepdims=True)


def quat_z_axis(q: np.ndarray) -> np.ndarray:
    """The image of +z under the rotations ``q`` (n, 4): the direction they describe."""
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    return np.stack([2.0 * (x * z + w * y), 2.0 * (y * z - w * x), 1.0 - 2.0 * (x * x + y * y)], axis=1)


def small_rotations(theta_x: np.ndarray, theta_y: np.ndarray) -> np.ndarray:
    """Rotations in a particle's own frame that tilt its +z axis by projected angles (theta_x, theta_y)."""
    theta = np.hypot(theta_x, theta_y)
    half = 0.5 * theta
    # axis (-theta_y, theta_x, 0) / theta; sin(half)/theta -> 1/2 for theta -> 0
    s = np.where(theta > 1e-12, np.sin(half) / np.where(theta > 0, theta, 1.0), 0.5)
    return np.stack([np.cos(half), -theta_y * s, theta_x * s, np.zeros_like(theta)], axis=1)


def segmented_prefix_product(q: np.ndarray, segment_start: np.ndarray) -> np.ndarray:
    """Inclusive prefix products q[s] * q[s+1] * ... * q[i] within segments (Hillis-Steele scan).

    ``segment_start[i]`` is the index of the first element of element i's
    segment. log2(longest segment) vectorised passes; exact for rotations.
    """
    out = q.copy()
    n = len(q)
    idx = np.arange(n)
    local = idx - segment_start
    longest = int(local.max()) + 1 if n else 0
    offset = 1
    while offset < longest:
        sel = np.nonzero(local >= offset)[0]
        out[sel] = quat_multiply(out[sel - offset], out[sel])
        offset *= 2
    return out / np.linalg.norm(out, axis=1, keepdims=True)


# --- Lorentz boosts


def boost(energy: np.ndarray, momentum: np.ndarray, beta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Boost four-momenta (E, p) by velocities ``beta`` (n, 3) (from the rest frame to the lab)."""
    b2 = np.sum(beta * beta, axis=1)
    gamma = 1.0 / np.sqrt(1.0 - b2)
    bp = np.sum(beta * momentum, axis=1)
    coef = np.where(b2 > 0, (gamma - 1.0) * bp / np.where(b2 > 0, b2, 1.0), 0.0)
    p_lab = momentum + (coef + gamma * energy)[:, None] * beta
    e_lab = gamma * (energy + bp)
    return e_lab, p_lab
