/**
 * The WebAssembly kernels against the TypeScript reference kernels, in one process (useKernels
 * switches the set; systems are created while wasm is in use, so their arrays live in the kernel
 * memory and both sets can run on them).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cubicBox, deform } from '../src/space/box.ts';
import { buildNeighborList, needsRebuild, setOuterSkin, setSkin } from '../src/space/neighbors.ts';
import { createSystem, type System } from '../src/engine/system.ts';
import { computeForces } from '../src/engine/forces.ts';
import { maxwellBoltzmannVelocities, runNve, timeStepFor } from '../src/engine/dynamics.ts';
import { minimize, minimizeFire } from '../src/engine/minimize.ts';
import { randomSpecies } from '../src/engine/prepare.ts';
import { hessianMultiply, hessianMultiplyJs, hessianOperator } from '../src/linalg/hessian.ts';
import { axpyDot, blockDiagonalApply, basisDots, basisSubtract, cgAdvance, cgDirection, combineRows, dotAt, projectOutTranslations } from '../src/linalg/vectors.ts';
import { blockJacobiPreconditioner, solveCg } from '../src/linalg/cg.ts';
import { lanczosSmallest } from '../src/linalg/lanczos.ts';
import { buildContractionTable, modeContractions } from '../src/measure/contractions.ts';
import { assembleHessian } from '../src/measure/hessian.ts';
import { buildPairTable } from '../src/engine/pair-table.ts';
import { qModel } from '../src/model/q-model.ts';
import { harmonicSpheres, hertzianSpheres } from '../src/model/soft-sphere.ts';
import type { PairLaw } from '../src/model/pair-law.ts';
import { createRandom } from '../src/util/random.ts';
import { jiggledLattice, TEST_SHEAR } from './fixtures.ts';
import { inKernelMemory, kernelArray, kernelMemoryUsage, kernelsWasmPath, releaseArray, useKernels, type KernelSet } from '../src/util/kernels.ts';

const skip = existsSync(kernelsWasmPath()) ? false : `${kernelsWasmPath()} not built (npm run build:kernels)`;
if (!skip) useKernels('wasm');

const SHEAR = TEST_SHEAR;

/**
 * Jiggled fcc lattice at density rho (in a sheared box if asked), relaxed by capped FIRE steps
 * until liquid-like (no hard overlaps).
 */
function liquid(law: PairLaw, n: number, rho: number, seed: number, shear = false): System {
  const sys = jiggledLattice(law, n, rho, seed, 0.15, shear);
  minimizeFire(sys, { maxStep: 0.05, stopWhen: (s) => s.energy / n < 0.5, maxIterations: 3000 });
  return sys;
}

/** A copy of sys (fresh arrays, allocated while wasm is in use). */
function copyOf(sys: System): System {
  useKernels('wasm');
  return createSystem(sys.model, sys.box, sys.positions.slice(), sys.species.slice(), sys.neighbors.skin);
}

/** The same particles affinely sheared (for kernels that need no relaxed configuration). */
function sheared(sys: System): System {
  const d = deform(sys.box, sys.positions, SHEAR);
  useKernels('wasm');
  return createSystem(sys.model, d.box, d.pos, sys.species.slice(), sys.neighbors.skin);
}

function forcesWith(set: KernelSet, sys: System): { energy: number; virial: number; f: Float64Array } {
  useKernels(set);
  sys.neighbors.box = null; // rebuild with this set too
  computeForces(sys);
  useKernels('wasm');
  return { energy: sys.energy, virial: sys.virial, f: sys.forces.slice() };
}

function maxAbs(a: Float64Array): number {
  let m = 0;
  for (const x of a) m = Math.max(m, Math.abs(x));
  return m;
}

function assertForcesAgree(sys: System, label: string): void {
  const js = forcesWith('js', sys), wasm = forcesWith('wasm', sys);
  const scale = maxAbs(js.f);
  assert.ok(scale > 0, `${label}: no forces`);
  assert.ok(Math.abs(wasm.energy - js.energy) <= 1e-13 * Math.abs(js.energy), `${label}: energy ${wasm.energy} vs ${js.energy}`);
  assert.ok(Math.abs(wasm.virial - js.virial) <= 1e-13 * Math.abs(js.virial), `${label}: virial ${wasm.virial} vs ${js.virial}`);
  let worst = 0;
  for (let k = 0; k < js.f.length; k++) worst = Math.max(worst, Math.abs(wasm.f[k] - js.f[k]));
  assert.ok(worst <= 1e-13 * scale, `${label}: forces differ by ${worst / scale} relative`);
  // the wasm kernel sums a row's pairs in two lanes: somewhere the last bits differ, which shows it ran
  assert.ok(worst > 0, `${label}: bit-identical forces, so the wasm kernel did not run`);
}

test('system arrays live in the kernel memory and survive its growth', { skip }, () => {
  const sys = liquid(qModel(10), 256, 0.6, 1);
  assert.ok(inKernelMemory(sys.positions) && inKernelMemory(sys.forces) && inKernelMemory(sys.neighbors.pairs));
  const before = sys.positions.slice();
  const { memoryBytes } = kernelMemoryUsage();
  const big = kernelArray(Float64Array, memoryBytes / 8 + 1000); // forces the memory to grow
  assert.ok(kernelMemoryUsage().memoryBytes > memoryBytes);
  assert.deepEqual(sys.positions, before, 'a view made before the growth reads the same numbers');
  big[big.length - 1] = 1;
  releaseArray(big);
  const again = kernelArray(Float64Array, 1000);
  assert.equal(again[0], 0, 'allocations are zeroed');
  assert.ok(again.byteOffset % 64 === 0);
  releaseArray(again);
});

test('wasm and js neighbor lists are identical, searched and filtered from an outer list (one cell and half-width cells, cubic and sheared)', { skip }, () => {
  for (const [n, rho] of [[256, 0.68], [500, 0.68], [2048, 0.9]]) {
    const base = liquid(qModel(240), n, rho, 2);
    // particles several boxes away on either side: binning must count their images alike
    for (let k = 0; k < 60; k += 3) base.positions[k] += (k % 2 ? -3 : 5) * base.box.lx;
    for (const start of [base, sheared(base)]) {
      const rows = (l: System['neighbors']) => ({
        start: l.start.slice(), boundaryStart: l.boundaryStart.slice(), pairs: l.pairs.slice(0, l.start[n]), pairType: l.pairType.slice(0, l.start[n]),
      });
      const lists = (['js', 'wasm'] as const).map((set) => {
        const sys = copyOf(start);
        useKernels(set);
        buildNeighborList(sys.neighbors, sys.box, sys.positions, sys.species);
        const l = sys.neighbors, w = l.work;
        const searched = {
          ...rows(l), cellOrder: l.cellOrder.slice(), image: w.image.slice(0, 3 * n), wrapped: [w.wx, w.wy, w.wz].map((c) => Array.from(c.subarray(0, n))),
        };
        // skin 0.1 within an outer list of 0.5: after moves below 0.2 the second build filters
        setSkin(l, 0.1);
        setOuterSkin(l, 0.5);
        buildNeighborList(l, sys.box, sys.positions, sys.species);
        const rng = createRandom(4);
        for (let k = 0; k < sys.positions.length; k++) sys.positions[k] += 0.1 * (2 * rng.uniform() - 1);
        buildNeighborList(l, sys.box, sys.positions, sys.species);
        assert.equal(l.outer!.builds, 1, 'the second build filters');
        return { searched, filtered: rows(l) };
      });
      useKernels('wasm');
      assert.ok(lists[0].searched.start[n] > 10 * n && lists[0].filtered.start[n] > 10 * n, `N=${n}: list too short`);
      assert.deepEqual(lists[1].searched, lists[0].searched, `N=${n}`);
      assert.deepEqual(lists[1].filtered, lists[0].filtered, `N=${n}: filtered`);
    }
  }
});

test('a particle far outside the box stops the build with its index in both kernel sets; the displacement check agrees', { skip }, () => {
  const sys = liquid(qModel(240), 256, 0.68, 2);
  for (const set of ['js', 'wasm'] as const) {
    useKernels(set);
    const pos = kernelArray(Float64Array, sys.positions.length);
    pos.set(sys.positions);
    buildNeighborList(sys.neighbors, sys.box, pos, sys.species);
    const half = 0.5 * sys.neighbors.skin;
    pos[3 * 7 + 1] += 0.999 * half;
    assert.equal(needsRebuild(sys.neighbors, sys.box, pos), false, set);
    pos[3 * 7 + 1] += 0.002 * half;
    assert.equal(needsRebuild(sys.neighbors, sys.box, pos), true, set);
    pos[3 * 11 + 2] = 1e9 * sys.box.lz;
    assert.throws(() => buildNeighborList(sys.neighbors, sys.box, pos, sys.species), /particle 11 is at .* far outside the box/, set);
  }
  useKernels('wasm');
});

test('wasm forces, energy and virial equal the js kernel to 1e-13 (Q = 10, 240, and 12, 13 off the written-out powers; cubic and sheared; soft spheres)', { skip }, () => {
  for (const Q of [10, 12, 13, 240]) {
    for (const n of [256, 500]) {
      // at Q = 12 and 13 the relaxed liquid has round-off forces only: take the jiggled lattice
      const sys = Q === 10 || Q === 240 ? liquid(qModel(Q), n, Q === 10 ? 0.75 : 0.66, 3) : jiggledLattice(qModel(Q), n, 0.75, 3, 0.15);
      // particles outside the primary cell: the minimum image must not care
      for (let k = 0; k < 30; k += 3) sys.positions[k] += 2 * sys.box.lx;
      assertForcesAgree(sys, `Q=${Q} N=${n} cubic`);
      assertForcesAgree(sheared(sys), `Q=${Q} N=${n} sheared`);
    }
  }
  for (const law of [harmonicSpheres(), hertzianSpheres()]) {
    // random positions above jamming density: many overlapping contacts
    const n = 500, rng = createRandom(7);
    const L = Math.cbrt(n / 1.2);
    const pos = Float64Array.from({ length: 3 * n }, () => L * rng.uniform());
    const sys = createSystem(law, cubicBox(L), pos, randomSpecies(n, rng));
    assertForcesAgree(sys, `${law.name} cubic`);
    assertForcesAgree(sheared(sys), `${law.name} sheared`);
  }
});

test('wasm Hessian product equals the js product to 1e-13', { skip }, () => {
  for (const Q of [10, 240]) {
    const sys = liquid(qModel(Q), 500, Q === 10 ? 0.75 : 0.66, 4);
    for (const s of [sys, sheared(sys)]) {
      const H = assembleHessian(s);
      const rng = createRandom(5);
      const x = Float64Array.from({ length: 3 * H.n }, () => rng.normal());
      const yJs = new Float64Array(3 * H.n), yWasm = new Float64Array(3 * H.n);
      hessianMultiplyJs(H, x, yJs);
      hessianMultiply(H, x, yWasm);
      const scale = maxAbs(yJs);
      let worst = 0;
      for (let k = 0; k < yJs.length; k++) worst = Math.max(worst, Math.abs(yWasm[k] - yJs[k]));
      assert.ok(worst <= 1e-13 * scale, `Q=${Q}: H·x differs by ${worst / scale} relative`);
    }
  }
});

test('wasm Hessian assembly equals the js assembly to 1e-13 (same pattern, blocks of the same pairs)', { skip }, () => {
  for (const Q of [10, 240]) {
    const sys = liquid(qModel(Q), 500, Q === 10 ? 0.75 : 0.66, 6);
    for (const s of [sys, sheared(sys)]) {
      const pairs = buildPairTable(s);
      const wasm = assembleHessian(s, pairs);
      useKernels('js');
      const js = assembleHessian(s, pairs);
      useKernels('wasm');
      assert.deepEqual(Array.from(wasm.rowStart), Array.from(js.rowStart));
      assert.deepEqual(Array.from(wasm.colIndex), Array.from(js.colIndex));
      const scale = maxAbs(js.values);
      let worst = 0;
      for (let k = 0; k < js.values.length; k++) worst = Math.max(worst, Math.abs(wasm.values[k] - js.values[k]));
      assert.ok(scale > 0 && worst <= 1e-13 * scale, `Q=${Q}: blocks differ by ${worst / scale} relative`);
    }
  }
});

/** `run` on fresh kernel-memory copies of `inputs` under each kernel set; the arrays after, and its result. */
function vectorOpWith<R>(set: KernelSet, inputs: Float64Array[], run: (a: Float64Array[]) => R): { arrays: number[][]; result: R } {
  useKernels('wasm');
  const arrays = inputs.map((x) => { const k = kernelArray(Float64Array, x.length); k.set(x); return k; });
  useKernels(set);
  const result = run(arrays);
  useKernels('wasm');
  return { arrays: arrays.map((a) => Array.from(a)), result };
}

test('vector kernels of CG, Lanczos and L-BFGS: wasm gives the bits of the js reference (even and odd lengths)', { skip }, () => {
  const rng = createRandom(21);
  const vec = (len: number) => Float64Array.from({ length: len }, () => rng.normal());
  for (const n of [3 * 171, 3 * 170 + 1]) {
    const basis = 13; // 4-vector sweeps, 8-vector sweeps and single vectors all used
    const ops: Array<[string, Float64Array[], (a: Float64Array[]) => unknown]> = [
      ['dot', [vec(n + 5), vec(n + 5)], ([a, b]) => dotAt(a, 2, b, 5, n)],
      ['basisDots', [vec(basis * n), vec(2 * n), vec(basis)], ([V, W, c]) => basisDots(V, 1, basis, n, W, n, c)],
      ['basisSubtract', [vec(basis * n), vec(2 * n), vec(basis)], ([V, W, c]) => basisSubtract(V, 2, basis, n, W, n, c)],
      ['combineRows', [vec(basis * n), vec(3 * basis + 4), vec(3 * n + 7)], ([V, Y, X]) => combineRows(V, basis, n, Y, 4, basis, 3, X, 7)],
      ['cgAdvance', [vec(n), vec(n), vec(n), vec(n)], ([x, p, r, q]) => cgAdvance(0.37, x, p, r, q)],
      ['cgDirection', [vec(n), vec(n)], ([z, p]) => cgDirection(-0.61, z, p)],
      ['axpyDot', [vec(n), vec(n), vec(n)], ([x, d, w]) => axpyDot(-1.3, x, d, w)],
      ['projectOutTranslations', [vec(3 * 171)], ([v]) => projectOutTranslations(v)],
      ['blockDiagonalApply', [vec(9 * 171), vec(3 * 171), vec(3 * 171)], ([B, x, y]) => blockDiagonalApply(B, x, y)],
    ];
    for (const [name, inputs, run] of ops) {
      const js = vectorOpWith('js', inputs, run), wasm = vectorOpWith('wasm', inputs, run);
      assert.deepEqual(wasm, js, `${name} (n = ${n}): wasm and js differ`);
    }
  }
});

test('mode contractions (κ, τ, k±, f±, U‴:zz): wasm gives the bits of the js reference', { skip }, () => {
  for (const Q of [10, 240]) {
    const sys = liquid(qModel(Q), 500, Q === 10 ? 0.75 : 0.66, 12);
    const table = buildContractionTable(sys);
    const rng = createRandom(13);
    const z = Float64Array.from({ length: 3 * 500 }, () => rng.normal());
    const run = (set: KernelSet) => {
      useKernels(set);
      const uzz = new Float64Array(z.length);
      const c = modeContractions(table, z, uzz);
      useKernels('wasm');
      return { ...c, uzz: Array.from(uzz) };
    };
    const js = run('js'), wasm = run('wasm');
    assert.ok(js.kMinus < 0 && js.fMinus < 0 && js.kPlus > 0, `Q=${Q}: both signs of the stiffness and force terms present`);
    assert.deepEqual(wasm, js, `Q=${Q}`);
  }
});

test('preconditioned CG and Lanczos on a glass Hessian agree across kernel sets, and each repeats itself bit for bit', { skip }, () => {
  const sys = liquid(qModel(240), 256, 0.66, 9);
  minimize(sys, { ftol: 1e-10 });
  const H = assembleHessian(sys);
  const rng = createRandom(3);
  const b = Float64Array.from({ length: 3 * H.n }, () => rng.normal());
  const solve = (set: KernelSet) => {
    useKernels(set);
    const cg = solveCg(hessianOperator(H), b, { preconditioner: blockJacobiPreconditioner(H) });
    const eig = lanczosSmallest(hessianOperator(H), { count: 6, project: projectOutTranslations });
    useKernels('wasm');
    assert.ok(cg.converged && eig.converged, `${set}: the solves converge`);
    return { x: Array.from(cg.x), cgIterations: cg.iterations, values: Array.from(eig.values), matvecs: eig.matvecs };
  };
  const js = solve('js'), wasm = solve('wasm');
  // the Hessian products differ in the last bits (two-lane sums), so the solves agree to their tolerances
  const xScale = Math.max(...js.x.map(Math.abs));
  const xWorst = Math.max(...js.x.map((v, k) => Math.abs(v - wasm.x[k])));
  assert.ok(xWorst <= 1e-8 * xScale, `CG solutions differ by ${xWorst / xScale} relative`);
  assert.ok(Math.abs(js.cgIterations - wasm.cgIterations) <= 2, `CG iterations ${js.cgIterations} (js) vs ${wasm.cgIterations} (wasm)`);
  js.values.forEach((v, k) => assert.ok(Math.abs(v - wasm.values[k]) <= 1e-10 * Math.abs(js.values[5]), `eigenvalue ${k}: ${v} (js) vs ${wasm.values[k]} (wasm)`));
  assert.deepEqual(solve('wasm'), wasm, 'wasm solves repeated');
  assert.deepEqual(solve('js'), js, 'js solves repeated');
});

function nveWith(set: KernelSet, start: System, Q: number, steps: number): Float64Array {
  const sys = copyOf(start);
  useKernels(set);
  const v = maxwellBoltzmannVelocities(sys.species.length, 0.8, createRandom(11));
  runNve(sys, v, { dt: timeStepFor(Q, 0.8), steps, sortEveryBuilds: 0 });
  useKernels('wasm');
  return sys.positions.slice();
}

test('200 NVE steps: wasm and js trajectories agree to 1e-8 in positions, and each is bit-reproducible', { skip }, () => {
  for (const Q of [10, 240]) {
    for (const shear of [false, true]) {
      const start = liquid(qModel(Q), 500, Q === 10 ? 0.75 : 0.66, 6, shear);
      const js = nveWith('js', start, Q, 200), wasm = nveWith('wasm', start, Q, 200);
      let worst = 0;
      for (let k = 0; k < js.length; k++) worst = Math.max(worst, Math.abs(wasm[k] - js[k]));
      assert.ok(worst < 1e-8, `Q=${Q}: positions differ by ${worst}`);
      assert.deepEqual(nveWith('wasm', start, Q, 200), wasm, `Q=${Q}: wasm run repeated`);
      assert.deepEqual(nveWith('js', start, Q, 200), js, `Q=${Q}: js run repeated`);
    }
  }
});

test('CG quenches from the same start reach minima of the same energy with either kernel set', { skip }, () => {
  for (const Q of [10, 240]) {
    // from near a minimum (FIRE to max |F| < 1e-2), where 1e-16 differences cannot send the two
    // searches into different basins
    const base = liquid(qModel(Q), 256, Q === 10 ? 0.75 : 0.66, 8);
    minimizeFire(base, { ftol: 1e-2 });
    const energies = (['js', 'wasm'] as const).map((set) => {
      const sys = copyOf(base);
      useKernels(set);
      const r = minimize(sys, { ftol: 1e-10 });
      useKernels('wasm');
      assert.ok(r.converged, `Q=${Q} ${set}: quench did not converge`);
      return sys.energy / 256;
    });
    assert.ok(Math.abs(energies[0] - energies[1]) < 1e-9, `Q=${Q}: E/N ${energies[0]} (js) vs ${energies[1]} (wasm)`);
  }
});

test('QGLASS_KERNELS: a bad value is a clear error, js runs the reference kernels', () => {
  const probe = (value: string) => spawnSync(process.execPath, ['--import', 'tsx', '-e',
    "import('./src/util/kernels.ts').then((k) => console.log(k.kernelSet()))"], { env: { ...process.env, QGLASS_KERNELS: value }, encoding: 'utf8' });
  const bad = probe('gpu');
  assert.notEqual(bad.status, 0);
  assert.match(bad.stderr, /QGLASS_KERNELS must be "js" or "wasm"; got "gpu"/);
  assert.equal(probe('js').stdout.trim(), 'js');
});
