/**
 * The interacting pairs of a configuration with their geometry and radial stiffness, gathered once
 * from the neighbor list for the linear-response code (Hessian assembly, mixed strain derivatives,
 * affine moduli, stress tensor). Only pairs inside the potential's cutoff are kept; each pair once,
 * i < j, ordered by i (the neighbor list's order), with d = r_j − r_i (minimum image).
 */
import type { PairLaw } from '../model/pair-law.ts';
import { minimumImage } from '../space/box.ts';
import { type System, refreshNeighbors } from './system.ts';

export interface PairTable {
  count: number;
  i: Int32Array;
  j: Int32Array;
  /** d = r_j − r_i, 3 per pair. */
  d: Float64Array;
  r2: Float64Array;
  /** φ′/r per pair. */
  dphiOverR: Float64Array;
  /** φ″ per pair. */
  d2phi: Float64Array;
}

/** φ′/r and φ″ of pair type t at squared distance r2 < cutoff², into out[0], out[1]. */
export function pairStiffness(model: PairLaw, t: number, r2: number, out: Float64Array): void {
  model.derivatives(t, r2, derivatives);
  out[0] = derivatives[1] / Math.sqrt(r2);
  out[1] = derivatives[2];
}
const derivatives = new Float64Array(4);

/** Collect the interacting pairs of sys (refreshing its neighbor list first if needed). */
export function buildPairTable(sys: System): PairTable {
  refreshNeighbors(sys);
  const { model, box, positions: pos, species: sp } = sys;
  const { start, pairs } = sys.neighbors;
  const n = sp.length;
  const listed = start[n];
  const pi = new Int32Array(listed), pj = new Int32Array(listed);
  const d = new Float64Array(3 * listed), r2a = new Float64Array(listed);
  const g = new Float64Array(listed), k = new Float64Array(listed);
  const tmp = new Float64Array(2);
  const dv = new Float64Array(3);
  let m = 0;
  for (let i = 0; i < n; i++) {
    const xi = pos[3 * i], yi = pos[3 * i + 1], zi = pos[3 * i + 2];
    for (let q = start[i], end = start[i + 1]; q < end; q++) {
      const j = pairs[q];
      dv[0] = pos[3 * j] - xi; dv[1] = pos[3 * j + 1] - yi; dv[2] = pos[3 * j + 2] - zi;
      minimumImage(box, dv, 0);
      const dx = dv[0], dy = dv[1], dz = dv[2];
      const r2 = dx * dx + dy * dy + dz * dz;
      const t = sp[i] + sp[j];
      if (r2 >= model.cutoff2[t]) continue;
      pairStiffness(model, t, r2, tmp);
      pi[m] = i; pj[m] = j;
      d[3 * m] = dx; d[3 * m + 1] = dy; d[3 * m + 2] = dz;
      r2a[m] = r2; g[m] = tmp[0]; k[m] = tmp[1];
      m++;
    }
  }
  // exact-length copies, ordinary arrays: tables are made per step in places (stress along a shear
  // path) and garbage collection reclaims them; the Hessian kernel copies what it reads
  return {
    count: m, i: pi.slice(0, m), j: pj.slice(0, m), d: d.slice(0, 3 * m), r2: r2a.slice(0, m),
    dphiOverR: g.slice(0, m), d2phi: k.slice(0, m),
  };
}

