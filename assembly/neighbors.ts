/**
 * The two O(pairs) phases of the neighbor-list build of src/space/neighbors.ts (which bins the
 * particles and documents the layout): the pair search over the half stencil, and the sort of the
 * found pairs into rows by lower index. Same operations and order as the TypeScript versions, so
 * the same list.
 *
 * Pointers: cellStart, cellAtoms, image, stencil, first, second, start, front, boundaryStart,
 * pairs i32; spc, species, crossing, pairType u8; wx, wy, wz, cut2, cell f64.
 */

@inline function i32At(base: usize, k: i32): i32 { return load<i32>(base + (<usize>k << 2)); }
@inline function f64At(base: usize, k: i32): f64 { return load<f64>(base + (<usize>k << 3)); }

/**
 * The pairs found from the cells cellBegin .. cellEnd (worker threads take one range each, into
 * their own part of first/second/crossing). Returns the number of pairs within the list radius;
 * only the first `capacity` are stored.
 */
export function neighborPairs(
  cellBegin: i32, cellEnd: i32, ncell: i32, cy: i32, cz: i32, cellStart: usize, cellAtoms: usize, wx: usize, wy: usize, wz: usize,
  spc: usize, image: usize, stencil: usize, stencilSize: i32, cut2: usize, cell: usize,
  first: usize, second: usize, crossing: usize, capacity: i32,
): i32 {
  const lx = load<f64>(cell), ly = load<f64>(cell, 8), lz = load<f64>(cell, 16);
  const xy = load<f64>(cell, 24), xz = load<f64>(cell, 32), yz = load<f64>(cell, 40);
  const cx = ncell / (cy * cz);
  const useCells = stencilSize > 1;
  let m = 0;
  for (let c = cellBegin; c < cellEnd; c++) {
    const gx = c / (cy * cz), gy = (c / cz) % cy, gz = c % cz;
    for (let s = 0; s < stencilSize; s++) {
      const ox = gx + i32At(stencil, 3 * s), oy = gy + i32At(stencil, 3 * s + 1), oz = gz + i32At(stencil, 3 * s + 2);
      const px = ox < 0 ? -1 : ox >= cx ? 1 : 0;
      const py = oy < 0 ? -1 : oy >= cy ? 1 : 0;
      const pz = oz < 0 ? -1 : oz >= cz ? 1 : 0;
      const d = ((ox - px * cx) * cy + (oy - py * cy)) * cz + (oz - pz * cz);
      const shiftX = <f64>px * lx + <f64>py * xy + <f64>pz * xz, shiftY = <f64>py * ly + <f64>pz * yz, shiftZ = <f64>pz * lz;
      const self = s == 0;
      const aEnd = i32At(cellStart, c + 1), bEnd = i32At(cellStart, d + 1);
      for (let a = i32At(cellStart, c); a < aEnd; a++) {
        const xa = f64At(wx, a) - shiftX, ya = f64At(wy, a) - shiftY, za = f64At(wz, a) - shiftZ;
        const sa = <i32>load<u8>(spc + <usize>a);
        const i = i32At(cellAtoms, a);
        for (let b = self ? a + 1 : i32At(cellStart, d); b < bEnd; b++) {
          let dx = f64At(wx, b) - xa, dy = f64At(wy, b) - ya, dz = f64At(wz, b) - za;
          let qx = px, qy = py, qz = pz;
          if (!useCells) {
            const rz = Math.round(dz / lz); dz -= rz * lz; dy -= rz * yz; dx -= rz * xz;
            const ry = Math.round(dy / ly); dy -= ry * ly; dx -= ry * xy;
            const rx = Math.round(dx / lx); dx -= rx * lx;
            qx = -<i32>rx; qy = -<i32>ry; qz = -<i32>rz;
          }
          if (dx * dx + dy * dy + dz * dz >= f64At(cut2, sa + <i32>load<u8>(spc + <usize>b))) continue;
          if (m < capacity) {
            const j = i32At(cellAtoms, b);
            store<i32>(first + (<usize>m << 2), i);
            store<i32>(second + (<usize>m << 2), j);
            const crosses = i32At(image, 3 * j) - i32At(image, 3 * i) != qx ||
              i32At(image, 3 * j + 1) - i32At(image, 3 * i + 1) != qy ||
              i32At(image, 3 * j + 2) - i32At(image, 3 * i + 2) != qz;
            store<u8>(crossing + <usize>m, crosses ? 1 : 0);
          }
          m++;
        }
      }
    }
  }
  return m;
}

/** Rows by lower index: in-image pairs from the row's front, image pairs from its back. */
export function neighborRows(
  n: i32, m: i32, first: usize, second: usize, crossing: usize, species: usize,
  start: usize, front: usize, boundaryStart: usize, pairs: usize, pairType: usize,
): void {
  memory.fill(start, 0, <usize>(n + 1) << 2);
  for (let p = 0; p < m; p++) {
    const a = start + (<usize>(min(i32At(first, p), i32At(second, p)) + 1) << 2);
    store<i32>(a, load<i32>(a) + 1);
  }
  for (let i = 0; i < n; i++) store<i32>(start + (<usize>(i + 1) << 2), i32At(start, i + 1) + i32At(start, i));
  for (let i = 0; i < n; i++) {
    store<i32>(front + (<usize>i << 2), i32At(start, i));
    store<i32>(boundaryStart + (<usize>i << 2), i32At(start, i + 1));
  }
  for (let p = 0; p < m; p++) {
    const a = i32At(first, p), b = i32At(second, p);
    const i = min(a, b), j = max(a, b);
    let q: i32;
    if (load<u8>(crossing + <usize>p)) {
      const at = boundaryStart + (<usize>i << 2);
      q = load<i32>(at) - 1;
      store<i32>(at, q);
    } else {
      const at = front + (<usize>i << 2);
      q = load<i32>(at);
      store<i32>(at, q + 1);
    }
    store<i32>(pairs + (<usize>q << 2), j);
    store<u8>(pairType + <usize>q, load<u8>(species + <usize>i) + load<u8>(species + <usize>j));
  }
}
