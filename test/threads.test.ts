/**
 * Worker threads for one sample (src/util/threads.ts): T = 2 against T = 1 for forces, energy and
 * virial, the neighbor list, H·z, NVE trajectories and the elastic moduli; T = 2 against itself run
 * to run; a diverged particle found by either thread; and the --threads option's errors.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSystem, systemToConfiguration, type System } from '../src/engine/system.ts';
import { computeForces } from '../src/engine/forces.ts';
import { maxwellBoltzmannVelocities, runNve, timeStepFor } from '../src/engine/dynamics.ts';
import { hessianMultiply } from '../src/linalg/hessian.ts';
import { buildNeighborList, setOuterSkin } from '../src/space/neighbors.ts';
import { assembleHessian } from '../src/measure/hessian.ts';
import { measureElastic } from '../src/measure/elastic.ts';
import { writeExtendedXyz } from '../src/io/xyz.ts';
import { qModel } from '../src/model/q-model.ts';
import { createRandom } from '../src/util/random.ts';
import { kernelArray, kernelsWasmPath, useKernels } from '../src/util/kernels.ts';
import { maxThreads, setThreads, threadCount } from '../src/util/threads.ts';
import { jiggledLattice, smallGlass } from './fixtures.ts';

const skip = existsSync(kernelsWasmPath()) ? false : `${kernelsWasmPath()} not built (npm run build:kernels)`;
if (!skip) useKernels('wasm');
test.after(() => { if (!skip) setThreads(1); });

/** A jiggled fcc lattice of the Q-model (sheared if asked): disordered, no overlaps. */
function jiggled(Q: number, n: number, rho: number, seed: number, shear: boolean): System {
  return jiggledLattice(qModel(Q), n, rho, seed, 0.1, shear);
}

/** Everything the threaded kernels produce for sys with T threads (neighbor list rebuilt with T). */
function withThreads(T: number, sys: System) {
  setThreads(T);
  sys.neighbors.box = null;
  computeForces(sys);
  const n = sys.species.length;
  const H = assembleHessian(sys);
  const z = kernelArray(Float64Array, 3 * n), hz = kernelArray(Float64Array, 3 * n);
  const rng = createRandom(3);
  for (let k = 0; k < z.length; k++) z[k] = rng.normal();
  hessianMultiply(H, z, hz);
  const { start, pairs, pairType, boundaryStart } = sys.neighbors;
  return {
    energy: sys.energy, virial: sys.virial, forces: sys.forces.slice(), hz: hz.slice(),
    list: [start.slice(), pairs.slice(0, start[n]), pairType.slice(0, start[n]), boundaryStart.slice()],
  };
}

function relMax(a: Float64Array, b: Float64Array): number {
  let d = 0, s = 0;
  for (let k = 0; k < a.length; k++) { d = Math.max(d, Math.abs(a[k] - b[k])); s = Math.max(s, Math.abs(a[k])); }
  assert.ok(s > 0, 'all zero');
  return d / s;
}

for (const Q of [10, 240]) {
  test(`Q = ${Q}: forces, energy, virial, neighbor list and H·z with 2 threads equal 1 thread to 1e-13, the same bits run to run`, { skip }, () => {
    for (const shear of [false, true]) {
      const sys = jiggled(Q, 2048, Q === 10 ? 0.55 : 0.62, 4, shear);
      const one = withThreads(1, sys), two = withThreads(2, sys), again = withThreads(2, sys);
      const label = `Q=${Q} ${shear ? 'sheared' : 'cubic'}`;
      assert.equal(threadCount(), 2);
      assert.ok(Math.abs(two.energy - one.energy) <= 1e-13 * Math.abs(one.energy), `${label}: energy ${two.energy} vs ${one.energy}`);
      assert.ok(Math.abs(two.virial - one.virial) <= 1e-13 * Math.abs(one.virial), `${label}: virial ${two.virial} vs ${one.virial}`);
      assert.ok(relMax(one.forces, two.forces) <= 1e-13, `${label}: forces differ by ${relMax(one.forces, two.forces)} of the largest`);
      assert.ok(relMax(one.hz, two.hz) <= 1e-13, `${label}: H·z differs by ${relMax(one.hz, two.hz)} of the largest`);
      one.list.forEach((a, k) => assert.deepEqual(two.list[k], a, `${label}: neighbor list array ${k}`));
      assert.deepEqual(again.forces, two.forces);
      assert.deepEqual(again.hz, two.hz);
      assert.equal(again.energy, two.energy);
      assert.equal(again.virial, two.virial);
    }
  });
}

test('a list filtered from an outer list on 2 threads is the list of 1 thread, pair for pair', { skip }, () => {
  for (const shear of [false, true]) {
    const base = jiggled(240, 2048, 0.62, 5, shear);
    const n = base.species.length;
    const [one, two, again] = [1, 2, 2].map((T) => {
      setThreads(T);
      const sys = createSystem(base.model, base.box, base.positions.slice(), base.species.slice(), 0.1);
      setOuterSkin(sys.neighbors, 0.5);
      computeForces(sys);
      const rng = createRandom(8);
      for (let k = 0; k < sys.positions.length; k++) sys.positions[k] += 0.1 * (2 * rng.uniform() - 1);
      computeForces(sys);
      assert.deepEqual([sys.neighbors.builds, sys.neighbors.searches], [2, 1], 'the second list is filtered');
      const { start, pairs, pairType, boundaryStart } = sys.neighbors;
      return [start.slice(), pairs.slice(0, start[n]), pairType.slice(0, start[n]), boundaryStart.slice()];
    });
    const label = shear ? 'sheared' : 'cubic';
    assert.ok(one[0][n] > 10 * n, `${label}: list too short`);
    one.forEach((a, k) => assert.deepEqual(two[k], a, `${label}: array ${k}`));
    two.forEach((a, k) => assert.deepEqual(again[k], a, `${label}: array ${k} run to run`));
  }
});

test('with 2 threads, a particle far outside the box stops the build naming the first such particle, in either thread\'s half', { skip }, () => {
  const sys = jiggled(10, 2048, 0.55, 5, false);
  setThreads(2);
  for (const far of [[1900], [1900, 300]]) {
    const pos = kernelArray(Float64Array, sys.positions.length);
    pos.set(sys.positions);
    for (const i of far) pos[3 * i + 2] = 1e9 * sys.box.lz;
    const first = Math.min(...far);
    assert.throws(() => buildNeighborList(sys.neighbors, sys.box, pos, sys.species), new RegExp(`particle ${first} is at .* far outside the box`));
  }
});

test('200 NVE steps: 2 threads follow 1 thread to 1e-8 in positions, and repeat themselves bit for bit', { skip }, () => {
  const start = jiggled(10, 2048, 0.55, 8, true);
  const run = (T: number) => {
    setThreads(T);
    const sys = createSystem(start.model, start.box, start.positions.slice(), start.species.slice());
    const v = maxwellBoltzmannVelocities(2048, 0.8, createRandom(11));
    runNve(sys, v, { dt: timeStepFor(10, 0.8), steps: 200 });
    return sys.positions.slice();
  };
  const one = run(1), two = run(2), again = run(2);
  let worst = 0;
  for (let k = 0; k < one.length; k++) worst = Math.max(worst, Math.abs(two[k] - one[k]));
  assert.ok(worst <= 1e-8, `positions differ by ${worst}`);
  assert.deepEqual(again, two);
});

test('elastic moduli with 2 threads equal 1 thread (CG on the threaded H·z)', { skip }, () => {
  const sys = smallGlass(10, 500, 3).system;
  setThreads(1);
  const one = measureElastic(sys);
  setThreads(2);
  const two = measureElastic(sys);
  setThreads(1);
  assert.ok(one.converged && two.converged);
  for (const key of ['K', 'G', 'pressure'] as const) {
    assert.ok(Math.abs(two[key] - one[key]) <= 1e-9 * Math.abs(one[key]), `${key}: ${two[key]} vs ${one[key]}`);
  }
});

test('setThreads rejects counts that are not whole numbers from 1 to 4 × cores', { skip }, () => {
  for (const bad of [0, -1, 1.5, NaN, maxThreads() + 1]) assert.throws(() => setThreads(bad), /threads must be a whole number from 1 to \d+/);
  assert.equal(threadCount(), 1);
});

test('--threads: bad values and the JavaScript kernels are clear errors (exit 2); --threads 2 runs', { skip }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'qglass-threads-'));
  try {
    const glass = join(dir, 'glass.xyz');
    writeExtendedXyz(glass, systemToConfiguration(jiggled(10, 500, 0.55, 2, false), { Q: 10 }));
    const bin = new URL('../bin/qglass.mjs', import.meta.url).pathname;
    const qglass = (args: string[], env: Record<string, string> = {}) =>
      spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, CI: '1', ...env } });
    for (const bad of ['0', '-2', '1.5', 'two', String(maxThreads() + 1)]) {
      const r = qglass(['nve', glass, '--steps', '10', '--threads', bad]);
      assert.equal(r.status, 2, `--threads ${bad}: ${r.stderr}`);
      assert.match(r.stderr, /--threads must be (a whole number from 1 to \d+|an integer|a number)/, r.stderr);
    }
    const js = qglass(['measure', 'elastic', glass, '--threads', '2'], { QGLASS_KERNELS: 'js' });
    assert.equal(js.status, 2, js.stderr);
    assert.match(js.stderr, /2 threads need the WebAssembly kernels/);
    const ok = qglass(['nve', glass, '--steps', '20', '--threads', '2', '--json'], { QGLASS_KERNELS: 'wasm' });
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal(JSON.parse(ok.stdout).threads, 2);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
