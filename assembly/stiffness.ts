/**
 * Hessian assembly from the pair table, as src/measure/hessian.ts `assembleHessianJs` (same
 * operations per pair, so the same bits): the pair stiffness block
 *
 *   M = (φ′/r)·I + (φ″ − φ′/r)·d dᵀ/r²
 *
 * of each pair ⟨ij⟩ goes to H_ii and H_jj, and −M to the block (i, j) of the upper-triangle block
 * rows. rowStart is given (the pattern); colIndex and values (zeroed) are written; fill is n i32 of
 * scratch.
 *
 * Pointers: pi, pj, rowStart, colIndex, fill i32; d (3 per pair), r2, g (φ′/r), k (φ″), values f64.
 */
export function assembleHessian(
  n: i32, count: i32, pi: usize, pj: usize, d: usize, r2: usize, g: usize, k: usize,
  rowStart: usize, colIndex: usize, values: usize, fill: usize,
): void {
  for (let i = 0; i < n; i++) {
    const first = load<i32>(rowStart + (<usize>i << 2));
    store<i32>(colIndex + (<usize>first << 2), i);
    store<i32>(fill + (<usize>i << 2), first + 1);
  }
  for (let p = 0; p < count; p++) {
    const i = load<i32>(pi + (<usize>p << 2)), j = load<i32>(pj + (<usize>p << 2));
    const fi = fill + (<usize>i << 2);
    const slot = load<i32>(fi);
    store<i32>(fi, slot + 1);
    store<i32>(colIndex + (<usize>slot << 2), j);
    const dp = d + <usize>p * 24;
    const dx = load<f64>(dp), dy = load<f64>(dp, 8), dz = load<f64>(dp, 16);
    const gp = load<f64>(g + (<usize>p << 3));
    const c = (load<f64>(k + (<usize>p << 3)) - gp) / load<f64>(r2 + (<usize>p << 3));
    const mxy = c * dx * dy, mxz = c * dx * dz, myz = c * dy * dz;
    const mxx = gp + c * dx * dx, myy = gp + c * dy * dy, mzz = gp + c * dz * dz;
    const b = values + <usize>slot * 72;
    store<f64>(b, -mxx); store<f64>(b, -mxy, 8); store<f64>(b, -mxz, 16);
    store<f64>(b, -mxy, 24); store<f64>(b, -myy, 32); store<f64>(b, -myz, 40);
    store<f64>(b, -mxz, 48); store<f64>(b, -myz, 56); store<f64>(b, -mzz, 64);
    addBlock(values + <usize>load<i32>(rowStart + (<usize>i << 2)) * 72, mxx, mxy, mxz, myy, myz, mzz);
    addBlock(values + <usize>load<i32>(rowStart + (<usize>j << 2)) * 72, mxx, mxy, mxz, myy, myz, mzz);
  }
}

@inline function addBlock(a: usize, mxx: f64, mxy: f64, mxz: f64, myy: f64, myz: f64, mzz: f64): void {
  store<f64>(a, load<f64>(a) + mxx); store<f64>(a, load<f64>(a, 8) + mxy, 8); store<f64>(a, load<f64>(a, 16) + mxz, 16);
  store<f64>(a, load<f64>(a, 24) + mxy, 24); store<f64>(a, load<f64>(a, 32) + myy, 32); store<f64>(a, load<f64>(a, 40) + myz, 40);
  store<f64>(a, load<f64>(a, 48) + mxz, 48); store<f64>(a, load<f64>(a, 56) + myz, 56); store<f64>(a, load<f64>(a, 64) + mzz, 64);
}
