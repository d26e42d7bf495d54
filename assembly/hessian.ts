/**
 * y = H·x for the block-sparse Hessian stored as its upper triangle of 3×3 blocks (block rows,
 * diagonal block first in each row), as src/linalg/hessian.ts `hessianMultiply`. Each off-diagonal
 * block is applied to row i and, transposed, to row j in the same pass. The block's row pairs
 * (a0,a1), (a3,a4), (a6,a7) are f64x2 loads shared by both products.
 *
 * Block rows rowBegin .. rowEnd of the n are applied (worker threads take one range each, into their
 * own output vectors); y is zeroed from row rowBegin on, the only rows a row range reaches (block
 * columns j ≥ i), so entirely when rowBegin = 0.
 *
 * Pointers: rowStart, colIndex i32; values (9 per block), x, y f64.
 */
export function hessianMultiply(rowBegin: i32, rowEnd: i32, n: i32, rowStart: usize, colIndex: usize, values: usize, x: usize, y: usize): void {
  memory.fill(y + <usize>rowBegin * 24, 0, <usize>(n - rowBegin) * 24);
  for (let i = rowBegin; i < rowEnd; i++) {
    const xi = x + <usize>i * 24;
    const xi0 = load<f64>(xi), xi1 = load<f64>(xi, 8), xi2 = load<f64>(xi, 16);
    const vxi0 = f64x2.splat(xi0), vxi1 = f64x2.splat(xi1), vxi2 = f64x2.splat(xi2);
    const first = load<i32>(rowStart + (<usize>i << 2)), end = load<i32>(rowStart + (<usize>(i + 1) << 2));
    let b = values + <usize>first * 72;
    // row i: y_i = Σ_j A_ij x_j; lanes hold (a_r0·x0, a_r1·x1) partial sums, the third column apart
    let r0 = f64x2.splat(0), r1 = r0, r2 = r0;
    let s0: f64 = 0, s1: f64 = 0, s2: f64 = 0;
    {
      const x01 = v128.load(xi);
      r0 = f64x2.mul(v128.load(b), x01);
      r1 = f64x2.mul(v128.load(b, 24), x01);
      r2 = f64x2.mul(v128.load(b, 48), x01);
      s0 = load<f64>(b, 16) * xi2; s1 = load<f64>(b, 40) * xi2; s2 = load<f64>(b, 64) * xi2;
    }
    for (let k = first + 1; k < end; k++) {
      b = values + <usize>k * 72;
      const xj = x + <usize>load<i32>(colIndex + (<usize>k << 2)) * 24;
      const yj = y + (xj - x);
      const a01 = v128.load(b), a34 = v128.load(b, 24), a67 = v128.load(b, 48);
      const a2 = load<f64>(b, 16), a5 = load<f64>(b, 40), a8 = load<f64>(b, 64);
      const x01 = v128.load(xj), xj2 = load<f64>(xj, 16);
      r0 = f64x2.add(r0, f64x2.mul(a01, x01)); s0 += a2 * xj2;
      r1 = f64x2.add(r1, f64x2.mul(a34, x01)); s1 += a5 * xj2;
      r2 = f64x2.add(r2, f64x2.mul(a67, x01)); s2 += a8 * xj2;
      // transposed block into row j: (y_j0, y_j1) += (a0,a1)·x_i0 + (a3,a4)·x_i1 + (a6,a7)·x_i2
      const t = f64x2.add(f64x2.add(f64x2.mul(a01, vxi0), f64x2.mul(a34, vxi1)), f64x2.mul(a67, vxi2));
      v128.store(yj, f64x2.add(v128.load(yj), t));
      store<f64>(yj, load<f64>(yj, 16) + (a2 * xi0 + a5 * xi1 + a8 * xi2), 16);
    }
    const yi = y + <usize>i * 24;
    store<f64>(yi, load<f64>(yi) + (f64x2.extract_lane(r0, 0) + f64x2.extract_lane(r0, 1) + s0));
    store<f64>(yi, load<f64>(yi, 8) + (f64x2.extract_lane(r1, 0) + f64x2.extract_lane(r1, 1) + s1), 8);
    store<f64>(yi, load<f64>(yi, 16) + (f64x2.extract_lane(r2, 0) + f64x2.extract_lane(r2, 1) + s2), 16);
  }
}
