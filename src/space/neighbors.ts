/**
 * Verlet neighbor list with a skin, built through a cell list; half list (each pair once, in the row
 * of its lower index)
 * in compressed-row form. Per pair type the list keeps pairs within cutoff_t + skin, and it must be
 * rebuilt once any particle has moved more than skin/2 since the last build (needsRebuild).
 */
import { type Box, perpendicularWidths } from './box.ts';

/**
 * Half stencil: the cell itself and the 13 neighbor cells with a lexicographically positive offset,
 * so that every pair of adjacent cells is visited once (needs ≥ 3 cells per dimension).
 */
const HALF_STENCIL = (() => {
  const out: number[] = [];
  for (let a = -1; a <= 1; a++) for (let b = -1; b <= 1; b++) for (let c = -1; c <= 1; c++) {
    if (a > 0 || (a === 0 && (b > 0 || (b === 0 && c >= 0)))) out.push(a, b, c);
  }
  return Int32Array.from(out);
})();

export interface NeighborList {
  skin: number;
  /** Interaction cutoff per pair type t = s_i + s_j. */
  readonly pairCutoffs: Float64Array;
  /** (cutoff_t + skin)² per pair type. */
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
  /** Build workspace, kept between builds: pairs found in cell order before the row sort. */
  found: { first: Int32Array; second: Int32Array; crossing: Uint8Array };
}

export function createNeighborList(n: number, pairCutoffs: ArrayLike<number>, skin: number): NeighborList {
  const capacity = Math.max(64, n * 24);
  const list: NeighborList = {
    skin: NaN, pairCutoffs: Float64Array.from(pairCutoffs), listCutoff2: new Float64Array(pairCutoffs.length), start: new Int32Array(n + 1), boundaryStart: new Int32Array(n),
    pairs: new Int32Array(capacity), pairType: new Uint8Array(capacity),
    reference: new Float64Array(3 * n), box: null, builds: 0, cellOf: new Int32Array(n),
    found: { first: new Int32Array(capacity), second: new Int32Array(capacity), crossing: new Uint8Array(capacity) },
  };
  setSkin(list, skin);
  return list;
}

/** Change the skin; the next force evaluation rebuilds the list. */
export function setSkin(list: NeighborList, skin: number): void {
  if (!(skin >= 0) || !Number.isFinite(skin)) throw new RangeError(`neighbor skin must be a finite number ≥ 0; got ${skin}`);
  if (skin === list.skin) return;
  list.skin = skin;
  for (let t = 0; t < list.pairCutoffs.length; t++) list.listCutoff2[t] = (list.pairCutoffs[t] + skin) ** 2;
  list.box = null;
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

/**
 * Rebuild the list from scratch for positions pos (any image) and species.
 *
 * Particles are wrapped into the box (a copy, with their image counts), binned into cells at least
 * as wide as the list radius, and pairs are found over the half stencil with the periodic shift of
 * each neighbor cell known in advance, so no pair needs a minimum-image search. Each pair is then
 * stored in the row of its lower index (the i < j order the linear-response code relies on), pairs
 * that are images of each other in the raw positions at the end of their row.
 */
export function buildNeighborList(list: NeighborList, box: Box, pos: Float64Array, species: Uint8Array): void {
  const n = species.length;
  const maxR = Math.sqrt(Math.max(...list.listCutoff2));
  checkBoxFitsCutoff(box, maxR);
  const widths = perpendicularWidths(box);
  const ncx = Math.max(1, Math.floor(widths[0] / maxR));
  const ncy = Math.max(1, Math.floor(widths[1] / maxR));
  const ncz = Math.max(1, Math.floor(widths[2] / maxR));
  const useCells = ncx >= 3 && ncy >= 3 && ncz >= 3;
  const cx = useCells ? ncx : 1, cy = useCells ? ncy : 1, cz = useCells ? ncz : 1;
  const ncell = cx * cy * cz;

  // wrapped coordinates (in cell order), image counts and cells
  const { lx, ly, lz, xy, xz, yz } = box;
  const cellOf = list.cellOf;
  const image = new Int32Array(3 * n);
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
    const kx = Math.floor(sx), ky = Math.floor(sy), kz = Math.floor(sz);
    sx -= kx; sy -= ky; sz -= kz;
    image[3 * i] = kx; image[3 * i + 1] = ky; image[3 * i + 2] = kz;
    const c = (Math.min(cx - 1, (sx * cx) | 0) * cy + Math.min(cy - 1, (sy * cy) | 0)) * cz + Math.min(cz - 1, (sz * cz) | 0);
    cellOf[i] = c;
    cellCount[c + 1]++;
  }
  for (let c = 0; c < ncell; c++) cellCount[c + 1] += cellCount[c];
  const cellStart = cellCount;
  const cellAtoms = new Int32Array(n);
  const fill = cellCount.slice(0, ncell);
  for (let i = 0; i < n; i++) cellAtoms[fill[cellOf[i]]++] = i;
  const wx = new Float64Array(n), wy = new Float64Array(n), wz = new Float64Array(n);
  const spc = new Uint8Array(n);
  for (let a = 0; a < n; a++) {
    const i = cellAtoms[a];
    const kx = image[3 * i], ky = image[3 * i + 1], kz = image[3 * i + 2];
    wx[a] = pos[3 * i] - kx * lx - ky * xy - kz * xz;
    wy[a] = pos[3 * i + 1] - ky * ly - kz * yz;
    wz[a] = pos[3 * i + 2] - kz * lz;
    spc[a] = species[i];
  }

  const cut2 = list.listCutoff2;
  let { first, second, crossing } = list.found;
  let m = 0;
  const stencilSize = useCells ? HALF_STENCIL.length / 3 : 1;
  for (let c = 0; c < ncell; c++) {
    const gx = (c / (cy * cz)) | 0, gy = ((c / cz) | 0) % cy, gz = c % cz;
    for (let s = 0; s < stencilSize; s++) {
      const ox = useCells ? gx + HALF_STENCIL[3 * s] : gx;
      const oy = useCells ? gy + HALF_STENCIL[3 * s + 1] : gy;
      const oz = useCells ? gz + HALF_STENCIL[3 * s + 2] : gz;
      // periodic wrap of the neighbor cell: its particles are seen shifted by px·a + py·b + pz·c
      const px = ox < 0 ? -1 : ox >= cx ? 1 : 0;
      const py = oy < 0 ? -1 : oy >= cy ? 1 : 0;
      const pz = oz < 0 ? -1 : oz >= cz ? 1 : 0;
      const d = ((ox - px * cx) * cy + (oy - py * cy)) * cz + (oz - pz * cz);
      const shiftX = px * lx + py * xy + pz * xz, shiftY = py * ly + pz * yz, shiftZ = pz * lz;
      const self = s === 0;
      for (let a = cellStart[c], aEnd = cellStart[c + 1]; a < aEnd; a++) {
        const xa = wx[a] - shiftX, ya = wy[a] - shiftY, za = wz[a] - shiftZ;
        const sa = spc[a];
        const i = cellAtoms[a];
        for (let b = self ? a + 1 : cellStart[d], bEnd = cellStart[d + 1]; b < bEnd; b++) {
          let dx = wx[b] - xa, dy = wy[b] - ya, dz = wz[b] - za;
          let qx = px, qy = py, qz = pz;
          if (!useCells) {
            // a single cell: the shift is the minimum image itself
            qz = Math.round(dz / lz); dz -= qz * lz; dy -= qz * yz; dx -= qz * xz;
            qy = Math.round(dy / ly); dy -= qy * ly; dx -= qy * xy;
            qx = Math.round(dx / lx); dx -= qx * lx;
            qx = -qx; qy = -qy; qz = -qz;
          }
          if (dx * dx + dy * dy + dz * dz >= cut2[sa + spc[b]]) continue;
          if (m === first.length) ({ first, second, crossing } = list.found = growFound(list.found));
          const j = cellAtoms[b];
          first[m] = i; second[m] = j;
          // raw r_j − r_i is this pair vector plus (image_j − image_i − shift) lattice vectors
          crossing[m] = image[3 * j] - image[3 * i] !== qx || image[3 * j + 1] - image[3 * i + 1] !== qy ||
            image[3 * j + 2] - image[3 * i + 2] !== qz ? 1 : 0;
          m++;
        }
      }
    }
  }

  // rows by lower index: in-image pairs from the row's front, image pairs from its back
  const start = list.start;
  start.fill(0);
  for (let p = 0; p < m; p++) start[Math.min(first[p], second[p]) + 1]++;
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  if (list.pairs.length < m) { list.pairs = new Int32Array(first.length); list.pairType = new Uint8Array(first.length); }
  const pairs = list.pairs, pairType = list.pairType, boundaryStart = list.boundaryStart;
  const front = start.slice(0, n);
  for (let i = 0; i < n; i++) boundaryStart[i] = start[i + 1];
  for (let p = 0; p < m; p++) {
    const i = Math.min(first[p], second[p]), j = Math.max(first[p], second[p]);
    const q = crossing[p] ? --boundaryStart[i] : front[i]++;
    pairs[q] = j;
    pairType[q] = species[i] + species[j];
  }
  list.reference.set(pos);
  list.box = box;
  list.builds++;
}

function growFound(found: NeighborList['found']): NeighborList['found'] {
  const size = 2 * found.first.length;
  const first = new Int32Array(size), second = new Int32Array(size), crossing = new Uint8Array(size);
  first.set(found.first); second.set(found.second); crossing.set(found.crossing);
  return { first, second, crossing };
}

/** Number of listed pairs (within cutoff + skin). */
export function pairCount(list: NeighborList, n: number): number {
  return list.start[n];
}
