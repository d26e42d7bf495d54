/** Dense symmetric eigen routines and the Lanczos eigensolver on generic operators. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EigenvalueDecomposition, Matrix } from 'ml-matrix';
import { symmetricEigen, symmetricEigenLastComponents, tridiagonalEigen } from '../src/linalg/eigen-tridiagonal.ts';
import { largestMultiplicity, lanczosSmallest } from '../src/linalg/lanczos.ts';
import type { LinearOperator } from '../src/linalg/operator.ts';
import { createRandom } from '../src/util/random.ts';

function randomSymmetric(n: number, seed: number): Float64Array {
  const rng = createRandom(seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) {
    const v = rng.normal();
    a[i * n + j] = v;
    a[j * n + i] = v;
  }
  return a;
}

/** Ascending eigenvalues by ml-matrix (the independent reference). */
function referenceValues(a: Float64Array, n: number): number[] {
  const rows = Array.from({ length: n }, (_, i) => Array.from(a.subarray(i * n, (i + 1) * n)));
  return new EigenvalueDecomposition(new Matrix(rows), { assumeSymmetric: true }).realEigenvalues.sort((x, y) => x - y);
}

/** max |A·v_j − λ_j·v_j| and max |VᵀV − I| for row-stored eigenvectors. */
function eigenErrors(a: Float64Array, n: number, values: Float64Array, vectors: Float64Array): { residual: number; orthogonality: number } {
  let residual = 0, orthogonality = 0;
  for (let j = 0; j < n; j++) {
    for (let i = 0; i < n; i++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k] * vectors[j * n + k];
      residual = Math.max(residual, Math.abs(s - values[j] * vectors[j * n + i]));
    }
    for (let q = 0; q <= j; q++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += vectors[j * n + k] * vectors[q * n + k];
      orthogonality = Math.max(orthogonality, Math.abs(s - (q === j ? 1 : 0)));
    }
  }
  return { residual, orthogonality };
}

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('tridiagonal eigen-decomposition: discrete Laplacian analytically, random matrices against ml-matrix', () => {
  const n = 40;
  const lap = tridiagonalEigen(new Array(n).fill(2), new Array(n - 1).fill(-1));
  const exact = Array.from({ length: n }, (_, k) => 2 - 2 * Math.cos(((k + 1) * Math.PI) / (n + 1)));
  assert.ok(maxDiff(lap.values, exact) < 1e-13, `Laplacian eigenvalues off by ${maxDiff(lap.values, exact)}`);
  for (const seed of [1, 2, 3]) {
    const rng = createRandom(seed);
    const d = Array.from({ length: n }, () => rng.normal());
    const e = Array.from({ length: n - 1 }, () => rng.normal());
    const dense = new Float64Array(n * n);
    for (let i = 0; i < n; i++) dense[i * n + i] = d[i];
    for (let i = 0; i + 1 < n; i++) { dense[i * n + i + 1] = e[i]; dense[(i + 1) * n + i] = e[i]; }
    const r = tridiagonalEigen(d, e);
    assert.ok(maxDiff(r.values, referenceValues(dense, n)) < 1e-12);
    const err = eigenErrors(dense, n, r.values, r.vectors);
    assert.ok(err.residual < 1e-12 && err.orthogonality < 1e-12, JSON.stringify(err));
    assert.ok(maxDiff(tridiagonalEigen(d, e, false).values, r.values) < 1e-13);
  }
});

test('dense symmetric eigen-decomposition against ml-matrix: random, arrowhead, degenerate; last components', () => {
  const cases: Array<[string, Float64Array, number]> = [];
  for (const n of [1, 2, 5, 60]) cases.push([`random n=${n}`, randomSymmetric(n, n), n]);
  // the shape of a thick-restart Lanczos projection: diagonal block, one coupling row, tridiagonal tail
  const n = 50, l = 20;
  const arrow = new Float64Array(n * n);
  for (let i = 0; i < l; i++) { arrow[i * n + i] = 0.1 * i; arrow[i * n + l] = arrow[l * n + i] = Math.cos(i); }
  for (let i = l; i < n; i++) { arrow[i * n + i] = 2 + Math.sin(i); if (i + 1 < n) arrow[i * n + i + 1] = arrow[(i + 1) * n + i] = 0.5; }
  cases.push(['arrowhead', arrow, n]);
  // exactly repeated eigenvalues (Q·diag·Qᵀ with a random orthogonal Q from a Householder reflector)
  const m = 30;
  const rng = createRandom(9);
  const u = Array.from({ length: m }, () => rng.normal());
  const uu = u.reduce((s, x) => s + x * x, 0);
  const deg = new Float64Array(m * m);
  for (let i = 0; i < m; i++) for (let j = 0; j < m; j++) {
    let s = 0;
    for (let k = 0; k < m; k++) {
      const qik = (i === k ? 1 : 0) - (2 * u[i] * u[k]) / uu;
      const qjk = (j === k ? 1 : 0) - (2 * u[j] * u[k]) / uu;
      s += qik * (k % 3) * qjk;
    }
    deg[i * m + j] = s;
  }
  cases.push(['degenerate', deg, m]);
  for (const [label, a, size] of cases) {
    const r = symmetricEigen(a, size);
    const ref = referenceValues(a, size);
    assert.ok(maxDiff(r.values, ref) < 1e-12, `${label}: eigenvalues off by ${maxDiff(r.values, ref)}`);
    const err = eigenErrors(a, size, r.values, r.vectors);
    assert.ok(err.residual < 1e-12 && err.orthogonality < 1e-12, `${label}: ${JSON.stringify(err)}`);
    assert.ok(maxDiff(symmetricEigen(a, size, false).values, r.values) < 1e-12, label);
    const last = symmetricEigenLastComponents(a, size);
    assert.ok(maxDiff(last.values, r.values) < 1e-12, label);
    if (label !== 'degenerate') {
      // within a repeated eigenvalue the basis is arbitrary; elsewhere the last components are fixed up to sign
      for (let j = 0; j < size; j++) assert.ok(Math.abs(Math.abs(last.vectors[j]) - Math.abs(r.vectors[j * size + size - 1])) < 1e-10, label);
    }
  }
  assert.deepEqual(Array.from(symmetricEigen(deg, m).values, (v) => Math.round(v) + 0), Array.from({ length: m }, (_, i) => Math.floor((3 * i) / m)));
});

/** A sparse-like test operator: 1-D chain with random on-site terms, plus its dense matrix. */
function chainOperator(n: number, seed: number): { op: LinearOperator; dense: Float64Array } {
  const rng = createRandom(seed);
  const d = Float64Array.from({ length: n }, () => 2.2 + rng.uniform());
  const op: LinearOperator = {
    dim: n,
    apply(x, y) {
      for (let i = 0; i < n; i++) y[i] = d[i] * x[i] - (i > 0 ? x[i - 1] : 0) - (i + 1 < n ? x[i + 1] : 0);
    },
  };
  const dense = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    dense[i * n + i] = d[i];
    if (i > 0) dense[i * n + i - 1] = -1;
    if (i + 1 < n) dense[i * n + i + 1] = -1;
  }
  return { op, dense };
}

test('Lanczos: lowest eigenpairs of a chain operator match the dense solution, with and without restarts', () => {
  const n = 500;
  const { op, dense } = chainOperator(n, 4);
  const ref = symmetricEigen(dense, n, false).values;
  for (const opts of [{ basisSize: 400 }, { basisSize: 40, keep: 25 }, { blockSize: 3, growBlock: false }]) {
    const r = lanczosSmallest(op, { count: 12, tol: 1e-10, ...opts });
    assert.ok(r.converged, JSON.stringify(opts));
    assert.ok(maxDiff(r.values, ref.subarray(0, 12)) < 1e-11, `${JSON.stringify(opts)}: ${maxDiff(r.values, ref.subarray(0, 12))}`);
    // residuals are computed explicitly and within the stated bound tol·‖A‖
    assert.ok(r.normEstimate > 0.99 * ref[n - 1] && r.normEstimate <= ref[n - 1] * (1 + 1e-12));
    const y = new Float64Array(n);
    for (let k = 0; k < 12; k++) {
      const v = r.vectors.subarray(k * n, (k + 1) * n);
      op.apply(v, y);
      let s = 0;
      for (let i = 0; i < n; i++) s += (y[i] - r.values[k] * v[i]) ** 2;
      assert.ok(Math.abs(Math.sqrt(s) - r.residuals[k]) < 1e-12);
      assert.ok(r.residuals[k] <= r.tolerance && Math.abs(r.tolerance - 1e-10 * r.normEstimate) < 1e-24);
    }
  }
});

test('Lanczos: the projector keeps the search orthogonal to a null vector', () => {
  const n = 300;
  const { op: chain } = chainOperator(n, 5);
  // A = chain restricted to the complement of the constant vector, which gets eigenvalue 0
  const project = (v: Float64Array) => { let m = 0; for (let i = 0; i < n; i++) m += v[i]; m /= n; for (let i = 0; i < n; i++) v[i] -= m; };
  const op: LinearOperator = { dim: n, apply(x, y) { const t = x.slice(); project(t); chain.apply(t, y); project(y); } };
  const r = lanczosSmallest(op, { count: 5, project });
  assert.ok(r.converged);
  assert.ok(r.values[0] > 0.05, `the null vector leaked in: lowest value ${r.values[0]}`);
  for (let k = 0; k < 5; k++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += r.vectors[k * n + i];
    assert.ok(Math.abs(s) < 1e-12, `mode ${k} has a component ${s} along the projected-out vector`);
  }
});

test('Lanczos: exactly repeated eigenvalues are all found (the block grows), and reported as such', () => {
  // diagonal operator: 1 (×5), 2 (×5), 3 (×5), … in a scrambled order
  const n = 400;
  const diag = Float64Array.from({ length: n }, (_, i) => 1 + Math.floor(((i * 37) % n) / 5));
  const op: LinearOperator = { dim: n, apply(x, y) { for (let i = 0; i < n; i++) y[i] = diag[i] * x[i]; } };
  const r = lanczosSmallest(op, { count: 12 });
  assert.ok(r.converged && r.multiplicityResolved);
  assert.deepEqual(Array.from(r.values, (v) => Math.round(v * 1e9) / 1e9), [1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3]);
  assert.equal(r.largestMultiplicity, 5);
  assert.ok(r.blockSize > 5 && r.runs > 1);
  // a single-vector solve that may not grow its block cannot vouch for the multiplicities
  const fixed = lanczosSmallest(op, { count: 12, growBlock: false });
  assert.equal(fixed.converged, fixed.largestMultiplicity === 1 && fixed.pairConverged.every(Boolean));
  assert.equal(largestMultiplicity([1, 1 + 1e-12, 2, 2.5, 2.5], [1e-9, 1e-9, 1e-9, 1e-3, 1e-3]), 2);
  assert.equal(largestMultiplicity([1, 1.1, 1.2], [1e-3, 1e-3, 1e-3]), 1);
});

test('Lanczos: an exhausted matvec budget returns converged: false with honest residuals', () => {
  const { op } = chainOperator(2000, 6);
  const r = lanczosSmallest(op, { count: 10, tol: 1e-12, maxMatvecs: 60 });
  assert.equal(r.converged, false);
  assert.ok(r.pairConverged.some((c) => !c));
  for (let k = 0; k < 10; k++) assert.equal(r.pairConverged[k], r.residuals[k] <= r.tolerance);
  assert.ok(r.matvecs <= 60 + 10 + 10, `budget overrun: ${r.matvecs}`);
});

test('Lanczos: bad input is refused with a clear message', () => {
  const { op } = chainOperator(50, 7);
  assert.throws(() => lanczosSmallest(op, { count: 0 }), /count must be a positive integer/);
  assert.throws(() => lanczosSmallest(op, { count: 45 }), /too large for an operator of dimension 50/);
  assert.throws(() => lanczosSmallest(op, { count: 3, tol: 0 }), /tol must be in \(0, 1\)/);
  assert.throws(() => lanczosSmallest(op, { count: 3, blockSize: 1.5 }), /blockSize must be a positive integer/);
});
