/**
 * The interacting pairs of a configuration with their geometry and radial stiffness, gathered once
 * from the neighbor list for the linear-response code (Hessian assembly, mixed strain derivatives,
 * affine moduli, stress tensor). Only pairs inside the potential's cutoff are kept; each pair once,
 * i < j, ordered by i (the neighbor list's order), with d = r_j − r_i (minimum image).
 */
import type { PairLaw } from '../model/pair-law.ts';
import { minimumImage } from '../space/box.ts';
import { type System, refreshNeighbors } from './system.ts';
import { kernelCopy } from '../util/kernels.ts';

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
  // exact-length copies in the kernel memory, where the Hessian assembly kernel reads them
  return {
    count: m, i: kernelCopy(Int32Array, pi.subarray(0, m)), j: kernelCopy(Int32Array, pj.subarray(0, m)),
    d: kernelCopy(Float64Array, d.subarray(0, 3 * m)), r2: kernelCopy(Float64Array, r2a.subarray(0, m)),
    dphiOverR: kernelCopy(Float64Array, g.subarray(0, m)), d2phi: kernelCopy(Float64Array, k.subarray(0, m)),
  };
}
