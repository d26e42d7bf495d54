/**
 * Round trips with other tools: LAMMPS data files read back (ours, LAMMPS's write_data, malformed
 * ones), `qglass quench` on configurations that lost precision on the way (ASE's 8 decimals), and
 * the `qglass lammps` bundle: LAMMPS with our pair table reproduces energy and pressure.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smallGlass } from './fixtures.ts';
import { computeForces, maxForceComponent } from '../src/engine/forces.ts';
import { systemFromConfiguration, systemToConfiguration, virialPressure } from '../src/engine/system.ts';
import type { Configuration } from '../src/model/configuration.ts';
import { qModel } from '../src/model/q-model.ts';
import { deform } from '../src/space/box.ts';
import { measureElastic } from '../src/measure/elastic.ts';
import { formatLammpsData, parseLammpsData, readLammpsData, writeLammpsData } from '../src/io/lammps-data.ts';
import { FileFormatError } from '../src/io/format-error.ts';
import { readExtendedXyz, writeExtendedXyz } from '../src/io/xyz.ts';
import { configurationFormat, readConfiguration } from '../src/cli/load.ts';
import { lammpsBundle } from '../src/cli/commands/lammps.ts';

const dir = mkdtempSync(join(tmpdir(), 'qglass-roundtrip-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const bin = new URL('../bin/qglass.mjs', import.meta.url).pathname;

function qglass(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function glass(Q: number): Configuration {
  return systemToConfiguration(smallGlass(Q).system, { Q, converged: true });
}

function energyOf(conf: Configuration, Q: number): { e: number; p: number; fmax: number } {
  const sys = systemFromConfiguration(conf, qModel(Q));
  computeForces(sys);
  return { e: sys.energy, p: virialPressure(sys), fmax: maxForceComponent(sys.forces) };
}

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

// ---------------------------------------------------------------------------------------------
// LAMMPS data files read back

test('our LAMMPS data files read back: same box, species and energy (orthogonal, triclinic, large tilts reduced)', () => {
  const c = glass(10);
  const sheared = deform(c.box, c.positions, [0, 0.05, -0.02, 0, 0, 0.03, 0, 0, 0]);
  const tilted = { ...c, box: sheared.box, positions: sheared.pos };
  const big = deform(c.box, c.positions, [0, 0.6, 0, 0, 0, 0, 0, 0, 0]); // written with xy − lx
  for (const conf of [c, tilted, { ...c, box: big.box, positions: big.pos }]) {
    const back = parseLammpsData(formatLammpsData(conf), 'x.data');
    assert.deepEqual(back.species, conf.species);
    assert.equal(back.box.lx, conf.box.lx);
    assert.equal(back.box.lz, conf.box.lz);
    const a = energyOf(conf, 10), b = energyOf(back, 10);
    assert.ok(rel(b.e, a.e) < 1e-12, `energy ${b.e} vs ${a.e}`);
    assert.ok(rel(b.p, a.p) < 1e-12, `pressure ${b.p} vs ${a.p}`);
    assert.equal(back.meta.Q, 10, 'metadata of our own title line');
  }
});

test('LAMMPS data: atoms in any id order, image flags unwrap, box origin shifted, comments ignored', () => {
  const c = glass(10);
  const n = c.species.length;
  const { lx, ly, lz } = c.box;
  const lines = ['from elsewhere', '', `${n} atoms # count`, '2 atom types', '0 bonds', `-1 ${lx - 1} xlo xhi`, `2 ${ly + 2} ylo yhi`, `0.5 ${lz + 0.5} zlo zhi`, '',
    'Masses', '', '1 1', '2 1', '', 'Atoms # atomic', ''];
  for (let k = n - 1; k >= 0; k--) {
    const [ix, iy, iz] = [k % 3 - 1, (k >> 1) % 2, -(k % 2)];
    const x = c.positions[3 * k] - 1 - ix * lx, y = c.positions[3 * k + 1] + 2 - iy * ly, z = c.positions[3 * k + 2] + 0.5 - iz * lz;
    lines.push(`${k + 1} ${c.species[k] + 1} ${x} ${y} ${z} ${ix} ${iy} ${iz}`);
  }
  lines.push('', 'Velocities', '', ...Array.from({ length: n }, (_, k) => `${k + 1} 0 0 0`), '');
  const back = parseLammpsData(lines.join('\n'), 'shifted.data');
  assert.deepEqual(back.species, c.species);
  assert.deepEqual(back.meta, {}, 'a foreign title carries no metadata');
  let worst = 0;
  for (let k = 0; k < 3 * n; k++) worst = Math.max(worst, Math.abs(back.positions[k] - c.positions[k]));
  assert.ok(worst < 1e-12, `positions recovered to ${worst}`);
});

test('malformed LAMMPS data files: errors name the file, the line and what is wrong', () => {
  const text = formatLammpsData(glass(10));
  const lines = text.split('\n');
  const atomsAt = lines.indexOf('Atoms # atomic');
  const edit = (k: number, line: string) => lines.map((l, i) => (i === k ? line : l)).join('\n');
  const cases: [string, string, RegExp][] = [
    ['truncated', lines.slice(0, atomsAt + 40).join('\n'), /^t\.data: section 'Atoms' \(line \d+\) holds 38 of the 256 lines/],
    ['bad type', edit(atomsAt + 2, '1 3 0 0 0'), new RegExp(`^t\\.data:${atomsAt + 3}: atom type 3; must be 1 \\(small\\) or 2 \\(large\\)`)],
    ['columns', edit(atomsAt + 2, '1 1 0 0'), new RegExp(`^t\\.data:${atomsAt + 3}: expected 'id type x y z'`)],
    ['number', edit(atomsAt + 2, '1 1 0 zero 0'), new RegExp(`^t\\.data:${atomsAt + 3}: 'zero' is not a number`)],
    ['style', edit(atomsAt, 'Atoms # full'), new RegExp(`^t\\.data:${atomsAt + 1}: 'Atoms # full': only atom_style atomic`)],
    ['duplicate id', edit(atomsAt + 3, lines[atomsAt + 2]), /atom id 1 appears twice/],
    ['three types', text.replace('2 atom types', '3 atom types'), /3 atom types; qglass reads type 1 = small and type 2 = large only/],
    ['no atoms line', text.replace(/^\d+ atoms$/m, ''), /no 'N atoms' line/],
    ['bonds', text.replace('2 atom types', '2 atom types\n4 bonds'), /only atom_style atomic data files/],
    ['unknown header', text.replace('2 atom types', '2 atom types\n7 ellipsoids'), /unknown header line '7 ellipsoids'/],
  ];
  for (const [name, bad, pattern] of cases) {
    assert.throws(() => parseLammpsData(bad, 't.data'), (err: Error) => {
      assert.ok(err instanceof FileFormatError, `${name}: ${err}`);
      assert.match(err.message, pattern, name);
      return true;
    });
  }
});

test('configurations are read by extension or, without one, by content', () => {
  const c = glass(10);
  const data = join(dir, 'glass.lammps-file');
  const xyz = join(dir, 'glass.config');
  writeLammpsData(data, c);
  writeExtendedXyz(xyz, c);
  assert.equal(configurationFormat(data), 'lammps-data');
  assert.equal(configurationFormat(xyz), 'xyz');
  assert.equal(configurationFormat(join(dir, 'x.data')), 'lammps-data');
  assert.deepEqual(readConfiguration(data).positions, readConfiguration(xyz).positions);
});

// ---------------------------------------------------------------------------------------------
// qglass quench and the commands on .data files

test('quench: a converged full-precision glass stays exactly as it is; a rounded one converges again', () => {
  const c = glass(10);
  const src = join(dir, 'q10.xyz');
  writeExtendedXyz(src, c);
  const same = join(dir, 'q10-same.xyz');
  const r = qglass('quench', src, '--out', same, '--ftol', '1e-10', '--json');
  assert.equal(r.code, 0, r.stderr);
  const s = JSON.parse(r.stdout);
  assert.equal(s.iterations, 0);
  assert.equal(s.converged, true);
  assert.deepEqual(readExtendedXyz(same).positions, c.positions, 'positions bit for bit');
  assert.equal(s.after.energyPerParticle, s.before.energyPerParticle);

  // 6 decimals: far from the minimum at the measurement tolerance; written as a LAMMPS data file
  const rounded = { ...c, positions: c.positions.map((x) => Number(x.toFixed(6))), meta: {} };
  const roundedPath = join(dir, 'rounded.data');
  writeLammpsData(roundedPath, rounded);
  const out = join(dir, 'requenched.data');
  const q = qglass('quench', roundedPath, '--q', '10', '--out', out, '--json');
  assert.equal(q.code, 0, q.stderr);
  const j = JSON.parse(q.stdout);
  assert.ok(j.before.maxForce > 1e-7, `rounding leaves max |F| = ${j.before.maxForce}`);
  assert.ok(j.after.maxForce < 1e-10 && j.converged && j.iterations > 0);
  const back = readLammpsData(out);
  assert.equal(back.meta.Q, 10, 'Q recorded in the data file written');
  assert.ok(energyOf(back, 10).fmax < 1e-10);
  assert.ok(rel(j.after.energyPerParticle, energyOf(c, 10).e / c.species.length) < 1e-10, 'back in the same minimum');

  const none = qglass('energy', roundedPath);
  assert.equal(none.code, 2);
  assert.match(none.stderr, /no Q=\.\.\. in the file's metadata: pass the q-model law's Q with --q Q/);
  const bad = qglass('quench', roundedPath, '--q', '10', '--out', dir);
  assert.equal(bad.code, 2);
  assert.match(bad.stderr, /exists and is not a regular file/);
});

test('quench: exit 3 and converged: false when the tolerance is out of reach', () => {
  const src = join(dir, 'unreachable.xyz');
  writeExtendedXyz(src, glass(10));
  const out = join(dir, 'unreachable-out.xyz');
  const r = qglass('quench', src, '--out', out, '--ftol', '1e-300', '--json');
  assert.equal(r.code, 3, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.equal(j.converged, false);
  assert.equal(readExtendedXyz(out).meta.converged, false);
});

test('quench --relax-pressure: the box relaxes to |p|/K < 1e-6 at max |F| < ftol', () => {
  const src = join(dir, 'relax.xyz');
  writeExtendedXyz(src, glass(10));
  const out = join(dir, 'relaxed.xyz');
  const r = qglass('quench', src, '--out', out, '--relax-pressure', '--json');
  assert.equal(r.code, 0, r.stderr);
  const j = JSON.parse(r.stdout);
  assert.ok(Math.abs(j.before.pressure) / j.relax.bulkModulus > 1e-4, 'the fixture is not at p = 0');
  assert.ok(j.relax.steps > 0);
  const back = readExtendedXyz(out);
  const { p, fmax } = energyOf(back, 10);
  assert.ok(Math.abs(p) / j.relax.bulkModulus < 1e-6, `p/K = ${p / j.relax.bulkModulus}`);
  assert.ok(fmax < 1e-10);
  assert.notEqual(back.box.lx, glass(10).box.lx);
});

// ---------------------------------------------------------------------------------------------
// The LAMMPS bundle

test('pair table: −φ′ column matches the finite difference of the φ column; φ, φ′ vanish at the cutoff', () => {
  const model = qModel(240);
  const { table, sections } = lammpsBundle(model, 20001, 'test');
  assert.deepEqual(sections.map((s) => s.name), ['SS', 'SL', 'LL']);
  const blocks = table.split(/\n(?=SS\n|SL\n|LL\n)/).slice(1);
  assert.equal(blocks.length, 3);
  const out = new Float64Array(4);
  blocks.forEach((block, t) => {
    const rows = block.trim().split('\n').slice(3).map((l) => l.split(' ').map(Number));
    assert.equal(rows.length, 20001);
    assert.equal(rows.at(-1)![1], model.cutoff[t]);
    assert.equal(rows.at(-1)![2], 0);
    assert.equal(rows.at(-1)![3], 0);
    model.derivatives(t, rows[0][1] ** 2, out);
    assert.ok(out[0] >= 1e4, 'the table starts above 1e4 ε');
    let worst = 0;
    for (let k = 1; k + 1 < rows.length; k += 97) {
      const fd = -(rows[k + 1][2] - rows[k - 1][2]) / (rows[k + 1][1] - rows[k - 1][1]);
      worst = Math.max(worst, Math.abs(fd - rows[k][3]) / (Math.abs(rows[k][3]) + 1));
    }
    assert.ok(worst < 1e-3, `central difference vs −φ′: ${worst}`);
  });
});

const hasLammps = spawnSync('lmp', ['-h'], { stdio: 'ignore' }).status === 0;

function runLammps(cwd: string, input: string): string {
  const r = spawnSync('lmp', ['-in', input, '-log', 'none'], { encoding: 'utf8', cwd });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  return r.stdout;
}

for (const Q of [10, 240]) {
  test(`LAMMPS with the qglass bundle reproduces energy and pressure at Q = ${Q}; write_data reads back to the same energy`, (t) => {
    if (!hasLammps) return t.skip('LAMMPS (lmp) not installed (Debian: apt-get install lammps)');
    const c = glass(Q);
    const src = join(dir, `lmp${Q}.xyz`);
    writeExtendedXyz(src, c);
    const bundle = join(dir, `bundle${Q}`);
    const r = qglass('lammps', src, '--out', bundle, '--json');
    assert.equal(r.code, 0, r.stderr);
    const ours = JSON.parse(r.stdout);
    const stdout = runLammps(bundle, 'in.qglass');
    const value = (key: string) => Number(stdout.match(new RegExp(`^${key} (\\S+)$`, 'm'))![1]);
    const e = value('energyPerParticle'), p = value('pressure');
    assert.ok(rel(e, ours.energyPerParticle) <= 1e-9, `energy/N: LAMMPS ${e}, qglass ${ours.energyPerParticle}`);
    assert.ok(rel(p, ours.pressure) <= 1e-9, `pressure: LAMMPS ${p}, qglass ${ours.pressure}`);

    // qglass → LAMMPS write_data → qglass
    writeFileSync(join(bundle, 'in.write'), readFileSync(join(bundle, 'in.qglass'), 'utf8') + 'write_data written.data\n');
    runLammps(bundle, 'in.write');
    const back = readLammpsData(join(bundle, 'written.data'));
    assert.deepEqual(back.species, c.species);
    const a = energyOf(c, Q), b = energyOf(back, Q);
    assert.ok(rel(b.e, a.e) <= 1e-12, `energy after LAMMPS write_data: ${b.e} vs ${a.e}`);
  });
}

test('the bundle works for any pair law: LAMMPS reproduces a harmonic soft-sphere packing', (t) => {
  if (!hasLammps) return t.skip('LAMMPS (lmp) not installed (Debian: apt-get install lammps)');
  const src = join(dir, 'harmonic.xyz');
  const p = qglass('prepare', '--model', 'harmonic', '--pressure', '1e-2', '--n', '256', '--seed', '3', '--out', src);
  assert.equal(p.code, 0, p.stderr);
  const bundle = join(dir, 'bundle-harmonic');
  const r = qglass('lammps', src, '--out', bundle, '--json');
  assert.equal(r.code, 0, r.stderr);
  const ours = JSON.parse(r.stdout);
  assert.equal(ours.model, 'harmonic');
  assert.match(readFileSync(join(bundle, 'in.qglass'), 'utf8'), /pair_coeff 1 1 phi_harmonic_alpha2\.table SS /);
  const stdout = runLammps(bundle, 'in.qglass');
  const value = (key: string) => Number(stdout.match(new RegExp(`^${key} (\\S+)$`, 'm'))![1]);
  assert.ok(rel(value('energyPerParticle'), ours.energyPerParticle) <= 1e-9, `energy/N: LAMMPS ${value('energyPerParticle')}, qglass ${ours.energyPerParticle}`);
  assert.ok(rel(value('pressure'), ours.pressure) <= 1e-9, `pressure: LAMMPS ${value('pressure')}, qglass ${ours.pressure}`);
});

// ---------------------------------------------------------------------------------------------
// ASE → quench → measure elastic

const SYSTEM_PYTHON = '/usr/bin/python3';
const hasAse = spawnSync(SYSTEM_PYTHON, ['-c', 'import ase'], { stdio: 'ignore' }).status === 0;

for (const Q of [10, 240]) {
  test(`ASE writes the glass with 8 decimals, quench restores it, measure elastic works (Q = ${Q})`, (t) => {
    if (!hasAse) return t.skip('python3-ase not installed (Debian: apt-get install python3-ase)');
    const ours = join(dir, `ase-in-${Q}.xyz`), theirs = join(dir, `ase-out-${Q}.xyz`), fixed = join(dir, `ase-quenched-${Q}.xyz`);
    writeExtendedXyz(ours, glass(Q));
    const py = spawnSync(SYSTEM_PYTHON, ['-c', 'import ase.io, sys; ase.io.write(sys.argv[2], ase.io.read(sys.argv[1]), format="extxyz")', ours, theirs], { encoding: 'utf8' });
    assert.equal(py.status, 0, py.stderr);
    assert.match(readFileSync(theirs, 'utf8').split('\n')[2], /\.\d{8}\s/, 'ASE wrote 8 decimals');
    const refused = qglass('measure', 'elastic', theirs, '--json');
    assert.equal(refused.code, 2, 'the rounded file is not at a minimum');
    const q = qglass('quench', theirs, '--out', fixed, '--json');
    assert.equal(q.code, 0, q.stderr);
    const j = JSON.parse(q.stdout);
    assert.ok(j.before.maxForce > 1e-9 && j.after.maxForce < 1e-10, `max |F| ${j.before.maxForce} → ${j.after.maxForce}`);
    const el = qglass('measure', 'elastic', fixed, '--json');
    assert.equal(el.code, 0, el.stderr);
    const m = JSON.parse(el.stdout);
    assert.equal(m.converged, true);
    // back in the same minimum: the moduli of the original glass
    const ref = measureElastic(systemFromConfiguration(glass(Q), qModel(Q)));
    assert.ok(rel(m.K, ref.K) < 1e-8 && rel(m.G, ref.G) < 1e-8, `K ${m.K} vs ${ref.K}, G ${m.G} vs ${ref.G}`);
  });
}
