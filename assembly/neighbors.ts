/**
 * The two O(pairs) phases of the neighbor-list build of src/space/neighbors.ts (which bins the
 * particles and documents the layout): the pair search over the half stencil, and the sort of the
 * found pairs into rows by lower index. Same operations and order as the TypeScript versions, so
 * the same list.
 *
 * Pointers: cellStart, cellAtoms, image, runs, first, second, start, front, boundaryStart,
 * pairs i32; spc, species, shift, pairType u8; wx, wy, wz, cut2, cell f64.
 */

@inline function i32At(base: usize, k: i32): i32 { return load<i32>(base + (<usize>k << 2)); }
@inline function f64At(base: usize, k: i32): f64 { return load<f64>(base + (<usize>k << 3)); }

/**
 * The binning of a build: each particle's image counts (i32, 3 per particle) and cell, the counting
 * sort by cell (cellStart: first particle of each cell in cell order, ncell + 1 entries; cellAtoms:
 * the particles in cell order), then the wrapped coordinates and species in cell order. Returns −1,
 * or the index of the first particle with |x| + |y| + |z| not below `far` (the caller reports it).
 * cellOf and fill are scratch (n and ncell entries).
 */
export function binParticles(
  n: i32, cx: i32, cy: i32, cz: i32, pos: usize, species: usize, cell: usize, far: f64,
  image: usize, cellOf: usize, cellStart: usize, fill: usize, cellAtoms: usize, wx: usize, wy: usize, wz: usize, spc: usize,
): i32 {
  const lx = load<f64>(cell), ly = load<f64>(cell, 8), lz = load<f64>(cell, 16);
  const xy = load<f64>(cell, 24), xz = load<f64>(cell, 32), yz = load<f64>(cell, 40);
  const ncell = cx * cy * cz;
  memory.fill(cellStart, 0, <usize>(ncell + 1) << 2);
  for (let i = 0; i < n; i++) {
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
    const count = cellStart + (<usize>(c + 1) << 2);
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
  for (let a = 0; a < n; a++) {
    const i = i32At(cellAtoms, a);
    const im = image + <usize>i * 12, p = pos + <usize>i * 24;
    const kx = <f64>load<i32>(im), ky = <f64>load<i32>(im, 4), kz = <f64>load<i32>(im, 8);
    store<f64>(wx + (<usize>a << 3), load<f64>(p) - kx * lx - ky * xy - kz * xz);
    store<f64>(wy + (<usize>a << 3), load<f64>(p, 8) - ky * ly - kz * yz);
    store<f64>(wz + (<usize>a << 3), load<f64>(p, 16) - kz * lz);
    store<u8>(spc + <usize>a, load<u8>(species + <usize>i));
  }
  return -1;
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
 * hold capacity + 1 entries: the one-cell search writes every candidate at the next free slot and
 * advances the slot only for a pair inside the radius, a loop without an unpredictable branch; the
 * cell search tests two candidates at a time, collects the hits of up to 64 as bits of one word and
 * stores only those, which takes a fifth less time than storing every candidate). The stencil is
 * `runCount` runs of cells along z (ax, by, zlo, zhi), as src/space/neighbors.ts lays them out; none
 * for one cell holding everything (pairs by minimum image). Only the cells cellBegin .. cellEnd:
 * worker threads take one range each, into their own part of first/second/shift.
 */
export function neighborPairs(
  cellBegin: i32, cellEnd: i32, ncell: i32, cy: i32, cz: i32, cellStart: usize, cellAtoms: usize, wx: usize, wy: usize, wz: usize,
  spc: usize, runs: usize, runCount: i32, cut2: usize, cell: usize,
  first: usize, second: usize, shift: usize, capacity: i32,
): i32 {
  const cx = ncell / (cy * cz);
  let m = 0;
  for (let c = cellBegin; c < cellEnd; c++) {
    const gx = c / (cy * cz), gy = (c / cz) % cy, gz = c % cz;
    m = pairsWith(m, c, true, 0, i32At(cellStart, c + 1), 0, 0, 0, runCount > 0, cellStart, cellAtoms, wx, wy, wz, spc, cut2, cell, first, second, shift, capacity);
    for (let r = 0; r < runCount; r++) {
      const ox = gx + i32At(runs, 4 * r), oy = gy + i32At(runs, 4 * r + 1);
      const px = ox < 0 ? -1 : ox >= cx ? 1 : 0;
      const py = oy < 0 ? -1 : oy >= cy ? 1 : 0;
      const column = ((ox - px * cx) * cy + (oy - py * cy)) * cz;
      const zEnd = gz + i32At(runs, 4 * r + 3);
      for (let z = gz + i32At(runs, 4 * r + 2); z <= zEnd;) {
        const pz = z < 0 ? -1 : z >= cz ? 1 : 0;
        const last = min(zEnd, pz < 0 ? -1 : pz == 0 ? cz - 1 : zEnd);
        m = pairsWith(
          m, c, false, i32At(cellStart, column + z - pz * cz), i32At(cellStart, column + last - pz * cz + 1), px, py, pz,
          true, cellStart, cellAtoms, wx, wy, wz, spc, cut2, cell, first, second, shift, capacity,
        );
        z = last + 1;
      }
    }
  }
  return m;
}

/**
 * Pairs of cell c's particles with particles bFrom..bEnd (cell order) seen shifted by (px, py, pz)
 * box vectors; returns the new count. Per candidate only its cell-order index is stored (two
 * candidates at a time through f64x2 when the shift is known); the row particle, the particle
 * index and the shift are filled in afterwards for the pairs inside the radius only.
 */
@inline function pairsWith(
  m: i32, c: i32, self: bool, bFrom: i32, bEnd: i32, px: i32, py: i32, pz: i32, useCells: bool,
  cellStart: usize, cellAtoms: usize, wx: usize, wy: usize, wz: usize, spc: usize, cut2: usize, cell: usize,
  first: usize, second: usize, shift: usize, capacity: i32,
): i32 {
  const lx = load<f64>(cell), ly = load<f64>(cell, 8), lz = load<f64>(cell, 16);
  const xy = load<f64>(cell, 24), xz = load<f64>(cell, 32), yz = load<f64>(cell, 40);
  const shiftX = <f64>px * lx + <f64>py * xy + <f64>pz * xz, shiftY = <f64>py * ly + <f64>pz * yz, shiftZ = <f64>pz * lz;
  const runCode = <u8>shiftCode(px, py, pz);
  const aEnd = i32At(cellStart, c + 1);
  for (let a = i32At(cellStart, c); a < aEnd; a++) {
    const xa = f64At(wx, a) - shiftX, ya = f64At(wy, a) - shiftY, za = f64At(wz, a) - shiftZ;
    const cutRow = cut2 + (<usize>load<u8>(spc + <usize>a) << 3);
    const m0 = m;
    let b = self ? a + 1 : bFrom;
    if (useCells) {
      const xa2 = f64x2.splat(xa), ya2 = f64x2.splat(ya), za2 = f64x2.splat(za);
      // candidates in chunks of 64: the hits of a chunk collect as bits, then are stored
      while (b < bEnd) {
        const base = b, chunkEnd = min(bEnd, b + 64);
        let hits: u64 = 0;
        for (; b + 1 < chunkEnd; b += 2) {
          const o = <usize>b << 3;
          const dx = f64x2.sub(v128.load(wx + o), xa2), dy = f64x2.sub(v128.load(wy + o), ya2), dz = f64x2.sub(v128.load(wz + o), za2);
          const r2 = f64x2.add(f64x2.add(f64x2.mul(dx, dx), f64x2.mul(dy, dy)), f64x2.mul(dz, dz));
          const cut = f64x2(
            load<f64>(cutRow + (<usize>load<u8>(spc + <usize>b) << 3)),
            load<f64>(cutRow + (<usize>load<u8>(spc + <usize>b + 1) << 3)),
          );
          hits |= <u64>i64x2.bitmask(f64x2.lt(r2, cut)) << <u64>(b - base);
        }
        if (b < chunkEnd) {
          const dx = f64At(wx, b) - xa, dy = f64At(wy, b) - ya, dz = f64At(wz, b) - za;
          hits |= <u64>(dx * dx + dy * dy + dz * dz < load<f64>(cutRow + (<usize>load<u8>(spc + <usize>b) << 3))) << <u64>(b - base);
          b++;
        }
        for (; hits != 0; hits &= hits - 1) {
          store<i32>(second + (<usize>min(m, capacity) << 2), base + <i32>ctz(hits));
          m++;
        }
      }
    } else {
      for (; b < bEnd; b++) {
        let dx = f64At(wx, b) - xa, dy = f64At(wy, b) - ya, dz = f64At(wz, b) - za;
        const rz = Math.round(dz / lz); dz -= rz * lz; dy -= rz * yz; dx -= rz * xz;
        const ry = Math.round(dy / ly); dy -= ry * ly; dx -= ry * xy;
        const rx = Math.round(dx / lx); dx -= rx * lx;
        const slot = <usize>min(m, capacity);
        store<i32>(second + (slot << 2), b);
        store<u8>(shift + slot, <u8>shiftCode(-<i32>rx, -<i32>ry, -<i32>rz));
        m += <i32>(dx * dx + dy * dy + dz * dz < load<f64>(cutRow + (<usize>load<u8>(spc + <usize>b) << 3)));
      }
    }
    const i = i32At(cellAtoms, a);
    const stored = min(m, capacity);
    for (let q = m0; q < stored; q++) {
      store<i32>(first + (<usize>q << 2), i);
      store<i32>(second + (<usize>q << 2), i32At(cellAtoms, i32At(second, q)));
      if (useCells) store<u8>(shift + <usize>q, runCode);
    }
  }
  return m;
}

/** The periodic shift (−2..2 lattice vectors per axis) of a pair as one byte. */
@inline function shiftCode(qx: i32, qy: i32, qz: i32): i32 { return ((qx + 2) * 5 + (qy + 2)) * 5 + (qz + 2); }

/**
 * Rows by lower index, in three phases so that T threads can share the work while the list stays
 * the one-thread list: in-image pairs fill a row from its front, image pairs (the raw r_j − r_i is
 * not the pair's vector: image counts differ from the shift) from its back, each in pair order.
 * Thread t takes the pairs from .. to of its own search and its own counts (front, back: n each).
 *
 * Phase 1: count the pairs of each row, front and back apart, and mark image pairs in the shift
 * byte's high bit (codes are below 125).
 */
export function neighborRowCounts(from: i32, to: i32, n: i32, first: usize, second: usize, shift: usize, image: usize, front: usize, back: usize): void {
  memory.fill(front, 0, <usize>n << 2);
  memory.fill(back, 0, <usize>n << 2);
  for (let p = from; p < to; p++) {
    const a = i32At(first, p), b = i32At(second, p);
    const code = <i32>load<u8>(shift + <usize>p);
    const crosses = i32At(image, 3 * b) - i32At(image, 3 * a) != code / 25 - 2 ||
      i32At(image, 3 * b + 1) - i32At(image, 3 * a + 1) != (code / 5) % 5 - 2 ||
      i32At(image, 3 * b + 2) - i32At(image, 3 * a + 2) != code % 5 - 2;
    const counter = (crosses ? back : front) + (<usize>min(a, b) << 2);
    store<i32>(counter, load<i32>(counter) + 1);
    if (crosses) store<u8>(shift + <usize>p, <u8>(code | 128));
  }
}

/**
 * Phase 2 (one thread): row starts, the rows' boundaries between in-image and image pairs, and the
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

/** Phase 3: each pair into its slot, the shift byte's mark cleared. */
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
