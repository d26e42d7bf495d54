/**
 * Non-affine displacement fields of a deformed configuration and the Falk–Langer D²_min.
 *
 * - Non-affine field between a reference state (box h₀, positions x⁰) and a deformed one (h, x):
 *   u_i = x_i − F·x⁰_i with F = h·h₀⁻¹ the homogeneous deformation of the cell, minimum-imaged
 *   and with the mean (a rigid translation) removed.
 * - D²_min (Falk and Langer 1998): for particle i with neighbours j in the first shell of the
 *   reference state, J_i minimises D²_i = Σ_j |d_ij − J_i·d⁰_ij|² (3×3
 *   least squares: J = X·Y⁻¹, X = Σ d·d⁰ᵀ, Y = Σ d⁰·d⁰ᵀ) and D²_min,i is that minimum.
 * - Localisation along a direction: the fraction of a per-particle quantity carried by the most
 *   loaded periodic slab of given width (a shear band puts most of it in one slab; homogeneous
 *   flow gives the slab's share of the box).
 */
import type { PairLaw } from '../model/pair-law.ts';
import { buildPairTable } from '../engine/pair-table.ts';
import type { System } from '../engine/system.ts';
import { type Box, minimumImage } from '../space/box.ts';
import { dot, projectOutTranslations } from '../linalg/vectors.ts';

/**
 * Squared first-shell radius per pair type. For the inverse-power laws (cutoff 2λ_ij) the first
 * minimum of g(r) lies near 1.5·λ_ij = 0.75·cutoff; contact laws interact only within their first
 * shell, so every interacting pair is a neighbour.
 */
export function firstShell2(law: PairLaw): Float64Array {
  return law.kernel.family === 'inverse-power' ? law.cutoff2.map((c2) => 0.5625 * c2) : law.cutoff2.slice();
}

/** x_i − F·x⁰_i for F = h·h₀⁻¹ (both cells upper triangular), minimum-imaged in h, translation removed. */
export function nonAffineField(ref: { box: Box; positions: Float64Array }, cur: { box: Box; positions: Float64Array }): Float64Array {
  const a = ref.box, b = cur.box;
  // F = h·h₀⁻¹ of two upper-triangular cells is upper triangular
  const f00 = b.lx / a.lx, f11 = b.ly / a.ly, f22 = b.lz / a.lz;
  const f01 = (b.xy - f00 * a.xy) / a.ly;
  const f12 = (b.yz - f11 * a.yz) / a.lz;
  const f02 = (b.xz - f00 * a.xz - f01 * a.yz) / a.lz;
  const x0 = ref.positions, x = cur.positions;
  const u = new Float64Array(x.length);
  for (let k = 0; k < x.length; k += 3) {
    u[k] = x[k] - (f00 * x0[k] + f01 * x0[k + 1] + f02 * x0[k + 2]);
    u[k + 1] = x[k + 1] - (f11 * x0[k + 1] + f12 * x0[k + 2]);
    u[k + 2] = x[k + 2] - f22 * x0[k + 2];
    minimumImage(b, u, k);
  }
  projectOutTranslations(u);
  return u;
}

/** Particles whose displacement |u_i| exceeds threshold. */
export function countMoved(u: Float64Array, threshold: number): number {
  const t2 = threshold * threshold;
  let c = 0;
  for (let k = 0; k < u.length; k += 3) if (u[k] * u[k] + u[k + 1] * u[k + 1] + u[k + 2] * u[k + 2] > t2) c++;
  return c;
}

/** |a·b|/(|a|·|b|) after removing rigid translations from both (0 if either vanishes). */
export function fieldOverlap(a: Float64Array, b: Float64Array): number {
  const pa = a.slice(), pb = b.slice();
  projectOutTranslations(pa);
  projectOutTranslations(pb);
  const n = Math.sqrt(dot(pa, pa) * dot(pb, pb));
  return n > 0 ? Math.abs(dot(pa, pb)) / n : 0;
}

/** The particle carrying the largest |u_i|: the centre of a localised field. */
export function fieldCentre(u: Float64Array): number {
  let best = -1, arg = 0;
  for (let k = 0; k < u.length; k += 3) {
    const a = u[k] * u[k] + u[k + 1] * u[k + 1] + u[k + 2] * u[k + 2];
    if (a > best) { best = a; arg = k / 3; }
  }
  return arg;
}

/** Minimum-image distance between particles i and j of a configuration. */
export function particleDistance(box: Box, pos: Float64Array, i: number, j: number): number {
  const d = Float64Array.of(pos[3 * j] - pos[3 * i], pos[3 * j + 1] - pos[3 * i + 1], pos[3 * j + 2] - pos[3 * i + 2]);
  minimumImage(box, d, 0);
  return Math.hypot(d[0], d[1], d[2]);
}

/**
 * D²_min of every particle between the reference system ref (whose first shell defines the
 * neighbours) and the deformed positions cur (same particle order), added into out when given.
 */
export function d2min(ref: System, cur: { box: Box; positions: Float64Array }, out: Float64Array = new Float64Array(ref.species.length)): Float64Array {
  const n = ref.species.length;
  const pairs = buildPairTable(ref);
  const sp = ref.species;
  const shell2 = firstShell2(ref.model);
  const shell = new Int32Array(pairs.count);
  let m = 0;
  for (let p = 0; p < pairs.count; p++) if (pairs.r2[p] < shell2[sp[pairs.i[p]] + sp[pairs.j[p]]]) shell[m++] = p;
  // current separations of the shell pairs
  const dc = new Float64Array(3 * m);
  const x = cur.positions;
  for (let q = 0; q < m; q++) {
    const p = shell[q], i = 3 * pairs.i[p], j = 3 * pairs.j[p];
    dc[3 * q] = x[j] - x[i]; dc[3 * q + 1] = x[j + 1] - x[i + 1]; dc[3 * q + 2] = x[j + 2] - x[i + 2];
    minimumImage(cur.box, dc, 3 * q);
  }
  // X = Σ d·d⁰ᵀ and Y = Σ d⁰·d⁰ᵀ per particle (a pair enters both ends; the signs cancel)
  const X = new Float64Array(9 * n), Y = new Float64Array(9 * n);
  for (let q = 0; q < m; q++) {
    const p = shell[q];
    for (const i of [pairs.i[p], pairs.j[p]]) {
      for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
        X[9 * i + 3 * a + b] += dc[3 * q + a] * pairs.d[3 * p + b];
        Y[9 * i + 3 * a + b] += pairs.d[3 * p + a] * pairs.d[3 * p + b];
      }
    }
  }
  // J = X·Y⁻¹ (a particle with fewer than three independent neighbours keeps J = 0: D² = Σ|d|²)
  const J = new Float64Array(9 * n);
  const inv = new Float64Array(9);
  for (let i = 0; i < n; i++) {
    if (!invert3(Y, 9 * i, inv)) continue;
    for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
      let s = 0;
      for (let c = 0; c < 3; c++) s += X[9 * i + 3 * a + c] * inv[3 * c + b];
      J[9 * i + 3 * a + b] = s;
    }
  }
  for (let q = 0; q < m; q++) {
    const p = shell[q];
    const d0x = pairs.d[3 * p], d0y = pairs.d[3 * p + 1], d0z = pairs.d[3 * p + 2];
    for (const i of [pairs.i[p], pairs.j[p]]) {
      const o = 9 * i;
      const ex = dc[3 * q] - (J[o] * d0x + J[o + 1] * d0y + J[o + 2] * d0z);
      const ey = dc[3 * q + 1] - (J[o + 3] * d0x + J[o + 4] * d0y + J[o + 5] * d0z);
      const ez = dc[3 * q + 2] - (J[o + 6] * d0x + J[o + 7] * d0y + J[o + 8] * d0z);
      out[i] += ex * ex + ey * ey + ez * ez;
    }
  }
  return out;
}

/** Inverse of the symmetric 3×3 matrix at a[o..o+8] into out; false if it is (nearly) singular. */
function invert3(a: Float64Array, o: number, out: Float64Array): boolean {
  const m00 = a[o], m01 = a[o + 1], m02 = a[o + 2], m11 = a[o + 4], m12 = a[o + 5], m22 = a[o + 8];
  const c00 = m11 * m22 - m12 * m12, c01 = m02 * m12 - m01 * m22, c02 = m01 * m12 - m02 * m11;
  const det = m00 * c00 + m01 * c01 + m02 * c02;
  const scale = (m00 + m11 + m22) ** 3;
  if (!(Math.abs(det) > 1e-12 * scale)) return false;
  const s = 1 / det;
  out[0] = c00 * s; out[1] = c01 * s; out[2] = c02 * s;
  out[3] = c01 * s; out[4] = (m00 * m22 - m02 * m02) * s; out[5] = (m02 * m01 - m00 * m12) * s;
  out[6] = c02 * s; out[7] = out[5]; out[8] = (m00 * m11 - m01 * m01) * s;
  return true;
}

/** Fractional coordinate (in [0, 1)) of every particle along cell axis `axis` (0, 1, 2) of an upper-triangular box. */
export function fractionalCoordinate(box: Box, pos: Float64Array, axis: number): Float64Array {
  const n = pos.length / 3;
  const s = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const z = pos[3 * i + 2] / box.lz;
    const y = (pos[3 * i + 1] - z * box.yz) / box.ly;
    const x = (pos[3 * i] - y * box.xy - z * box.xz) / box.lx;
    const v = axis === 0 ? x : axis === 1 ? y : z;
    s[i] = v - Math.floor(v);
  }
  return s;
}

export interface SlabProfile {
  /** Bin centres (fractional coordinate) and the mean of the quantity per particle in each bin. */
  centres: number[];
  mean: number[];
  /** Largest fraction of the total carried by a periodic slab of the given width. */
  slabShare: number;
  /** The slab's share of the box: what homogeneous flow gives. */
  uniform: number;
  /** (slabShare − uniform)/(1 − uniform): 0 for a homogeneous field, 1 when the slab carries it all. */
  localisation: number;
  /** Centre of that slab (fractional coordinate). */
  slabCentre: number;
}

/**
 * Profile of a per-particle quantity q along fractional coordinate s (bins of ~binWidth/length) and
 * the fraction of Σq in the most loaded periodic slab of width `width` (same units as `length`),
 * also as its excess over a homogeneous field.
 */
export function slabProfile(q: Float64Array, s: Float64Array, length: number, width: number, binWidth: number): SlabProfile {
  const bins = Math.max(1, Math.round(length / binWidth));
  const sum = new Float64Array(bins), count = new Float64Array(bins);
  // the localisation window slides over finer bins so that its width is resolved
  const fine = bins * 8;
  const fineSum = new Float64Array(fine);
  let total = 0;
  for (let i = 0; i < q.length; i++) {
    const b = Math.min(bins - 1, Math.floor(s[i] * bins));
    sum[b] += q[i]; count[b]++;
    fineSum[Math.min(fine - 1, Math.floor(s[i] * fine))] += q[i];
    total += q[i];
  }
  const w = Math.min(fine, Math.max(1, Math.round((width / length) * fine)));
  let best = -1, bestStart = 0, run = 0;
  for (let k = 0; k < w; k++) run += fineSum[k];
  for (let start = 0; start < fine; start++) {
    if (run > best) { best = run; bestStart = start; }
    run += fineSum[(start + w) % fine] - fineSum[start];
  }
  const centres: number[] = [], mean: number[] = [];
  for (let b = 0; b < bins; b++) { centres.push((b + 0.5) / bins); mean.push(count[b] > 0 ? sum[b] / count[b] : 0); }
  const uniform = w / fine;
  const slabShare = total > 0 ? best / total : uniform;
  return {
    centres, mean, slabShare, uniform, localisation: uniform < 1 ? (slabShare - uniform) / (1 - uniform) : 0,
    slabCentre: ((bestStart + w / 2) / fine) % 1,
  };
}
