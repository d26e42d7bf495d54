/**
 * Verlet neighbor list with a skin, built through a cell list; half list (each pair once, in the row
 * of its lower index)
 * in compressed-row form. Per pair type the list keeps pairs within cutoff_t + skin, and it must be
 * rebuilt once any particle has moved more than skin/2 since the last build (needsRebuild).
 * A list may have an outer list with a larger skin (dynamics gives it one): it is then rebuilt by
 * filtering the outer list's pairs, and the cells are searched only when the outer list is too old.
 */
import { type Box, minimumImage, perpendicularWidths } from './box.ts';
import { inKernelMemory, kernelArray, kernelCopy, kernelSet, releaseArray, wasmKernels } from '../util/kernels.ts';
import { runOnThreads, splitRows, threadBounds, threadCount } from '../util/threads.ts';

/**
 * The half stencil of cells half the list radius wide (offsets −2..2, each pair of cells once):
 * the cell itself (pairs b > a), the cells above it in its own column (z + 1, z + 2), and the 12
 * columns (ax, by) lexicographically positive, each from z − 2 to z + 2; 63 cells. Cells are
 * numbered z fastest, so a column's cells hold consecutive particles in cell order. Stored as the
 * columns' offsets (ax, by); the heights are implied.
 */
function halfStencilColumns(): Int32Array {
  const columns: number[] = [];
  for (let ax = 0; ax <= 2; ax++) for (let by = -2; by <= 2; by++) if (ax > 0 || by > 0) columns.push(ax, by);
  return Int32Array.from(columns);
}
/** Index 0: one cell holding everything (pairs by minimum image, no columns); 1: half-width cells. */
const STENCILS = [new Int32Array(0), halfStencilColumns()];

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
  /** Lists made (searched or filtered), and cell searches made for this list or its outer list. */
  builds: number;
  searches: number;
  /** Particles in cell order at the last build (by cell, then index): the spatial sort's order. */
  cellOrder: Int32Array;
  /** Build workspace, kept and reused between builds (grown when too small). */
  work: BuildWorkspace;
  /**
   * The outer list (null: none): a list of the same pairs with a larger skin. With one, a build takes
   * this list's pairs from it (filterPairs) and searches the cells only to rebuild it, once a
   * particle has moved more than (outer skin − skin)/2 since its own build.
   */
  outer: NeighborList | null;
}

interface BuildWorkspace {
  /** Cell of each particle, image counts (3 per particle), wrapped positions and species in cell order. */
  cellOf: Int32Array; image: Int32Array; wx: Float64Array; wy: Float64Array; wz: Float64Array; spc: Uint8Array;
  species: Uint8Array; front: Int32Array;
  /** First particle (in cell order) of each cell, ncell + 1 entries; a fill cursor per cell. */
  cellStart: Int32Array; fill: Int32Array;
  /**
   * Pairs found in cell order before the row sort, with the periodic shift of each (shiftCode); one
   * entry more than the capacity, where the pair search writes candidates beyond it.
   */
  first: Int32Array; second: Int32Array; shift: Uint8Array;
  /** Where each thread's pairs lie in first/second/shift after the search: from, to per thread. */
  parts: Int32Array;
  /** The kernels' pair search: one column's candidates and their range bounds, per thread. */
  candidates: Float64Array;
  /** The kernels' row counts (from the pair search), then slots: front and back, n each, per thread. */
  rowCounts: Int32Array;
  /** Box as (lx, ly, lz, xy, xz, yz) and the stencils (column offsets), where the kernels read them. */
  cell: Float64Array; stencils: Int32Array[];
}

export function createNeighborList(n: number, pairCutoffs: ArrayLike<number>, skin: number): NeighborList {
  const capacity = Math.max(64, n * 24);
  const list: NeighborList = {
    skin: NaN, pairCutoffs: Float64Array.from(pairCutoffs), listCutoff2: kernelArray(Float64Array, pairCutoffs.length),
    start: kernelArray(Int32Array, n + 1), boundaryStart: kernelArray(Int32Array, n),
    pairs: kernelArray(Int32Array, capacity), pairType: kernelArray(Uint8Array, capacity),
    reference: kernelArray(Float64Array, 3 * n), box: null, builds: 0, searches: 0, cellOrder: kernelArray(Int32Array, n),
    work: {
      cellOf: kernelArray(Int32Array, n), image: kernelArray(Int32Array, 3 * n),
      wx: kernelArray(Float64Array, n), wy: kernelArray(Float64Array, n), wz: kernelArray(Float64Array, n),
      spc: kernelArray(Uint8Array, n), species: kernelArray(Uint8Array, n), front: kernelArray(Int32Array, n),
      cellStart: kernelArray(Int32Array, 1), fill: kernelArray(Int32Array, 0),
      first: kernelArray(Int32Array, capacity + 1), second: kernelArray(Int32Array, capacity + 1), shift: kernelArray(Uint8Array, capacity + 1),
      parts: new Int32Array(2), candidates: kernelArray(Float64Array, 0), rowCounts: kernelArray(Int32Array, 0),
      cell: kernelArray(Float64Array, 6), stencils: STENCILS.map((s) => kernelCopy(Int32Array, s)),
    },
    outer: null,
  };
  setSkin(list, skin);
  return list;
}

/** Change the skin; the next force evaluation rebuilds the list. */
export function setSkin(list: NeighborList, skin: number): void {
  if (!(skin >= 0) || !Number.isFinite(skin)) throw new RangeError(`neighbor skin must be a finite number ≥ 0; got ${skin}`);
  if (skin === list.skin) return;
  if (list.outer !== null && !(skin < list.outer.skin)) throw new RangeError(`neighbor skin ${skin} must stay below the outer list's ${list.outer.skin}`);
  list.skin = skin;
  for (let t = 0; t < list.pairCutoffs.length; t++) list.listCutoff2[t] = (list.pairCutoffs[t] + skin) ** 2;
  list.box = null;
}

/**
 * Give the list an outer list of skin `outerSkin` (larger than its own), from which its builds then
 * filter in boxes wide enough for its radius, or take it away (outerSkin = 0). The next force
 * evaluation rebuilds the list.
 */
export function setOuterSkin(list: NeighborList, outerSkin: number): void {
  if (outerSkin !== 0 && (!(outerSkin > list.skin) || !Number.isFinite(outerSkin))) {
    throw new RangeError(`outer neighbor skin must be finite and larger than the skin ${list.skin}; got ${outerSkin}`);
  }
  list.box = null;
  if (outerSkin === 0) list.outer = null;
  else if (list.outer === null) list.outer = createNeighborList(list.start.length - 1, list.pairCutoffs, outerSkin);
  else setSkin(list.outer, outerSkin);
}

/** The particles were renumbered or moved at will: no list holds, the outer one included. */
export function invalidateNeighbors(list: NeighborList): void {
  list.box = null;
  if (list.outer !== null) list.outer.box = null;
}

/** Whether a list radius is below half the box's smallest width, as minimum image needs. */
function fitsBox(box: Box, radius: number): boolean {
  return radius < 0.5 * Math.min(...perpendicularWidths(box));
}

/** The largest list radius must be below half the box's smallest width for minimum image to hold. */
export function checkBoxFitsCutoff(box: Box, maxCutoff: number): void {
  if (!fitsBox(box, maxCutoff)) {
    const w = Math.min(...perpendicularWidths(box));
    throw new RangeError(
      `box too small: its narrowest width ${w.toFixed(4)} must exceed twice the interaction range ${maxCutoff.toFixed(4)} ` +
      `(use more particles, e.g. N ≥ 256)`,
    );
  }
}

/**
 * Whether the list must be rebuilt for positions pos in box: any particle more than skin/2 from its
 * position at the last build, or another box. `largestMove2`, when given, is that largest squared
 * distance as the caller has just measured it (dynamics does, in its drift sweep), so the positions
 * need not be read again.
 */
export function needsRebuild(list: NeighborList, box: Box, pos: Float64Array, largestMove2?: number): boolean {
  if (list.box === null || list.box !== box) return true;
  const limit = 0.25 * list.skin * list.skin;
  if (largestMove2 !== undefined) return !(largestMove2 <= limit);
  return movedBeyond(pos, list.reference, limit);
}

/** Whether any particle lies farther than √limit2 from its reference position. */
function movedBeyond(pos: Float64Array, ref: Float64Array, limit2: number): boolean {
  if (kernelSet() === 'wasm' && inKernelMemory(pos) && inKernelMemory(ref)) return wasmKernels().movedBeyond(pos.length / 3, pos.byteOffset, ref.byteOffset, limit2) !== 0;
  for (let k = 0; k < pos.length; k += 3) {
    const dx = pos[k] - ref[k], dy = pos[k + 1] - ref[k + 1], dz = pos[k + 2] - ref[k + 2];
    if (dx * dx + dy * dy + dz * dz > limit2) return true;
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
 * The first step of a build: particles binned into the cells of the list radius, list.cellOrder
 * (particles by cell, then index) and the workspace's image counts, wrapped coordinates and species
 * in cell order; throws on a particle far outside the box. On its own it gives the spatial order
 * without the pair search (sortSpatially); the list's pairs are not touched.
 */
export function binIntoCells(list: NeighborList, box: Box, pos: Float64Array, species: Uint8Array): { ncell: number; cy: number; cz: number; stencil: number } {
  const n = species.length;
  const maxR = Math.sqrt(Math.max(...list.listCutoff2));
  checkBoxFitsCutoff(box, maxR);
  const { cx, cy, cz, stencil } = cellGrid(box, maxR);
  const ncell = cx * cy * cz;
  const w = list.work;
  if (w.cellStart.length < ncell + 1) { w.cellStart = kernelArray(Int32Array, ncell + 1); w.fill = kernelArray(Int32Array, ncell); }
  const { lx, ly, lz, xy, xz, yz } = box;
  const cell = w.cell;
  cell[0] = lx; cell[1] = ly; cell[2] = lz; cell[3] = xy; cell[4] = xz; cell[5] = yz;
  w.species.set(species);
  const far = 1e6 * (lx + ly + lz);
  const outside = kernelSet() === 'wasm' && inKernelMemory(w.wx) && inKernelMemory(pos)
    ? binWasm(list, n, { cx, cy, cz }, pos, far)
    : binParticles(list, n, { cx, cy, cz }, box, pos, far);
  if (outside >= 0) {
    const [x, y, z] = pos.subarray(3 * outside, 3 * outside + 3);
    throw new Error(`particle ${outside} is at (${x}, ${y}, ${z}), far outside the box: the dynamics or minimisation has diverged`);
  }
  return { ncell, cy, cz, stencil };
}

/**
 * Rebuild the list for positions pos (any image) and species: from the cells (searchPairs) or, if
 * the list has an outer list that the box can hold, by filtering the outer list's pairs
 * (filterPairs), after searching the cells for the outer list if it is too old (a particle moved more
 * than half the difference of the skins since its build: a pair it lacks could then be within this
 * list's radius) or another box.
 */
export function buildNeighborList(list: NeighborList, box: Box, pos: Float64Array, species: Uint8Array): void {
  const outer = list.outer;
  if (outer !== null && fitsBox(box, Math.sqrt(Math.max(...outer.listCutoff2)))) {
    const margin = 0.5 * (outer.skin - list.skin);
    if (outer.box !== box || movedBeyond(pos, outer.reference, margin * margin)) {
      searchPairs(outer, box, pos, species);
      builtFor(outer, box, pos);
      list.searches++;
    }
    filterPairs(list, outer, box, pos);
  } else {
    searchPairs(list, box, pos, species);
    list.searches++;
  }
  builtFor(list, box, pos);
}

function builtFor(list: NeighborList, box: Box, pos: Float64Array): void {
  list.reference.set(pos);
  list.box = box;
  list.builds++;
}

/**
 * The list's pairs from the cells.
 *
 * Particles are wrapped into the box (with their image counts), binned into cells half the list
 * radius wide (one cell in small boxes) and counting-sorted by cell; pairs are
 * found over the half stencil with the periodic shift of each neighbor cell known in advance, so no
 * pair needs a minimum-image search. Each pair is then stored in the row of its lower index (the
 * i < j order the linear-response code relies on), pairs that are images of each other in the raw
 * positions at the end of their row. The pair search and the row sort run in the kernel set in use.
 */
function searchPairs(list: NeighborList, box: Box, pos: Float64Array, species: Uint8Array): void {
  const n = species.length;
  const { ncell, cy, cz, stencil: which } = binIntoCells(list, box, pos, species);
  const w = list.work;
  const useWasm = kernelSet() === 'wasm' && inKernelMemory(list.start) && inKernelMemory(w.wx);
  const stencil = w.stencils[which];
  let m = useWasm ? pairsWasm(list, ncell, cy, cz, stencil) : findPairs(list, ncell, cy, cz, stencil);
  if (m > w.first.length - 1) {
    // the workspace was too small: grow it to what was found and search again
    const size = Math.ceil(1.25 * m) + 1;
    w.first = kernelArray(Int32Array, size); w.second = kernelArray(Int32Array, size); w.shift = kernelArray(Uint8Array, size);
    m = useWasm ? pairsWasm(list, ncell, cy, cz, stencil) : findPairs(list, ncell, cy, cz, stencil);
  }
  if (list.pairs.length < m) { list.pairs = kernelArray(Int32Array, w.first.length); list.pairType = kernelArray(Uint8Array, w.first.length); }
  if (useWasm) sortRowsWasm(list, n);
  else sortRows(list, n, m);
}

/**
 * The list's pairs from its outer list's (kernel: assembly/neighbors.ts neighborFilter): of each
 * outer row, the in-image pairs, then the image pairs (by minimumImage), those within this list's
 * radius, in the outer order. A pair in image at the outer build is so still: positions are not
 * wrapped between builds (the spatial sort renumbers the particles, and invalidates the outer list)
 * and no listed pair moves by half a box.
 */
function filterPairs(list: NeighborList, outer: NeighborList, box: Box, pos: Float64Array): void {
  const n = list.start.length - 1;
  if (list.pairs.length < outer.start[n]) {
    list.pairs = kernelArray(Int32Array, outer.pairs.length); list.pairType = kernelArray(Uint8Array, outer.pairs.length);
  }
  if (kernelSet() === 'wasm' && inKernelMemory(list.start) && inKernelMemory(outer.start) && inKernelMemory(pos)) {
    filterWasm(list, outer, box, pos);
    return;
  }
  const { start, boundaryStart, pairs, pairType, listCutoff2 } = list;
  const d = pairVector;
  let m = 0;
  for (let i = 0; i < n; i++) {
    start[i] = m;
    const crossing = outer.boundaryStart[i];
    for (let k = outer.start[i], end = outer.start[i + 1]; k < end; k++) {
      if (k === crossing) boundaryStart[i] = m;
      const j = outer.pairs[k], t = outer.pairType[k];
      for (let a = 0; a < 3; a++) d[a] = pos[3 * j + a] - pos[3 * i + a];
      if (k >= crossing) minimumImage(box, d, 0);
      if (d[0] * d[0] + d[1] * d[1] + d[2] * d[2] < listCutoff2[t]) { pairs[m] = j; pairType[m] = t; m++; }
    }
    if (crossing === outer.start[i + 1]) boundaryStart[i] = m;
  }
  start[n] = m;
}

const pairVector = new Float64Array(3);

/**
 * filterPairs in the kernels, on threadCount() threads, each over rows holding about 1/T of the outer
 * pairs: thread 0 writes its rows in place, the others theirs from their outer offset on, into the
 * workspace's first/shift, and then move them to where the earlier threads' rows end.
 */
function filterWasm(list: NeighborList, outer: NeighborList, box: Box, pos: Float64Array): void {
  const n = list.start.length - 1, w = list.work, T = threadCount();
  const cell = w.cell;
  cell[0] = box.lx; cell[1] = box.ly; cell[2] = box.lz; cell[3] = box.xy; cell[4] = box.xz; cell[5] = box.yz;
  const rows = splitRows(outer.start, n, threadBounds('neighborFilter'));
  if (T > 1 && w.first.length < outer.start[n]) {
    w.first = kernelArray(Int32Array, outer.pairs.length); w.second = kernelArray(Int32Array, outer.pairs.length); w.shift = kernelArray(Uint8Array, outer.pairs.length);
  }
  const written = Int32Array.from(runOnThreads('neighborFilter', (t, a) => {
    a[0] = rows[t]; a[1] = rows[t + 1]; a[2] = outer.start.byteOffset; a[3] = outer.boundaryStart.byteOffset; a[4] = outer.pairs.byteOffset;
    a[5] = outer.pairType.byteOffset; a[6] = pos.byteOffset; a[7] = cell.byteOffset; a[8] = list.listCutoff2.byteOffset;
    a[9] = list.start.byteOffset; a[10] = list.boundaryStart.byteOffset;
    a[11] = (t === 0 ? list.pairs : w.first).byteOffset; a[12] = (t === 0 ? list.pairType : w.shift).byteOffset;
  }));
  let m = written[0];
  if (T > 1) {
    const to = new Int32Array(T);
    for (let t = 1; t < T; t++) { to[t] = m; m += written[t]; }
    runOnThreads('neighborPlace', (t, a) => {
      // thread 0's rows are in place already: it moves nothing
      a[0] = rows[t]; a[1] = t === 0 ? rows[0] : rows[t + 1]; a[2] = outer.start[rows[t]]; a[3] = to[t]; a[4] = t === 0 ? 0 : written[t];
      a[5] = w.first.byteOffset; a[6] = w.shift.byteOffset; a[7] = list.pairs.byteOffset; a[8] = list.pairType.byteOffset;
      a[9] = list.start.byteOffset; a[10] = list.boundaryStart.byteOffset;
    });
  }
  list.start[n] = m;
}

/**
 * The binning (reference of the kernels' binCells, binSort and binGather): image counts and cell of each particle, the
 * counting sort by cell into list.cellOrder, the wrapped coordinates and species in cell order.
 * Returns −1, or the first particle with |x| + |y| + |z| not below `far`.
 */
function binParticles(list: NeighborList, n: number, grid: { cx: number; cy: number; cz: number }, box: Box, pos: Float64Array, far: number): number {
  const { cx, cy, cz } = grid;
  const ncell = cx * cy * cz;
  const { lx, ly, lz, xy, xz, yz } = box;
  const { cellOf, image, wx, wy, wz, spc, cellStart, fill, species } = list.work;
  const cellAtoms = list.cellOrder;
  cellStart.fill(0, 0, ncell + 1);
  for (let i = 0; i < n; i++) {
    const x = pos[3 * i], y = pos[3 * i + 1], z = pos[3 * i + 2];
    if (!(Math.abs(x) + Math.abs(y) + Math.abs(z) < far)) return i;
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
  return -1;
}

/**
 * The binning in the kernels (assembly/neighbors.ts): image counts and cells, and then the wrapped
 * coordinates in cell order, on threadCount() threads in equal ranges of particles; the counting
 * sort between them on one. Returns what binParticles returns.
 */
function binWasm(list: NeighborList, n: number, grid: { cx: number; cy: number; cz: number }, pos: Float64Array, far: number): number {
  const { cx, cy, cz } = grid;
  const w = list.work;
  const T = threadCount();
  const from = (t: number) => Math.floor((n * t) / T);
  const outside = runOnThreads('binCells', (t, a) => {
    a[0] = from(t); a[1] = from(t + 1); a[2] = cx; a[3] = cy; a[4] = cz;
    a[5] = pos.byteOffset; a[6] = w.cell.byteOffset; a[7] = far; a[8] = w.image.byteOffset; a[9] = w.cellOf.byteOffset;
  });
  for (let t = 0; t < T; t++) if (outside[t] >= 0) return outside[t];
  wasmKernels().binSort(n, cx * cy * cz, w.cellOf.byteOffset, w.cellStart.byteOffset, w.fill.byteOffset, list.cellOrder.byteOffset);
  runOnThreads('binGather', (t, a) => {
    a[0] = from(t); a[1] = from(t + 1); a[2] = pos.byteOffset; a[3] = w.species.byteOffset; a[4] = w.cell.byteOffset; a[5] = w.image.byteOffset;
    a[6] = list.cellOrder.byteOffset; a[7] = w.wx.byteOffset; a[8] = w.wy.byteOffset; a[9] = w.wz.byteOffset; a[10] = w.spc.byteOffset;
  });
  return -1;
}

/**
 * The kernels' candidate scratch for T threads (assembly/neighbors.ts neighborPairs), grown when too
 * small: per thread, room for the candidates of any one column (57 bytes each: its own particles
 * and two cells more, the other columns' with four cells more each) and 2·cz + 8 range bounds.
 * Returns the candidates per thread and the bytes per thread.
 */
function candidateScratch(w: BuildWorkspace, ncell: number, cz: number, columnCount: number, T: number): { size: number; bytes: number } {
  let column = 0, cellMost = 0;
  for (let c0 = 0; c0 < ncell; c0 += cz) {
    column = Math.max(column, w.cellStart[c0 + cz] - w.cellStart[c0]);
    for (let c = c0; c < c0 + cz; c++) cellMost = Math.max(cellMost, w.cellStart[c + 1] - w.cellStart[c]);
  }
  const size = (columnCount + 1) * (column + 4 * cellMost);
  const bytes = 8 * Math.ceil((57 * size + 4 * (2 * cz + 8) + 4) / 8);
  if (w.candidates.length < (T * bytes) / 8) {
    releaseArray(w.candidates);
    w.candidates = kernelArray(Float64Array, (T * bytes) / 8);
  }
  return { size, bytes };
}

/**
 * The pair search in the kernels (assembly/neighbors.ts), on threadCount() threads: thread t searches
 * the cells of about 1/T of the particles into its own part of the workspace and counts its pairs
 * per row, where the row sort then reads them; thread order is the cell order of the one-thread
 * search (the same list). Returns more than the capacity (so that the caller grows the workspace)
 * if one part overflowed.
 */
function pairsWasm(list: NeighborList, ncell: number, cy: number, cz: number, stencil: Int32Array): number {
  const w = list.work;
  const T = threadCount(), n = list.cellOrder.length;
  const part = Math.floor(w.first.length / T);
  const cells = splitRows(w.cellStart, ncell, threadBounds('neighbors'));
  const scratch = candidateScratch(w, ncell, cz, stencil.length / 2, T);
  if (w.rowCounts.length < 2 * T * n) {
    releaseArray(w.rowCounts);
    w.rowCounts = kernelArray(Int32Array, 2 * T * n);
  }
  const found = runOnThreads('neighborPairs', (t, a) => {
    a[0] = cells[t]; a[1] = cells[t + 1]; a[2] = ncell; a[3] = cy; a[4] = cz;
    a[5] = w.cellStart.byteOffset; a[6] = list.cellOrder.byteOffset; a[7] = w.wx.byteOffset; a[8] = w.wy.byteOffset; a[9] = w.wz.byteOffset;
    a[10] = w.spc.byteOffset; a[11] = stencil.byteOffset; a[12] = stencil.length / 2;
    a[13] = list.listCutoff2.byteOffset; a[14] = w.cell.byteOffset;
    // each part holds `part` entries, its last the spare slot of the branch-free search
    a[15] = w.first.byteOffset + 4 * t * part; a[16] = w.second.byteOffset + 4 * t * part; a[17] = w.shift.byteOffset + t * part;
    a[18] = part - 1;
    a[19] = w.candidates.byteOffset + t * scratch.bytes; a[20] = scratch.size;
    a[21] = w.image.byteOffset; a[22] = w.rowCounts.byteOffset + 8 * t * n; a[23] = w.rowCounts.byteOffset + 8 * t * n + 4 * n;
  });
  if (w.parts.length !== 2 * T) w.parts = new Int32Array(2 * T);
  let m = 0, largest = 0;
  for (let t = 0; t < T; t++) {
    largest = Math.max(largest, found[t]);
    w.parts[2 * t] = t * part;
    w.parts[2 * t + 1] = t * part + found[t];
    m += found[t];
  }
  return largest > part - 1 ? T * (largest + 1) : m;
}

/**
 * The row sort in the kernels (assembly/neighbors.ts), after pairsWasm has counted the rows: one
 * thread turns each thread's counts into slots, each thread scatters its part of the pairs.
 */
function sortRowsWasm(list: NeighborList, n: number): void {
  const w = list.work;
  const counts = w.rowCounts.byteOffset;
  wasmKernels().neighborRowOffsets(n, threadCount(), counts, list.start.byteOffset, list.boundaryStart.byteOffset);
  runOnThreads('neighborRowScatter', (t, a) => {
    a[0] = w.parts[2 * t]; a[1] = w.parts[2 * t + 1]; a[2] = n;
    a[3] = w.first.byteOffset; a[4] = w.second.byteOffset; a[5] = w.shift.byteOffset; a[6] = w.species.byteOffset;
    a[7] = counts + 8 * t * n; a[8] = counts + 8 * t * n + 4 * n; a[9] = list.pairs.byteOffset; a[10] = list.pairType.byteOffset;
  });
}

/**
 * The pairs within the list radius, in cell order, into the workspace's first/second/shift. Per
 * particle, its candidates in the kernels' order: the rest of its cell and the next two cells of its
 * column, then heights z − 2 .. z + 2, at each height the stencil's columns in order, each neighbor
 * seen shifted by its cell's periodic image; with no columns (one cell), every later particle by
 * minimum image. Returns how many there are; beyond the workspace's capacity they are counted, not
 * stored.
 */
function findPairs(list: NeighborList, ncell: number, cy: number, cz: number, columns: Int32Array): number {
  const { cellStart, wx, wy, wz, spc, cell, first, second, shift } = list.work;
  const cellAtoms = list.cellOrder;
  const lx = cell[0], ly = cell[1], lz = cell[2], xy = cell[3], xz = cell[4], yz = cell[5];
  const cx = ncell / (cy * cz);
  const useCells = columns.length > 0;
  const capacity = first.length - 1;
  const cut2 = list.listCutoff2;
  let m = 0;
  /** Pairs of particle a (cell order) with particles bFrom .. bEnd seen shifted by (px, py, pz) box vectors. */
  const pairsWith = (a: number, bFrom: number, bEnd: number, px: number, py: number, pz: number) => {
    const shiftX = px * lx + py * xy + pz * xz, shiftY = py * ly + pz * yz, shiftZ = pz * lz;
    const cellCode = shiftCode(px, py, pz);
    const xa = wx[a], ya = wy[a], za = wz[a];
    const sa = spc[a];
    const i = cellAtoms[a];
    for (let b = bFrom; b < bEnd; b++) {
      // the neighbor seen shifted, then the pair vector (the kernels' arithmetic, hence their list)
      let dx = wx[b] + shiftX - xa, dy = wy[b] + shiftY - ya, dz = wz[b] + shiftZ - za;
      let code = cellCode;
      if (!useCells) {
        // a single cell: the shift is the minimum image itself
        const rz = Math.round(dz / lz); dz -= rz * lz; dy -= rz * yz; dx -= rz * xz;
        const ry = Math.round(dy / ly); dy -= ry * ly; dx -= ry * xy;
        const rx = Math.round(dx / lx); dx -= rx * lx;
        code = shiftCode(-rx, -ry, -rz);
      }
      if (dx * dx + dy * dy + dz * dz >= cut2[sa + spc[b]]) continue;
      if (m < capacity) {
        first[m] = i; second[m] = cellAtoms[b]; shift[m] = code;
      }
      m++;
    }
  };
  /** Particle a with the cell at height z (wrapped) of the column starting at cell `column`, itself shifted by (px, py). */
  const withCell = (a: number, column: number, z: number, px: number, py: number) => {
    const pz = z < 0 ? -1 : z >= cz ? 1 : 0;
    const c = column + z - pz * cz;
    pairsWith(a, cellStart[c], cellStart[c + 1], px, py, pz);
  };
  if (!useCells) {
    for (let a = 0; a < cellStart[1]; a++) pairsWith(a, a + 1, cellStart[1], 0, 0, 0);
    return m;
  }
  for (let c = 0; c < ncell; c++) {
    const column = c - (c % cz), gx = (column / (cy * cz)) | 0, gy = ((column / cz) | 0) % cy, gz = c % cz;
    for (let a = cellStart[c]; a < cellStart[c + 1]; a++) {
      pairsWith(a, a + 1, cellStart[c + 1], 0, 0, 0);
      withCell(a, column, gz + 1, 0, 0);
      withCell(a, column, gz + 2, 0, 0);
      for (let z = gz - 2; z <= gz + 2; z++) {
        for (let r = 0; r < columns.length; r += 2) {
          // periodic wrap of the neighbor column: its particles are seen shifted by px·a + py·b (+ pz·c per cell)
          const ox = gx + columns[r], oy = gy + columns[r + 1];
          const px = ox < 0 ? -1 : ox >= cx ? 1 : 0;
          const py = oy < 0 ? -1 : oy >= cy ? 1 : 0;
          withCell(a, ((ox - px * cx) * cy + (oy - py * cy)) * cz, z, px, py);
        }
      }
    }
  }
  return m;
}

/** A pair's periodic shift (−2..2 lattice vectors per axis) as one byte. */
function shiftCode(qx: number, qy: number, qz: number): number {
  return ((qx + 2) * 5 + (qy + 2)) * 5 + (qz + 2);
}

/**
 * Rows by lower index: in-image pairs from the row's front, image pairs from its back. A pair is an
 * image pair when the raw r_j − r_i is not its vector: when image_j − image_i differs from its shift.
 */
function sortRows(list: NeighborList, n: number, m: number): void {
  const { first, second, shift, image, species, front } = list.work;
  const { start, pairs, pairType, boundaryStart } = list;
  start.fill(0);
  for (let p = 0; p < m; p++) start[Math.min(first[p], second[p]) + 1]++;
  for (let i = 0; i < n; i++) start[i + 1] += start[i];
  for (let i = 0; i < n; i++) { front[i] = start[i]; boundaryStart[i] = start[i + 1]; }
  for (let p = 0; p < m; p++) {
    const a = first[p], b = second[p], code = shift[p];
    const crosses = image[3 * b] - image[3 * a] !== ((code / 25) | 0) - 2 || image[3 * b + 1] - image[3 * a + 1] !== (((code / 5) | 0) % 5) - 2 ||
      image[3 * b + 2] - image[3 * a + 2] !== (code % 5) - 2;
    const i = Math.min(a, b), j = Math.max(a, b);
    const q = crosses ? --boundaryStart[i] : front[i]++;
    pairs[q] = j;
    pairType[q] = species[i] + species[j];
  }
}

/** Number of listed pairs (within cutoff + skin). */
export function pairCount(list: NeighborList, n: number): number {
  return list.start[n];
}
