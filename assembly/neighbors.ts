/**
 * The neighbor-list build of src/space/neighbors.ts (which documents the layout): the binning, the
 * pair search over the half stencil (which also counts the rows), and the sort of the found pairs
 * into rows by lower index. The pairs and their arithmetic are the TypeScript reference's, so the
 * list is its list, pair for pair.
 *
 * Pointers: cellStart, cellAtoms, image, columns, first, second, start, front, back, boundaryStart,
 * pairs i32; spc, species, shift, pairType u8; wx, wy, wz, cut2, cell f64.
 */

@inline function i32At(base: usize, k: i32): i32 { return load<i32>(base + (<usize>k << 2)); }
@inline function f64At(base: usize, k: i32): f64 { return load<f64>(base + (<usize>k << 3)); }

/**
 * The binning of a build, in three phases (worker threads take one range each in the first and the
 * last): each particle's image counts (i32, 3 per particle) and cell; the counting sort by cell
 * (cellStart: first particle of each cell in cell order, ncell + 1 entries; cellAtoms: the particles
 * in cell order); the wrapped coordinates and species in cell order.
 */

/**
 * Phase 1, particles from .. to: image counts and cell (into cellOf). Returns −1, or the first
 * particle of the range with |x| + |y| + |z| not below `far` (the caller reports it).
 */
export function binCells(from: i32, to: i32, cx: i32, cy: i32, cz: i32, pos: usize, cell: usize, far: f64, image: usize, cellOf: usize): i32 {
  const lx = load<f64>(cell), ly = load<f64>(cell, 8), lz = load<f64>(cell, 16);
  const xy = load<f64>(cell, 24), xz = load<f64>(cell, 32), yz = load<f64>(cell, 40);
  for (let i = from; i < to; i++) {
    const p = pos + <usize>i * 24;
    const x = load<f64>(p), y = load<f64>(p, 8), z = load<f64>(p, 16);
    if (!(abs(x) + abs(y) + abs(z) < far)) return i;
    let sz = z / lz;
    let sy = (y - yz * sz) / ly;
    let sx = (x - xy * sy - xz * sz) / lx;
    const kx = Math.floor(sx), ky = Math.floor(sy), kz = Math.floor(sz);
    sx -= kx; sy -= ky; sz -= kz;
    const im = image + <usize>i * 12;
    store<i32>(im, <i32>kx); store<i32>(im, <i32>ky, 4); store<i32>(im, <i32>kz, 8);
    const c = (min(cx - 1, <i32>(sx * <f64>cx)) * cy + min(cy - 1, <i32>(sy * <f64>cy))) * cz + min(cz - 1, <i32>(sz * <f64>cz));
    store<i32>(cellOf + (<usize>i << 2), c);
  }
  return -1;
}

/** Phase 2, one thread: the counting sort of the n particles by cell (index order within a cell); fill is scratch (ncell entries). */
export function binSort(n: i32, ncell: i32, cellOf: usize, cellStart: usize, fill: usize, cellAtoms: usize): void {
  memory.fill(cellStart, 0, <usize>(ncell + 1) << 2);
  for (let i = 0; i < n; i++) {
    const count = cellStart + (<usize>(i32At(cellOf, i) + 1) << 2);
    store<i32>(count, load<i32>(count) + 1);
  }
  for (let c = 0; c < ncell; c++) {
    const at = cellStart + (<usize>(c + 1) << 2);
    store<i32>(at, load<i32>(at) + load<i32>(at - 4));
  }
  memory.copy(fill, cellStart, <usize>ncell << 2);
  for (let i = 0; i < n; i++) {
    const slot = fill + (<usize>i32At(cellOf, i) << 2);
    const a = load<i32>(slot);
    store<i32>(slot, a + 1);
    store<i32>(cellAtoms + (<usize>a << 2), i);
  }
}

/** Phase 3, places from .. to in cell order: wrapped coordinates and species. */
export function binGather(from: i32, to: i32, pos: usize, species: usize, cell: usize, image: usize, cellAtoms: usize, wx: usize, wy: usize, wz: usize, spc: usize): void {
  const lx = load<f64>(cell), ly = load<f64>(cell, 8), lz = load<f64>(cell, 16);
  const xy = load<f64>(cell, 24), xz = load<f64>(cell, 32), yz = load<f64>(cell, 40);
  for (let a = from; a < to; a++) {
    const i = i32At(cellAtoms, a);
    const im = image + <usize>i * 12, p = pos + <usize>i * 24;
    const kx = <f64>load<i32>(im), ky = <f64>load<i32>(im, 4), kz = <f64>load<i32>(im, 8);
    store<f64>(wx + (<usize>a << 3), load<f64>(p) - kx * lx - ky * xy - kz * xz);
    store<f64>(wy + (<usize>a << 3), load<f64>(p, 8) - ky * ly - kz * yz);
    store<f64>(wz + (<usize>a << 3), load<f64>(p, 16) - kz * lz);
    store<u8>(spc + <usize>a, load<u8>(species + <usize>i));
  }
}

/** Whether any of the n particles lies farther than √limit2 from its reference position (3 numbers each). */
export function movedBeyond(n: i32, pos: usize, reference: usize, limit2: f64): bool {
  for (let i = 0; i < n; i++) {
    const p = pos + <usize>i * 24, r = reference + <usize>i * 24;
    const dx = load<f64>(p) - load<f64>(r), dy = load<f64>(p, 8) - load<f64>(r, 8), dz = load<f64>(p, 16) - load<f64>(r, 16);
    if (dx * dx + dy * dy + dz * dz > limit2) return true;
  }
  return false;
}

/**
 * Returns the number of pairs within the list radius; the first `capacity` are stored (the arrays
 * hold capacity + 1 entries: searches write at the next free slot and advance it only for a pair
 * inside the radius, or past the capacity into the spare slot). The stencil, as src/space/neighbors.ts
 * lays it out: the cell's own column at heights z + 1, z + 2, and the `columnCount` columns at
 * offsets (ax, by) from heights z − 2 to z + 2; no columns for one cell holding everything (pairs
 * by minimum image). Only the cells cellBegin .. cellEnd: worker threads take one range each, into
 * their own part of first/second/shift and their own scratch.
 *
 * Column by column, the candidates are first copied into `scratch`, each seen shifted by its
 * periodic image: the own column's cells from 0 to cz + 1 in z order, and the other columns'
 * cells from z = −2 to cz + 1, z-major (for each z, the columns in stencil order). The candidates
 * of the cell at height z are then two contiguous ranges: in the own column its particles after
 * the one searched and the next two cells, in the others the heights z − 2 .. z + 2. Each particle
 * tests them in two long loops, two candidates at a time through f64x2; the hits of up to 64
 * collect as bits of one word, then are stored. Per particle the pairs come out in that order (own
 * column, then by height, then by column), the order of the reference's search.
 * Each pair found is counted in its row and marked if it is an image pair (countPair); the counts
 * go to `front` and `back` (n each, zeroed here), which the row sort's phases then read.
 * `scratch` holds `scratchSize` candidates (57 bytes each: x, y, z f64, list cut² with a small and
 * with a large particle f64, image counts less the shift 3 i32, particle i32, shift u8), then
 * 2·cz + 8 range bounds (i32).
 */
export function neighborPairs(
  cellBegin: i32, cellEnd: i32, ncell: i32, cy: i32, cz: i32, cellStart: usize, cellAtoms: usize, wx: usize, wy: usize, wz: usize,
  spc: usize, columns: usize, columnCount: i32, cut2: usize, cell: usize,
  first: usize, second: usize, shift: usize, capacity: i32, scratch: usize, scratchSize: i32, image: usize, front: usize, back: usize,
): i32 {
  const n = i32At(cellStart, ncell);
  memory.fill(front, 0, <usize>n << 2);
  memory.fill(back, 0, <usize>n << 2);
  if (columnCount == 0) return pairsByMinimumImage(cellStart, cellAtoms, wx, wy, wz, spc, cut2, cell, first, second, shift, capacity, image, front, back);
  const size = <usize>scratchSize;
  candX = scratch; candY = scratch + (size << 3); candZ = scratch + (size << 4);
  candCutS = scratch + size * 24; candCutL = scratch + size * 32;
  candImage = scratch + size * 40; candAtom = scratch + size * 52; candCode = scratch + size * 56;
  const ownStart = (scratch + size * 57 + 3) & ~(<usize>3), slabStart = ownStart + (<usize>(cz + 3) << 2);
  const cx = ncell / (cy * cz);
  let m = 0;
  for (let col = cellBegin / cz; col * cz < cellEnd; col++) {
    const gx = col / cy, gy = col % cy;
    // the own column, heights 0 .. cz + 1
    let nc = 0;
    for (let z = 0; z < cz + 2; z++) {
      store<i32>(ownStart + (<usize>z << 2), nc);
      nc = appendCell(nc, col * cz, z, cz, 0, 0, cellStart, cellAtoms, wx, wy, wz, spc, cut2, cell, image);
    }
    store<i32>(ownStart + (<usize>(cz + 2) << 2), nc);
    // the other columns, z-major, heights −2 .. cz + 1
    for (let z = -2; z < cz + 2; z++) {
      store<i32>(slabStart + (<usize>(z + 2) << 2), nc);
      for (let r = 0; r < columnCount; r++) {
        const ox = gx + i32At(columns, 2 * r), oy = gy + i32At(columns, 2 * r + 1);
        const px = ox < 0 ? -1 : ox >= cx ? 1 : 0;
        const py = oy < 0 ? -1 : oy >= cy ? 1 : 0;
        nc = appendCell(nc, ((ox - px * cx) * cy + (oy - py * cy)) * cz, z, cz, px, py, cellStart, cellAtoms, wx, wy, wz, spc, cut2, cell, image);
      }
    }
    store<i32>(slabStart + (<usize>(cz + 4) << 2), nc);
    const zFrom = max(0, cellBegin - col * cz), zTo = min(cz, cellEnd - col * cz);
    for (let z = zFrom; z < zTo; z++) {
      const aBegin = i32At(cellStart, col * cz + z), aEnd = i32At(cellStart, col * cz + z + 1);
      const ownFirst = i32At(ownStart, z) - aBegin + 1, ownEnd = i32At(ownStart, z + 3);
      const slabFrom = i32At(slabStart, z), slabEnd = i32At(slabStart, z + 5);
      for (let a = aBegin; a < aEnd; a++) {
        const cuts = load<u8>(spc + <usize>a) ? candCutL : candCutS;
        const i = i32At(cellAtoms, a);
        rowImage = image + <usize>i * 12;
        m = testCandidates(m, i, f64At(wx, a), f64At(wy, a), f64At(wz, a), cuts, ownFirst + a, ownEnd, first, second, shift, capacity, front, back);
        m = testCandidates(m, i, f64At(wx, a), f64At(wy, a), f64At(wz, a), cuts, slabFrom, slabEnd, first, second, shift, capacity, front, back);
      }
    }
  }
  return m;
}

// The candidate arrays of the current search (set by neighborPairs), and the searched particle's image
// counts. candCutS and candCutL hold each candidate's list cut² with a small and with a large particle.
let candX: usize = 0, candY: usize = 0, candZ: usize = 0, candCutS: usize = 0, candCutL: usize = 0;
let candImage: usize = 0, candAtom: usize = 0, candCode: usize = 0;
let rowImage: usize = 0;

/**
 * Appends the particles of the cell at height z (wrapped, with its periodic shift) of the column
 * starting at cell `column`, itself shifted by (px, py) box vectors; returns the new count.
 */
@inline function appendCell(
  nc: i32, column: i32, z: i32, cz: i32, px: i32, py: i32, cellStart: usize, cellAtoms: usize, wx: usize, wy: usize, wz: usize, spc: usize, cut2: usize,
  cell: usize, image: usize,
): i32 {
  const pz = z < 0 ? -1 : z >= cz ? 1 : 0;
  const shiftX = <f64>px * load<f64>(cell) + <f64>py * load<f64>(cell, 24) + <f64>pz * load<f64>(cell, 32);
  const shiftY = <f64>py * load<f64>(cell, 8) + <f64>pz * load<f64>(cell, 40), shiftZ = <f64>pz * load<f64>(cell, 16);
  const code = <u8>shiftCode(px, py, pz);
  const c = column + z - pz * cz;
  const bEnd = i32At(cellStart, c + 1);
  for (let b = i32At(cellStart, c); b < bEnd; b++) {
    store<f64>(candX + (<usize>nc << 3), f64At(wx, b) + shiftX);
    store<f64>(candY + (<usize>nc << 3), f64At(wy, b) + shiftY);
    store<f64>(candZ + (<usize>nc << 3), f64At(wz, b) + shiftZ);
    const j = i32At(cellAtoms, b);
    store<i32>(candAtom + (<usize>nc << 2), j);
    // image counts less the shift: equal to the searched particle's exactly when the pair is in-image
    const im = image + <usize>j * 12, at = candImage + <usize>nc * 12;
    store<i32>(at, load<i32>(im) - px);
    store<i32>(at, load<i32>(im, 4) - py, 4);
    store<i32>(at, load<i32>(im, 8) - pz, 8);
    store<u8>(candCode + <usize>nc, code);
    const cut = cut2 + (<usize>load<u8>(spc + <usize>b) << 3); // pair type = the sum of the species
    store<f64>(candCutS + (<usize>nc << 3), load<f64>(cut));
    store<f64>(candCutL + (<usize>nc << 3), load<f64>(cut, 8));
    nc++;
  }
  return nc;
}

/**
 * The pairs of particle i at (xa, ya, za) with candidates from .. to within the list radius (cuts: the
 * candidates' cut² with i's species), stored from slot m and counted (countPair); returns the new count.
 */
@inline function testCandidates(
  m: i32, i: i32, xa: f64, ya: f64, za: f64, cuts: usize, from: i32, to: i32, first: usize, second: usize, shift: usize, capacity: i32,
  front: usize, back: usize,
): i32 {
  const xa2 = f64x2.splat(xa), ya2 = f64x2.splat(ya), za2 = f64x2.splat(za);
  let q = from;
  while (q < to) {
    const base = q, chunkEnd = min(to, q + 64);
    let hits: u64 = 0;
    for (; q + 1 < chunkEnd; q += 2) {
      const o = <usize>q << 3;
      const dx = f64x2.sub(v128.load(candX + o), xa2), dy = f64x2.sub(v128.load(candY + o), ya2), dz = f64x2.sub(v128.load(candZ + o), za2);
      const r2 = f64x2.add(f64x2.add(f64x2.mul(dx, dx), f64x2.mul(dy, dy)), f64x2.mul(dz, dz));
      hits |= <u64>i64x2.bitmask(f64x2.lt(r2, v128.load(cuts + o))) << <u64>(q - base);
    }
    if (q < chunkEnd) {
      const dx = f64At(candX, q) - xa, dy = f64At(candY, q) - ya, dz = f64At(candZ, q) - za;
      hits |= <u64>(dx * dx + dy * dy + dz * dz < f64At(cuts, q)) << <u64>(q - base);
      q++;
    }
    for (; hits != 0; hits &= hits - 1) {
      const hit = base + <i32>ctz(hits);
      const slot = <usize>min(m, capacity);
      const j = i32At(candAtom, hit), at = candImage + <usize>hit * 12;
      const crosses = load<i32>(at) != load<i32>(rowImage) || load<i32>(at, 4) != load<i32>(rowImage, 4) || load<i32>(at, 8) != load<i32>(rowImage, 8);
      store<i32>(first + (slot << 2), i);
      store<i32>(second + (slot << 2), j);
      store<u8>(shift + slot, load<u8>(candCode + <usize>hit) | (crosses ? 128 : 0));
      countPair(i, j, crosses, front, back);
      m++;
    }
  }
  return m;
}

/**
 * One cell holding everything (boxes under 5 half-radius cells wide): every pair a < b in cell
 * order, its shift the minimum image, written at the next free slot for every candidate (the slot
 * advances only for a pair inside the radius); pairs inside are counted (countPair).
 */
function pairsByMinimumImage(
  cellStart: usize, cellAtoms: usize, wx: usize, wy: usize, wz: usize, spc: usize, cut2: usize, cell: usize,
  first: usize, second: usize, shift: usize, capacity: i32, image: usize, front: usize, back: usize,
): i32 {
  const lx = load<f64>(cell), ly = load<f64>(cell, 8), lz = load<f64>(cell, 16);
  const xy = load<f64>(cell, 24), xz = load<f64>(cell, 32), yz = load<f64>(cell, 40);
  const n = i32At(cellStart, 1);
  let m = 0;
  for (let a = 0; a < n; a++) {
    const xa = f64At(wx, a), ya = f64At(wy, a), za = f64At(wz, a);
    const cutRow = cut2 + (<usize>load<u8>(spc + <usize>a) << 3);
    const i = i32At(cellAtoms, a), ia = image + <usize>i * 12;
    for (let b = a + 1; b < n; b++) {
      nearestImage(f64At(wx, b) - xa, f64At(wy, b) - ya, f64At(wz, b) - za, lx, ly, lz, xy, xz, yz);
      const dx = nx, dy = ny, dz = nz;
      const j = i32At(cellAtoms, b), ib = image + <usize>j * 12;
      const slot = <usize>min(m, capacity);
      const crosses = load<i32>(ib) - load<i32>(ia) != -<i32>rx || load<i32>(ib, 4) - load<i32>(ia, 4) != -<i32>ry ||
        load<i32>(ib, 8) - load<i32>(ia, 8) != -<i32>rz;
      store<i32>(first + (slot << 2), i);
      store<i32>(second + (slot << 2), j);
      store<u8>(shift + slot, <u8>shiftCode(-<i32>rx, -<i32>ry, -<i32>rz) | (crosses ? 128 : 0));
      if (dx * dx + dy * dy + dz * dz < load<f64>(cutRow + (<usize>load<u8>(spc + <usize>b) << 3))) {
        countPair(i, j, crosses, front, back);
        m++;
      }
    }
  }
  return m;
}

// The last nearestImage: the pair vector, and the box vectors subtracted from it along z, y, x.
let nx: f64 = 0, ny: f64 = 0, nz: f64 = 0, rx: f64 = 0, ry: f64 = 0, rz: f64 = 0;

/** The minimum image of a pair vector by rounding, as src/space/box.ts minimumImage computes it: z, then y, then x. */
@inline function nearestImage(dx: f64, dy: f64, dz: f64, lx: f64, ly: f64, lz: f64, xy: f64, xz: f64, yz: f64): void {
  rz = Math.round(dz / lz); dz -= rz * lz; dy -= rz * yz; dx -= rz * xz;
  ry = Math.round(dy / ly); dy -= ry * ly; dx -= ry * xy;
  rx = Math.round(dx / lx); dx -= rx * lx;
  nx = dx; ny = dy; nz = dz;
}

/**
 * Counts a found pair in the row of its lower index, in `back` if it is an image pair (the raw
 * r_j − r_i is not its vector: the image counts differ by other than its shift), else in `front`.
 */
@inline function countPair(i: i32, j: i32, crosses: bool, front: usize, back: usize): void {
  const counter = (crosses ? back : front) + (<usize>min(i, j) << 2);
  store<i32>(counter, load<i32>(counter) + 1);
}

/** The periodic shift (−2..2 lattice vectors per axis) of a pair as one byte. */
@inline function shiftCode(qx: i32, qy: i32, qz: i32): i32 { return ((qx + 2) * 5 + (qy + 2)) * 5 + (qz + 2); }

/**
 * Rows by lower index, in two phases after the search, so that T threads can share the work while
 * the list stays the one-thread list: in-image pairs fill a row from its front, image pairs from its
 * back, each in pair order. The search has counted each thread's pairs per row, front and back apart
 * (countPair), and marked image pairs in the shift byte's high bit (codes are below 125).
 */

/**
 * Phase 1 (one thread): row starts, the rows' boundaries between in-image and image pairs, and the
 * counts of the T threads (front and back arrays of thread t at counts + 8·t·n and + 8·t·n + 4·n)
 * turned into each thread's first front slot and one past its last back slot.
 */
export function neighborRowOffsets(n: i32, threads: i32, counts: usize, start: usize, boundaryStart: usize): void {
  const stride = <usize>n << 3;
  store<i32>(start, 0);
  for (let i = 0; i < n; i++) {
    const row = <usize>i << 2;
    const begin = i32At(start, i);
    let total = 0;
    for (let t = 0; t < threads; t++) {
      const at = counts + <usize>t * stride + row;
      total += load<i32>(at) + load<i32>(at + (<usize>n << 2));
    }
    const end = begin + total;
    store<i32>(start + row + 4, end);
    let f = begin, b = end;
    for (let t = 0; t < threads; t++) {
      const at = counts + <usize>t * stride + row;
      const cf = load<i32>(at), cb = load<i32>(at + (<usize>n << 2));
      store<i32>(at, f);
      store<i32>(at + (<usize>n << 2), b);
      f += cf;
      b -= cb;
    }
    store<i32>(boundaryStart + row, b);
  }
}

/** Phase 2: each pair (thread t: those of its search, from .. to) into its slot, the shift byte's mark cleared. */
export function neighborRowScatter(from: i32, to: i32, n: i32, first: usize, second: usize, shift: usize, species: usize, front: usize, back: usize, pairs: usize, pairType: usize): void {
  for (let p = from; p < to; p++) {
    const a = i32At(first, p), b = i32At(second, p);
    const code = <i32>load<u8>(shift + <usize>p);
    const i = min(a, b), j = max(a, b);
    let q: i32;
    if (code & 128) {
      const at = back + (<usize>i << 2);
      q = load<i32>(at) - 1;
      store<i32>(at, q);
      store<u8>(shift + <usize>p, <u8>(code & 127));
    } else {
      const at = front + (<usize>i << 2);
      q = load<i32>(at);
      store<i32>(at, q + 1);
    }
    store<i32>(pairs + (<usize>q << 2), j);
    store<u8>(pairType + <usize>q, load<u8>(species + <usize>i) + load<u8>(species + <usize>j));
  }
}

/**
 * Rows rowBegin .. rowEnd of a list from its outer list's (src/space/neighbors.ts filterPairs, the
 * reference, in the same arithmetic and order): of each outer row, the in-image pairs
 * (outerStart[i] .. outerBoundary[i]) and then the image pairs (nearestImage), those with r² below
 * the list's cut² of their pair type, in the outer order. They are written from the rows' offset in
 * the outer list on (so that worker threads, each with a range of rows, write to disjoint places;
 * neighborPlace then closes the gaps), with start and boundary (rows rowBegin .. rowEnd − 1);
 * returns the number written. Every candidate is written at the next free slot, which advances only
 * for a pair kept (no branch).
 */
export function neighborFilter(
  rowBegin: i32, rowEnd: i32, outerStart: usize, outerBoundary: usize, outerPairs: usize, outerType: usize, pos: usize, cell: usize,
  cut2: usize, start: usize, boundary: usize, pairs: usize, pairType: usize,
): i32 {
  const lx = load<f64>(cell), ly = load<f64>(cell, 8), lz = load<f64>(cell, 16);
  const xy = load<f64>(cell, 24), xz = load<f64>(cell, 32), yz = load<f64>(cell, 40);
  const base = i32At(outerStart, rowBegin);
  let m = base;
  for (let i = rowBegin; i < rowEnd; i++) {
    store<i32>(start + (<usize>i << 2), m);
    const pi = pos + <usize>i * 24;
    const xi = load<f64>(pi), yi = load<f64>(pi, 8), zi = load<f64>(pi, 16);
    // in-image pairs by their raw difference, then image pairs by nearestImage (split: a test per pair costs 8 %)
    const crossing = i32At(outerBoundary, i), end = i32At(outerStart, i + 1);
    let k = i32At(outerStart, i);
    for (; k < crossing; k++) {
      const pj = pos + <usize>i32At(outerPairs, k) * 24;
      const dx = load<f64>(pj) - xi, dy = load<f64>(pj, 8) - yi, dz = load<f64>(pj, 16) - zi;
      m = keepIfWithin(dx * dx + dy * dy + dz * dz, k, m, outerPairs, outerType, cut2, pairs, pairType);
    }
    store<i32>(boundary + (<usize>i << 2), m);
    for (; k < end; k++) {
      const pj = pos + <usize>i32At(outerPairs, k) * 24;
      nearestImage(load<f64>(pj) - xi, load<f64>(pj, 8) - yi, load<f64>(pj, 16) - zi, lx, ly, lz, xy, xz, yz);
      m = keepIfWithin(nx * nx + ny * ny + nz * nz, k, m, outerPairs, outerType, cut2, pairs, pairType);
    }
  }
  return m - base;
}

/** Outer pair k written at slot m of the list; the next free slot: m + 1 if r2 is below its type's cut², else m (no branch). */
@inline function keepIfWithin(r2: f64, k: i32, m: i32, outerPairs: usize, outerType: usize, cut2: usize, pairs: usize, pairType: usize): i32 {
  const t = load<u8>(outerType + <usize>k);
  store<i32>(pairs + (<usize>m << 2), i32At(outerPairs, k));
  store<u8>(pairType + <usize>m, t);
  return m + i32(r2 < f64At(cut2, t));
}

/**
 * Moves the `count` pairs neighborFilter wrote for rows rowBegin .. rowEnd (from their outer offset
 * `from`, in fromPairs/fromType) to offset `to` of pairs/pairType, and their rows' start and
 * boundary with them.
 */
export function neighborPlace(
  rowBegin: i32, rowEnd: i32, from: i32, to: i32, count: i32, fromPairs: usize, fromType: usize, pairs: usize, pairType: usize,
  start: usize, boundary: usize,
): void {
  memory.copy(pairs + (<usize>to << 2), fromPairs + (<usize>from << 2), <usize>count << 2);
  memory.copy(pairType + <usize>to, fromType + <usize>from, <usize>count);
  const shift = from - to;
  for (let i = rowBegin; i < rowEnd; i++) {
    const s = start + (<usize>i << 2), b = boundary + (<usize>i << 2);
    store<i32>(s, load<i32>(s) - shift);
    store<i32>(b, load<i32>(b) - shift);
  }
}
