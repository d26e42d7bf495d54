/**
 * Verlet neighbor list with a skin, built through a cell list; half list (each pair once, in the row
 * of its lower index)
 * in compressed-row form. Per pair type the list keeps pairs within cutoff_t + skin, and it must be
 * rebuilt once any particle has moved more than skin/2 since the last build (needsRebuild).
 */
import { type Box, perpendicularWidths } from './box.ts';
import { inKernelMemory, kernelArray, kernelCopy, kernelSet, wasmKernels } from '../util/kernels.ts';
import { runParallel, splitRows, threadArgs, threadBounds, threadCount } from '../util/threads.ts';

/**
 * Half stencil over cell offsets −reach..reach: the cell itself first, then the offsets that are
 * lexicographically positive, so every pair of cells within reach is visited once. Cells at least
 * half the list radius wide need reach 2, and ≥ 5 cells per dimension so that no two offsets wrap
 * onto the same cell.
 */
function halfStencil(reach: number): Int32Array {
  const out: number[] = [0, 0, 0];
  for (let a = -reach; a <= reach; a++) for (let b = -reach; b <= reach; b++) for (let c = -reach; c <= reach; c++) {
    if (a > 0 || (a === 0 && (b > 0 || (b === 0 && c > 0)))) out.push(a, b, c);
  }
  return Int32Array.from(out);
}
/** Index 0: one cell holding everything (pairs by minimum image); 1: half-width cells. */
const STENCILS = [Int32Array.of(0, 0, 0), halfStencil(2)];

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
  /** Particles in cell order at the last build (by cell, then index): the spatial sort's order. */
  cellOrder: Int32Array;
  /** Build workspace, kept and reused between builds (grown when too small). */
  work: BuildWorkspace;
}

interface BuildWorkspace {
  /** Cell of each particle, image counts (3 per particle), wrapped positions and species in cell order. */
  cellOf: Int32Array; image: Int32Array; wx: Float64Array; wy: Float64Array; wz: Float64Array; spc: Uint8Array;
  species: Uint8Array; front: Int32Array;
  /** First particle (in cell order) of each cell, ncell + 1 entries; a fill cursor per cell. */
  cellStart: Int32Array; fill: Int32Array;
  /** Pairs found in cell order before the row sort; crossing: the raw vector is not the pair's image. */
  first: Int32Array; second: Int32Array; crossing: Uint8Array;
  /** Box as (lx, ly, lz, xy, xz, yz) and the stencils, where the kernels read them. */
  cell: Float64Array; stencils: Int32Array[];
}

export function createNeighborList(n: number, pairCutoffs: ArrayLike<number>, skin: number): NeighborList {
  const capacity = Math.max(64, n * 24);
  const list: NeighborList = {
    skin: NaN, pairCutoffs: Float64Array.from(pairCutoffs), listCutoff2: kernelArray(Float64Array, pairCutoffs.length),
    start: kernelArray(Int32Array, n + 1), boundaryStart: kernelArray(Int32Array, n),
    pairs: kernelArray(Int32Array, capacity), pairType: kernelArray(Uint8Array, capacity),
    reference: new Float64Array(3 * n), box: null, builds: 0, cellOrder: kernelArray(Int32Array, n),
    work: {
      cellOf: new Int32Array(n), image: kernelArray(Int32Array, 3 * n),
      wx: kernelArray(Float64Array, n), wy: kernelArray(Float64Array, n), wz: kernelArray(Float64Array, n),
      spc: kernelArray(Uint8Array, n), species: kernelArray(Uint8Array, n), front: kernelArray(Int32Array, n),
      cellStart: kernelArray(Int32Array, 1), fill: new Int32Array(0),
      first: kernelArray(Int32Array, capacity), second: kernelArray(Int32Array, capacity), crossing: kernelArray(Uint8Array, capacity),
      cell: kernelArray(Float64Array, 6), stencils: STENCILS.map((s) => kernelCopy(Int32Array, s)),
    },
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
 * Cells per dimension, half the list radius wide or a little more (stencil 1), or, in boxes too
 * small for 5 such cells per dimension (narrower than 2.5 list radii, where cells a full radius
 * wide would not reach the 3 per dimension they need either), one cell (stencil 0).
 */
function cellGrid(box: Box, maxR: number): { cx: number; cy: number; cz: number; stencil: number } {
  const half = perpendicularWidths(box).map((x) => Math.floor(x / (0.5 * maxR)));
  if (half.every((c) => c >= 5)) return { cx: half[0], cy: half[1], cz: half[2], stencil: 1 };
  return { cx: 1, cy: 1, cz: 1, stencil: 0 };
}

/**
 * Rebuild the list from scratch for positions pos (any image) and species.
 *
 * Particles are wrapped into the box (with their image counts), binned into cells half the list
 * radius wide (one cell in small boxes) and counting-sorted by cell; pairs are
 * found over the half stencil with the periodic shift of each neighbor cell known in advance, so no
 * pair needs a minimum-image search. Each pair is then stored in the row of its lower index (the
 * i < j order the linear-response code relies on), pairs that are images of each other in the raw
 * positions at the end of their row. The pair search and the row sort run in the kernel set in use.
 */
export function buildNeighborList(list: NeighborList, box: Box, pos: Float64Array, species: Uint8Array): void {
  const n = species.length;
  const maxR = Math.sqrt(Math.max(...list.listCutoff2));
  checkBoxFitsCutoff(box, maxR);
  const { cx, cy, cz, stencil: which } = cellGrid(box, maxR);
  const ncell = cx * cy * cz;
  const w = list.work;
  if (w.cellStart.length < ncell + 1) { w.cellStart = kernelArray(Int32Array, ncell + 1); w.fill = new Int32Array(ncell); }

  // wrapped coordinates (in cell order), image counts and cells
  const { lx, ly, lz, xy, xz, yz } = box;
  const { cellOf, image, wx, wy, wz, spc, cellStart, fill } = w;
  const cellAtoms = list.cellOrder;
  w.species.set(species);
  cellStart.fill(0, 0, ncell + 1);
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
    cellStart[c + 1]++;
  }
  for (let c = 0; c < ncell; c++) cellStart[c + 1] += cellStart[c];
  fill.set(cellStart.subarray(0, ncell));
  for (let i = 0; i < n; i++) cellAtoms[fill[cellOf[i]]++] = i;
  for (let a = 0; a < n; a++) {
    const i = cellAtoms[a];
    const kx = image[3 * i], ky = image[3 * i + 1], kz = image[3 * i + 2];
    wx[a] = pos[3 * i] - kx * lx - ky * xy - kz * xz;
    wy[a] = pos[3 * i + 1] - ky * ly - kz * yz;
    wz[a] = pos[3 * i + 2] - kz * lz;
    spc[a] = species[i];
  }
  const cell = w.cell;
  cell[0] = lx; cell[1] = ly; cell[2] = lz; cell[3] = xy; cell[4] = xz; cell[5] = yz;

  const useWasm = kernelSet() === 'wasm' && inKernelMemory(list.start) && inKernelMemory(w.wx);
  const stencil = w.stencils[which];
  let m = useWasm ? pairsWasm(list, ncell, cy, cz, stencil) : findPairs(list, ncell, cy, cz, stencil);
  if (m > w.first.length) {
    // the workspace was too small: grow it to what was found and search again
    const size = Math.ceil(1.25 * m);
    w.first = kernelArray(Int32Array, size); w.second = kernelArray(Int32Array, size); w.crossing = kernelArray(Uint8Array, size);
    m = useWasm ? pairsWasm(list, ncell, cy, cz, stencil) : findPairs(list, ncell, cy, cz, stencil);
  }
  if (list.pairs.length < m) { list.pairs = kernelArray(Int32Array, w.first.length); list.pairType = kernelArray(Uint8Array, w.first.length); }
  if (useWasm) {
    wasmKernels().neighborRows(
      n, m, w.first.byteOffset, w.second.byteOffset, w.crossing.byteOffset, w.species.byteOffset,
      list.start.byteOffset, w.front.byteOffset, list.boundaryStart.byteOffset, list.pairs.byteOffset, list.pairType.byteOffset,
    );
  } else {
    sortRows(list, n, m);
  }
  list.reference.set(pos);
  list.box = box;
  list.builds++;
}

function pairsWasm(list: NeighborList, ncell: number, cy: number, cz: number, stencil: Int32Array): number {
  const w = list.work;
  if (threadCount() > 1) return threadedPairs(list, ncell, cy, cz, stencil);
  return wasmKernels().neighborPairs(
    0, ncell, ncell, cy, cz, w.cellStart.byteOffset, list.cellOrder.byteOffset, w.wx.byteOffset, w.wy.byteOffset, w.wz.byteOffset,
    w.spc.byteOffset, w.image.byteOffset, stencil.byteOffset, stencil.length / 3, list.listCutoff2.byteOffset, w.cell.byteOffset,
    w.first.byteOffset, w.second.byteOffset, w.crossing.byteOffset, w.first.length,
  );
}

/**
 * The pair search on threadCount() threads: thread k searches the cells of about 1/T of the
 * particles into its own part of the workspace; the parts are then moved together in thread order,
 * which is the cell order of the one-thread search (the same list). Returns more than the capacity
 * (so that the caller grows the workspace) if one part overflowed.
 */
function threadedPairs(list: NeighborList, ncell: number, cy: number, cz: number, stencil: Int32Array): number {
  const w = list.work;
  const T = threadCount();
  const part = Math.floor(w.first.length / T);
  const cells = splitRows(w.cellStart, ncell, threadBounds('neighbors'));
  for (let t = 0; t < T; t++) {
    const a = threadArgs(t);
    a[0] = cells[t]; a[1] = cells[t + 1]; a[2] = ncell; a[3] = cy; a[4] = cz;
    a[5] = w.cellStart.byteOffset; a[6] = list.cellOrder.byteOffset; a[7] = w.wx.byteOffset; a[8] = w.wy.byteOffset; a[9] = w.wz.byteOffset;
    a[10] = w.spc.byteOffset; a[11] = w.image.byteOffset; a[12] = stencil.byteOffset; a[13] = stencil.length / 3;
    a[14] = list.listCutoff2.byteOffset; a[15] = w.cell.byteOffset;
    a[16] = w.first.byteOffset + 4 * t * part; a[17] = w.second.byteOffset + 4 * t * part; a[18] = w.crossing.byteOffset + t * part;
    a[19] = part;
  }
  const found = runParallel('neighborPairs');
  let m = 0, largest = 0;
  for (let t = 0; t < T; t++) largest = Math.max(largest, found[t]);
  if (largest > part) return T * largest;
  for (let t = 0; t < T; t++) {
    const from = t * part, count = found[t];
    if (from !== m) {
      w.first.copyWithin(m, from, from + count);
      w.second.copyWithin(m, from, from + count);
      w.crossing.copyWithin(m, from, from + count);
    }
    m += count;
  }
  return m;
}

/**
 * The pairs within the list radius, in cell order, into the workspace's first/second/crossing.
 * Returns how many there are; beyond the workspace's capacity they are counted, not stored.
 */
function findPairs(list: NeighborList, ncell: number, cy: number, cz: number, stencil: Int32Array): number {
  const { cellStart, wx, wy, wz, spc, image, cell, first, second, crossing } = list.work;
  const cellAtoms = list.cellOrder;
  const lx = cell[0], ly = cell[1], lz = cell[2], xy = cell[3], xz = cell[4], yz = cell[5];
  const cx = ncell / (cy * cz);
  const useCells = stencil.length > 3;
  const capacity = first.length;
  const cut2 = list.listCutoff2;
  let m = 0;
  for (let c = 0; c < ncell; c++) {
    const gx = (c / (cy * cz)) | 0, gy = ((c / cz) | 0) % cy, gz = c % cz;
    for (let s = 0; s < stencil.length; s += 3) {
      const ox = gx + stencil[s], oy = gy + stencil[s + 1], oz = gz + stencil[s + 2];
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
          if (m < capacity) {
            const j = cellAtoms[b];
            first[m] = i; second[m] = j;
            // raw r_j − r_i is this pair vector plus (image_j − image_i − shift) lattice vectors
            crossing[m] = image[3 * j] - image[3 * i] !== qx || image[3 * j + 1] - image[3 * i + 1] !== qy ||
              image[3 * j + 2] - image[3 * i + 2] !== qz ? 1 : 0;
          }
          m++;
        }
      }
    }
  }
  return m;
}

/** Rows by lower index: in-image pairs from the row's front, image pairs from its back. */
function sortRows(list: NeighborList, n: number, m: number): void {
  const { first, second, crossing, species, front } = list.work;
  const { start, pairs, pairType, boundaryStart } = list;
  start.fill(0);
  for (let p = 0; p < m; p++) start[Math.min(first[p], second[p]) + 1]++;
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  for (let i = 0; i < n; i++) { front[i] = start[i]; boundaryStart[i] = start[i + 1]; }
  for (let p = 0; p < m; p++) {
    const i = Math.min(first[p], second[p]), j = Math.max(first[p], second[p]);
    const q = crossing[p] ? --boundaryStart[i] : front[i]++;
    pairs[q] = j;
    pairType[q] = species[i] + species[j];
  }
}

/** Number of listed pairs (within cutoff + skin). */
export function pairCount(list: NeighborList, n: number): number {
  return list.start[n];
}
