/** The sparse Hessian, the matrix-free product and the projected CG solver, checked independently. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix, solve } from 'ml-matrix';
import { smallGlass } from './fixtures.ts';
import { computeForces } from '../src/engine/forces.ts';
import { cloneSystem } from '../src/engine/prepare.ts';
import type { System } from '../src/engine/system.ts';
import { hessianDiagonalBlocks, hessianMultiply, hessianOperator, hessianToDense } from '../src/linalg/hessian.ts';
import { assembleHessian, hessianMatrixFree } from '../src/measure/hessian.ts';
import { blockJacobiPreconditioner, solveCg } from '../src/linalg/cg.ts';
import { buildPairTable } from '../src/engine/pair-table.ts';
import type { LinearOperator } from '../src/linalg/operator.ts';
import { createRandom } from '../src/util/random.ts';

function randomVector(n: number, seed: number): Float64Array {
  const rng = createRandom(seed);
  const v = new Float64Array(n);
  for (let k = 0; k < n; k++) v[k] = rng.normal();
  return v;
}

function maxAbsDiff(a: Float64Array, b: Float64Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k]));
  return m;
}

/** −dF/dh along z by a 4-point central difference of the forces (error O(h⁴)). */
function forceDerivative(sys: System, z: Float64Array, h: number): Float64Array {
  const copy = cloneSystem(sys);
  const f = (s: number) => {
    for (let k = 0; k < z.length; k++) copy.positions[k] = sys.positions[k] + s * h * z[k];
    computeForces(copy);
    return copy.forces.slice();
  };
  const fp1 = f(1), fm1 = f(-1), fp2 = f(2), fm2 = f(-2);
  const out = new Float64Array(z.length);
  for (let k = 0; k < z.length; k++) out[k] = -(8 * (fp1[k] - fm1[k]) - (fp2[k] - fm2[k])) / (12 * h);
  return out;
}

for (const Q of [10, 240]) {
  test(`Q = ${Q}: sparse H·z = matrix-free H·z = −dF/dz by finite differences`, () => {
    const sys = smallGlass(Q).system;
    const H = assembleHessian(sys);
    const z = randomVector(3 * H.n, 7);
    const sparse = new Float64Array(z.length), free = new Float64Array(z.length);
    hessianMultiply(H, z, sparse);
    hessianMatrixFree(buildPairTable(sys), z, free);
    const scale = maxAbs(sparse);
    assert.ok(maxAbsDiff(sparse, free) < 1e-12 * scale, `sparse vs matrix-free: ${maxAbsDiff(sparse, free) / scale}`);
    const fd = forceDerivative(sys, z, Q > 100 ? 1e-5 : 1e-4);
    assert.ok(maxAbsDiff(sparse, fd) < 1e-6 * scale, `sparse vs finite differences: ${maxAbsDiff(sparse, fd) / scale}`);
  });
}

test('dense form: symmetric, translations in the null space, diagonal blocks, same product', () => {
  const sys = smallGlass(10).system;
  const H = assembleHessian(sys);
  const m = 3 * H.n;
  const A = hessianToDense(H);
  let asym = 0, big = 0;
  for (let r = 0; r < m; r++) for (let c = 0; c < m; c++) {
    asym = Math.max(asym, Math.abs(A[r * m + c] - A[c * m + r]));
    big = Math.max(big, Math.abs(A[r * m + c]));
  }
  assert.equal(asym, 0);
  for (let a = 0; a < 3; a++) {
    let worst = 0;
    for (let r = 0; r < m; r++) {
      let s = 0;
      for (let c = a; c < m; c += 3) s += A[r * m + c];
      worst = Math.max(worst, Math.abs(s));
    }
    assert.ok(worst < 1e-12 * big, `translation ${a} not a zero mode: ${worst}`);
  }
  const diag = hessianDiagonalBlocks(H);
  for (let i = 0; i < H.n; i++) for (let a = 0; a < 3; a++) for (let b = 0; b < 3; b++) {
    assert.equal(diag[9 * i + 3 * a + b], A[(3 * i + a) * m + 3 * i + b]);
  }
  const z = randomVector(m, 3);
  const y = new Float64Array(m);
  hessianMultiply(H, z, y);
  const yd = new Float64Array(m);
  for (let r = 0; r < m; r++) { let s = 0; for (let c = 0; c < m; c++) s += A[r * m + c] * z[c]; yd[r] = s; }
  assert.ok(maxAbsDiff(y, yd) < 1e-12 * maxAbs(yd));
});

test('CG with projection solves H·x = b for the pseudo-inverse solution (dense check)', () => {
  const sys = smallGlass(240).system;
  const H = assembleHessian(sys);
  const m = 3 * H.n;
  const b = randomVector(m, 11);
  const res = solveCg(hessianOperator(H), b, { tol: 1e-10, preconditioner: blockJacobiPreconditioner(H) });
  assert.ok(res.converged, JSON.stringify({ ...res, x: undefined }));
  assert.ok(res.residual <= 1e-10);
  // independent: (H + T·Tᵀ)·x = P·b has the unique solution H⁺·P·b (T: unit translations)
  const A = hessianToDense(H);
  const dense = new Matrix(m, m);
  for (let r = 0; r < m; r++) for (let c = 0; c < m; c++) dense.set(r, c, A[r * m + c] + (r % 3 === c % 3 ? 1 / H.n : 0));
  const pb = b.slice();
  for (let a = 0; a < 3; a++) {
    let mean = 0;
    for (let k = a; k < m; k += 3) mean += b[k];
    mean /= H.n;
    for (let k = a; k < m; k += 3) pb[k] -= mean;
  }
  const xd = solve(dense, Matrix.columnVector(Array.from(pb))).to1DArray();
  let err = 0, norm = 0;
  for (let k = 0; k < m; k++) { err += (res.x[k] - xd[k]) ** 2; norm += xd[k] ** 2; }
  assert.ok(Math.sqrt(err / norm) < 1e-6, `CG vs dense solution: ${Math.sqrt(err / norm)}`);
});

test('CG reports failure honestly: too few iterations, indefinite operator, bad input', () => {
  const sys = smallGlass(10).system;
  const H = assembleHessian(sys);
  const op = hessianOperator(H);
  const b = randomVector(op.dim, 5);
  const few = solveCg(op, b, { maxIterations: 3 });
  assert.equal(few.converged, false);
  assert.equal(few.reason, 'max-iterations');
  assert.equal(few.iterations, 3);
  assert.ok(few.residual > 1e-3, `residual after 3 iterations: ${few.residual}`);
  const negative: LinearOperator = { dim: op.dim, apply: (x, y) => { op.apply(x, y); for (let k = 0; k < y.length; k++) y[k] = -y[k]; } };
  const bad = solveCg(negative, b);
  assert.equal(bad.converged, false);
  assert.equal(bad.reason, 'breakdown');
  assert.throws(() => solveCg(op, b.subarray(3)), /length/);
  const zero = solveCg(op, new Float64Array(op.dim).fill(1));
  assert.ok(zero.converged && zero.iterations === 0, 'a pure translation has the zero solution');
});
