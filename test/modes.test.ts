/** Vibrational modes of glasses and of a crystal: Lanczos against dense eigendecompositions, multiplicities, outputs. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smallGlass } from './fixtures.ts';
import { createSystem, type System } from '../src/engine/system.ts';
import { computeForces, maxForceComponent } from '../src/engine/forces.ts';
import { readMatrixMarket, writeHessianMatrixMarket } from '../src/io/matrix-market.ts';
import { parseNpy } from '../src/io/npy.ts';
import { writeExtendedXyz } from '../src/io/xyz.ts';
import { symmetricEigen } from '../src/linalg/eigen-tridiagonal.ts';
import { hessianMultiply, hessianToDense } from '../src/linalg/hessian.ts';
import { assembleHessian } from '../src/measure/hessian.ts';
import { measureModes, participationRatio, soundScales, type ModesResult } from '../src/measure/modes.ts';
import { qModel } from '../src/model/q-model.ts';
import { cubicBox, boxVolume } from '../src/space/box.ts';
import { fccPositions } from '../src/space/lattice.ts';

const dir = mkdtempSync(join(tmpdir(), 'qglass-modes-'));

/** Ascending eigenvalues of the dense Hessian (our dense routine; eigen.test.ts checks it against ml-matrix). */
function denseSpectrum(sys: System): Float64Array {
  computeForces(sys);
  return symmetricEigen(hessianToDense(assembleHessian(sys)), 3 * sys.species.length, false).values;
}

/** The checks every mode result must pass: translations absent, residuals real and within the bound, orthonormal. */
function checkModes(sys: System, r: ModesResult, label: string): void {
  const dim = 3 * r.N;
  const H = assembleHessian(sys);
  const y = new Float64Array(dim);
  for (let k = 0; k < r.count; k++) {
    const v = r.vectors.subarray(k * dim, (k + 1) * dim);
    const sum = [0, 0, 0];
    for (let i = 0; i < dim; i++) sum[i % 3] += v[i];
    assert.ok(Math.max(...sum.map(Math.abs)) < 1e-10, `${label} mode ${k}: translation component ${sum}`);
    hessianMultiply(H, v, y);
    let s = 0;
    for (let i = 0; i < dim; i++) s += (y[i] - r.omega2[k] * v[i]) ** 2;
    assert.ok(Math.abs(Math.sqrt(s) - r.residual[k]) <= 1e-12 * r.hessianNorm, `${label} mode ${k}: reported residual`);
    assert.ok(r.residual[k] <= r.tolerance, `${label} mode ${k}: residual ${r.residual[k]} above the bound ${r.tolerance}`);
    for (let q = 0; q <= k; q++) {
      let d = 0;
      for (let i = 0; i < dim; i++) d += v[i] * r.vectors[q * dim + i];
      assert.ok(Math.abs(d - (q === k ? 1 : 0)) < 1e-10, `${label}: modes ${q}, ${k} not orthonormal (${d})`);
    }
    assert.ok(Math.abs(r.participation[k] - participationRatio(v)) < 1e-15);
  }
  assert.equal(r.tolerance, r.tol * r.hessianNorm);
}

for (const Q of [10, 240]) {
  test(`glass N = 256, Q = ${Q}: the lowest 20 modes are the dense spectrum's, none skipped, translations excluded`, () => {
    const sys = smallGlass(Q, 256).system;
    const r = measureModes(sys, { count: 20 });
    assert.ok(r.converged, `not converged: ${JSON.stringify(r.residual)}`);
    const dense = denseSpectrum(sys);
    // the three translations are the dense spectrum's zeros; nothing else is (a quenched glass is stable)
    assert.ok(Math.abs(dense[2]) < 1e-9 * dense[dense.length - 1] && dense[3] > 1e-6, `dense: ${dense.subarray(0, 5)}`);
    assert.ok(Math.abs(r.hessianNorm - dense[dense.length - 1]) < 1e-6 * dense[dense.length - 1]);
    for (let k = 0; k < 20; k++) {
      // a residual r guarantees an eigenvalue within r; matching index by index shows none was skipped
      const err = Math.abs(r.omega2[k] - dense[k + 3]);
      assert.ok(err <= Math.max(r.residual[k], 1e-12 * r.hessianNorm), `Q=${Q} mode ${k}: ω² ${r.omega2[k]} vs dense ${dense[k + 3]}`);
      assert.ok(err < 1e-9 * dense[k + 3], `Q=${Q} mode ${k}: relative error ${err / dense[k + 3]}`);
      assert.ok(Math.abs(r.omega[k] - Math.sqrt(r.omega2[k])) < 1e-15 * r.omega[k] + 1e-300);
    }
    checkModes(sys, r, `Q=${Q}`);
    assert.ok(r.maxForce < 1e-10);
  });
}

/** Fraction of the weight of mode v in the plane waves of wavevectors 2π/L·n with |n|² = shell, and its longitudinal part. */
function shellWeights(pos: Float64Array, v: Float64Array, L: number, shell: number): { weight: number; longitudinal: number } {
  const N = pos.length / 3;
  let weight = 0, longitudinal = 0;
  const span = Math.ceil(Math.sqrt(shell));
  for (let a = -span; a <= span; a++) for (let b = -span; b <= span; b++) for (let c = -span; c <= span; c++) {
    if (a * a + b * b + c * c !== shell) continue;
    const k = [a, b, c].map((x) => (2 * Math.PI * x) / L);
    const re = [0, 0, 0], im = [0, 0, 0];
    for (let i = 0; i < N; i++) {
      const phase = k[0] * pos[3 * i] + k[1] * pos[3 * i + 1] + k[2] * pos[3 * i + 2];
      for (let d = 0; d < 3; d++) { re[d] += v[3 * i + d] * Math.cos(phase); im[d] += v[3 * i + d] * Math.sin(phase); }
    }
    const kn = Math.hypot(...k);
    weight += (re[0] ** 2 + re[1] ** 2 + re[2] ** 2 + im[0] ** 2 + im[1] ** 2 + im[2] ** 2) / N;
    const lr = (re[0] * k[0] + re[1] * k[1] + re[2] * k[2]) / kn, li = (im[0] * k[0] + im[1] * k[1] + im[2] * k[2]) / kn;
    longitudinal += (lr * lr + li * li) / N;
  }
  return { weight, longitudinal };
}

test('perfect FCC crystal: the bottom of the spectrum has the plane-wave multiplicities of a cubic box', () => {
  // monatomic (all S) FCC at ρ = 1 with Q = 12: a force-balanced, stable state by symmetry
  const k = 4, N = 4 * k ** 3, L = Math.cbrt(N / 1.0);
  const sys = createSystem(qModel(12), cubicBox(L), fccPositions(k, L), new Uint8Array(N));
  computeForces(sys);
  assert.ok(maxForceComponent(sys.forces) < 1e-12);
  const r = measureModes(sys, { count: 24 });
  assert.ok(r.converged);
  const dense = denseSpectrum(sys);
  for (let q = 0; q < 24; q++) assert.ok(Math.abs(r.omega2[q] - dense[q + 3]) <= Math.max(r.residual[q], 1e-12 * r.hessianNorm), `mode ${q}`);
  checkModes(sys, r, 'FCC');
  // group into levels (equal to within the residuals)
  const levels: Array<{ omega2: number; modes: number[] }> = [];
  r.omega2.forEach((w, q) => {
    const last = levels[levels.length - 1];
    if (last && Math.abs(w - last.omega2) <= r.residual[q] + r.residual[last.modes[0]]) last.modes.push(q);
    else levels.push({ omega2: w, modes: [q] });
  });
  // analytic counts. This crystal is elastically anisotropic (Zener ratio 2C₄₄/(C₁₁ − C₁₂) > 2), so
  // the softest waves are the transverse ones along ⟨110⟩ polarised along ⟨1-10⟩, with
  // ω² = 2·(2π/L)²·(C₁₁ − C₁₂)/(2ρ): k = 2π/L·(±1,±1,0)… (12 wavevectors) × 1 branch; then
  // k = 2π/L·(±1,0,0)… (6 wavevectors) × 2 degenerate transverse branches, ω² = (2π/L)²·C₄₄/ρ
  assert.deepEqual(levels.map((l) => l.modes.length), [12 * 1, 6 * 2]);
  assert.ok(r.largestMultiplicity === 12 && r.blockSize > 12, `block ${r.blockSize}, multiplicity ${r.largestMultiplicity}`);
  // and they are those plane waves: all weight in the shell |n|² = 2, then 1; none of it longitudinal
  const dim = 3 * N;
  for (const [level, shell] of [[0, 2], [1, 1]]) {
    for (const q of levels[level].modes) {
      const w = shellWeights(sys.positions, r.vectors.subarray(q * dim, (q + 1) * dim), L, shell);
      assert.ok(Math.abs(w.weight - 1) < 1e-8 && w.longitudinal < 1e-8, `level ${level} mode ${q}: ${JSON.stringify(w)}`);
    }
  }
});

test('participation ratio: one particle 1/N, uniform amplitude 1, a sine wave on the lattice 2/3', () => {
  const k = 4, N = 4 * k ** 3, L = 6;
  const pos = fccPositions(k, L);
  const one = new Float64Array(3 * N);
  one[7] = 1;
  assert.ok(Math.abs(participationRatio(one) - 1 / N) < 1e-15);
  const uniform = new Float64Array(3 * N).map((_, i) => (i % 3 === 0 ? (i % 2 ? 1 : -1) : 0));
  assert.ok(Math.abs(participationRatio(uniform) - 1) < 1e-15);
  const wave = new Float64Array(3 * N);
  for (let i = 0; i < N; i++) wave[3 * i + 1] = Math.cos((2 * Math.PI * pos[3 * i]) / L);
  assert.ok(Math.abs(participationRatio(wave) - 2 / 3) < 1e-12);
  // scale-free, and reads a mode out of a stack of them
  const stack = new Float64Array(6 * N);
  stack.set(wave.map((x) => 3 * x), 3 * N);
  assert.ok(Math.abs(participationRatio(stack, 3 * N, 3 * N) - 2 / 3) < 1e-12);
  assert.throws(() => participationRatio(one, 0, 4), /3 components per particle/);
});

test('sound scales: c_s = sqrt(G/ρ), a₀ = (V/N)^(1/3), ω₀ = c_s/a₀, ω₁ = 2π·c_s/L; G ≤ 0 refused', () => {
  const sys = smallGlass(240, 256).system;
  const V = boxVolume(sys.box), N = 256, G = 20;
  const s = soundScales(G, sys);
  assert.ok(Math.abs(s.cs * s.cs * N / V - G) < 1e-12 * G);
  assert.ok(Math.abs(s.a0 ** 3 * N - V) < 1e-10 * V && Math.abs(s.L ** 3 - V) < 1e-10 * V);
  assert.ok(Math.abs(s.omega0 - s.cs / s.a0) < 1e-14 && Math.abs(s.omega1 - (2 * Math.PI * s.cs) / s.L) < 1e-14);
  assert.throws(() => soundScales(0, sys), /must be positive/);
  assert.throws(() => soundScales(-1, sys), /must be positive/);
});

test('Matrix Market export round-trips the Hessian exactly', () => {
  const sys = smallGlass(10, 256).system;
  computeForces(sys);
  const H = assembleHessian(sys);
  const path = join(dir, 'H.mtx');
  const { entries } = writeHessianMatrixMarket(path, H, 'N=256 Q=10');
  const m = readMatrixMarket(path);
  assert.ok(m.symmetric && m.rows === 768 && m.cols === 768 && m.value.length === entries);
  const dense = hessianToDense(H);
  const back = new Float64Array(768 * 768);
  for (let e = 0; e < entries; e++) {
    assert.ok(m.row[e] >= m.col[e], 'lower triangle only');
    back[m.row[e] * 768 + m.col[e]] = m.value[e];
    back[m.col[e] * 768 + m.row[e]] = m.value[e];
  }
  for (let i = 0; i < dense.length; i++) assert.equal(back[i], dense[i]);
  assert.match(readFileSync(path, 'utf8').split('\n')[1], /% N=256 Q=10/);
});

const hasScipy = spawnSync('python3', ['-c', 'import scipy.io'], { stdio: 'ignore' }).status === 0;

test('scipy reads the exported Hessian and finds the same lowest eigenvalues', { skip: !hasScipy && 'python3 with scipy not available' }, () => {
  const sys = smallGlass(240, 256).system;
  computeForces(sys);
  const path = join(dir, 'H240.mtx');
  writeHessianMatrixMarket(path, assembleHessian(sys));
  const py = spawnSync('python3', ['-c', [
    'import sys, json, numpy as np, scipy.io',
    'A = scipy.io.mmread(sys.argv[1]).toarray()',
    'print(json.dumps(np.linalg.eigvalsh(A)[:13].tolist()))',
  ].join('\n'), path], { encoding: 'utf8' });
  assert.equal(py.status, 0, py.stderr);
  const ref = JSON.parse(py.stdout) as number[];
  const r = measureModes(sys, { count: 10 });
  for (let k = 0; k < 10; k++) assert.ok(Math.abs(r.omega2[k] - ref[k + 3]) < 1e-9 * ref[k + 3], `mode ${k}: ${r.omega2[k]} vs numpy ${ref[k + 3]}`);
});

const bin = new URL('../bin/qglass.mjs', import.meta.url).pathname;
function qglass(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('qglass measure modes: --json contract, .npy outputs numpy-shaped, clear errors', () => {
  const sys = smallGlass(10, 256).system;
  const file = join(dir, 'g.xyz');
  writeExtendedXyz(file, { box: sys.box, positions: sys.positions, species: sys.species, meta: { Q: 10 } });
  const out = join(dir, 'modes.npy');
  const r = qglass('measure', 'modes', file, '--count', '6', '--out', out, '--json');
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.trim().split('\n');
  assert.equal(lines.length, 1);
  const s = JSON.parse(lines[0]);
  for (const key of ['omega2', 'omega', 'participation', 'residual', 'converged', 'matvecs', 'timings', 'cs', 'omega0', 'omega1', 'tolerance']) assert.ok(key in s, `missing ${key}`);
  assert.equal(s.omega2.length, 6);
  assert.equal(s.converged, true);
  assert.ok(s.cs > 0 && Math.abs(s.omega1 - (2 * Math.PI * s.cs) / Math.cbrt(boxVolume(sys.box))) < 1e-12 * s.omega1);
  const vec = parseNpy(readFileSync(out));
  assert.deepEqual(vec.shape, [6, 256, 3]);
  const val = parseNpy(readFileSync(join(dir, 'modes-omega2.npy')));
  assert.deepEqual(val.shape, [6]);
  assert.deepEqual(Array.from(val.data), s.omega2);
  const direct = measureModes(sys, { count: 6 });
  assert.deepEqual(s.omega2, direct.omega2, 'the command reports what measureModes computes (same seed)');
  for (const [args, message] of [
    [['--count', '0'], /--count must be ≥ 1/],
    [['--count', '2.5'], /--count must be an integer/],
    [['--tol', '2'], /--tol must be in \(0, 1\)/],
    [['--count', '800'], /--count 800 is too many modes for N = 256 with --block 1: at most/],
  ] as const) {
    const bad = qglass('measure', 'modes', file, '--no-elastic', ...args);
    assert.equal(bad.code, 2, bad.stderr);
    assert.match(bad.stderr, message);
  }
  assert.match(qglass('measure', 'modes', join(dir, 'missing.xyz')).stderr, /no such file/);
});
