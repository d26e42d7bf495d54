/**
 * Verlet neighbor list with a skin, built through a cell list; half list (each pair once, j > i)
 * in compressed-row form. Per pair type the list keeps pairs within cutoff_t + skin, and it must be
 * rebuilt once any particle has moved more than skin/2 since the last build (needsRebuild).
 */
import { type Box, perpendicularWidths } from './box.ts';

/** Offsets of the 27 cells around a cell; with ≥ 3 cells per dimension they are distinct cells. */
const CELL_STENCIL = (() => {
  const out = new Int32Array(81);
  let k = 0;
  for (let a = -1; a <= 1; a++) for (let b = -1; b <= 1; b++) for (let c = -1; c <= 1; c++) {
    out[k++] = a; out[k++] = b; out[k++] = c;
  }
  return out;
})();

export interface NeighborList {
  readonly skin: number;
  /** (cutoff_t + skin)² per pair type t = s_i + s_j. */
  readonly listCutoff2: Float64Array;
  /** Neighbors of i are pairs[start[i] .. start[i+1]). */
  start: Int32Array;
  /**
   * Pairs of i from boundaryStart[i] on were periodic images at the last build; those before it
   * were not, and stay so until the next build (moves < skin/2 keep every listed pair far below half
   * the box), so the force loop skips the minimum-image step for them.
   */
  boundaryStart: Int32Array;
  pairs: Int32Array;
  /** Pair type s_i + s_j of each listed pair (saves the force loop a dependent load). */
  pairType: Uint8Array;
  /** Positions at the last build, for the displacement criterion. */
  reference: Float64Array;
  /** Box at the last build: a box change forces a rebuild. */
  box: Box | null;
  builds: number;
  /** Cell of each particle at the last build (the spatial sort key). */
  cellOf: Int32Array;
}

export function createNeighborList(n: number, pairCutoffs: ArrayLike<number>, skin: number): NeighborList {
  if (!(skin >= 0)) throw new RangeError(`neighbor skin must be ≥ 0; got ${skin}`);
  const listCutoff2 = new Float64Array(pairCutoffs.length);
  for (let t = 0; t < pairCutoffs.length; t++) listCutoff2[t] = (pairCutoffs[t] + skin) ** 2;
  return {
    skin, listCutoff2, start: new Int32Array(n + 1), boundaryStart: new Int32Array(n), pairs: new Int32Array(Math.max(64, n * 24)), pairType: new Uint8Array(0),
    reference: new Float64Array(3 * n), box: null, builds: 0, cellOf: new Int32Array(n),
  };
}

/** The largest list radius must be below half the box's smallest width for minimum image to hold. */
export function checkBoxFitsCutoff(box: Box, maxCutoff: number): void {
  const w = Math.min(...perpendicularWidths(box));
  if (maxCutoff >= 0.5 * w) {
    throw new RangeError(
      `box too small: its narrowest width ${w.toFixed(4)} must exceed twice the interaction range ${maxCutoff.toFixed(4)} ` +
      `(use more particles, e.g. N ≥ 256)`,
    );
  }
}

export function needsRebuild(list: NeighborList, box: Box, pos: Float64Array): boolean {
  if (list.box === null || list.box !== box) return true;
  const limit = 0.25 * list.skin * list.skin;
  const ref = list.reference;
  for (let k = 0; k < pos.length; k += 3) {
    const dx = pos[k] - ref[k], dy = pos[k + 1] - ref[k + 1], dz = pos[k + 2] - ref[k + 2];
    if (dx * dx + dy * dy + dz * dz > limit) return true;
  }
  return false;
}

/** Rebuild the list from scratch for positions pos (any image) and species. */
export function buildNeighborList(list: NeighborList, box: Box, pos: Float64Array, species: Uint8Array): void {
  const n = species.length;
  const maxR = Math.sqrt(Math.max(...list.listCutoff2));
  checkBoxFitsCutoff(box, maxR);
  const widths = perpendicularWidths(box);
  const nc = widths.map((w) => Math.max(1, Math.floor(w / maxR)));
  const [ncx, ncy, ncz] = nc;
  const useCells = ncx >= 3 && ncy >= 3 && ncz >= 3;
  const ncell = useCells ? ncx * ncy * ncz : 1;

  // fractional coordinates → cell index (counting sort of particles by cell)
  const { lx, ly, lz, xy, xz, yz } = box;
  const cellOf = list.cellOf;
  const cellCount = new Int32Array(ncell + 1);
  const far = 1e6 * (lx + ly + lz);
  for (let i = 0; i < n; i++) {
    const x = pos[3 * i], y = pos[3 * i + 1], z = pos[3 * i + 2];
    if (!(Math.abs(x) + Math.abs(y) + Math.abs(z) < far)) {
      throw new Error(`particle ${i} is at (${x}, ${y}, ${z}), far outside the box: the dynamics or minimisation has diverged`);
    }
    let sz = z / lz;
    let sy = (y - yz * sz) / ly;
    let sx = (x - xy * sy - xz * sz) / lx;
    sx -= Math.floor(sx); sy -= Math.floor(sy); sz -= Math.floor(sz);
    const c = useCells
      ? (Math.min(ncx - 1, (sx * ncx) | 0) * ncy + Math.min(ncy - 1, (sy * ncy) | 0)) * ncz + Math.min(ncz - 1, (sz * ncz) | 0)
      : 0;
    cellOf[i] = c;
    cellCount[c + 1]++;
  }
  for (let c = 0; c < ncell; c++) cellCount[c + 1] += cellCount[c];
  const cellStart = cellCount.slice();
  const cellAtoms = new Int32Array(n);
  const fill = cellCount.slice(0, ncell);
  for (let i = 0; i < n; i++) cellAtoms[fill[cellOf[i]]++] = i;

  const cut2 = list.listCutoff2;
  const start = list.start;
  let pairs = list.pairs;
  let m = 0;
  const stencil = useCells ? CELL_STENCIL : null;
  const boundaryStart = list.boundaryStart;
  const crossing = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    start[i] = m;
    let nCrossing = 0;
    const xi = pos[3 * i], yi = pos[3 * i + 1], zi = pos[3 * i + 2];
    const si = species[i];
    const ci = cellOf[i];
    const cx = useCells ? (ci / (ncy * ncz)) | 0 : 0;
    const cy = useCells ? ((ci / ncz) | 0) % ncy : 0;
    const cz = useCells ? ci % ncz : 0;
    const ncells = stencil ? 27 : 1;
    for (let s = 0; s < ncells; s++) {
      let c = 0;
      if (stencil) {
        const ax = (cx + stencil[3 * s] + ncx) % ncx;
        const ay = (cy + stencil[3 * s + 1] + ncy) % ncy;
        const az = (cz + stencil[3 * s + 2] + ncz) % ncz;
        c = (ax * ncy + ay) * ncz + az;
      }
      for (let a = cellStart[c], end = cellStart[c + 1]; a < end; a++) {
        const j = cellAtoms[a];
        if (j <= i) continue;
        let dx = pos[3 * j] - xi, dy = pos[3 * j + 1] - yi, dz = pos[3 * j + 2] - zi;
        const dxRaw = dx;
        const kz = Math.round(dz / lz);
        dz -= kz * lz; dy -= kz * yz; dx -= kz * xz;
        const ky = Math.round(dy / ly);
        dy -= ky * ly; dx -= ky * xy;
        dx -= Math.round(dx / lx) * lx;
        if (dx * dx + dy * dy + dz * dz < cut2[si + species[j]]) {
          if (kz !== 0 || ky !== 0 || dxRaw !== dx) {
            crossing[nCrossing++] = j;
            continue;
          }
          if (m === pairs.length) pairs = grow(pairs);
          pairs[m++] = j;
        }
      }
    }
    boundaryStart[i] = m;
    while (m + nCrossing > pairs.length) pairs = grow(pairs);
    for (let c = 0; c < nCrossing; c++) pairs[m++] = crossing[c];
  }
  start[n] = m;
  list.pairs = pairs;
  if (list.pairType.length < pairs.length) list.pairType = new Uint8Array(pairs.length);
  const pairType = list.pairType;
  for (let i = 0; i < n; i++) {
    const si = species[i];
    for (let k = start[i], end = start[i + 1]; k < end; k++) pairType[k] = si + species[pairs[k]];
  }
  list.reference.set(pos);
  list.box = box;
  list.builds++;
}

function grow(a: Int32Array): Int32Array {
  const grown = new Int32Array(a.length * 2);
  grown.set(a);
  return grown;
}

/** Number of listed pairs (within cutoff + skin). */
export function pairCount(list: NeighborList, n: number): number {
  return list.start[n];
}
