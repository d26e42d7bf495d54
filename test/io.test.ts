/**
 * File formats: extended XYZ (exact round trip, species encodings, rotated cells, ASE both ways,
 * clear errors), LAMMPS data files (structure; LAMMPS itself when installed), .npy (numpy both ways).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smallGlass } from './fixtures.ts';
import { computeForces } from '../src/engine/forces.ts';
import { systemFromConfiguration, systemToConfiguration } from '../src/engine/system.ts';
import type { Configuration } from '../src/model/configuration.ts';
import { qModel } from '../src/model/q-model.ts';
import { deform, type Box } from '../src/space/box.ts';
import { writeFileAtomic } from '../src/io/atomic-write.ts';
import { FileFormatError } from '../src/io/format-error.ts';
import { formatExtendedXyz, parseExtendedXyz, readExtendedXyz, writeExtendedXyz } from '../src/io/xyz.ts';
import { formatLammpsData, writeLammpsData } from '../src/io/lammps-data.ts';
import { formatNpy, parseNpy, readNpy, writeNpy } from '../src/io/npy.ts';
import { UserError } from '../src/cli/errors.ts';

const Q = 10;
const dir = mkdtempSync(join(tmpdir(), 'qglass-io-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const META = {
  Q, density: 0.55, seed: 1, densityMode: 'zero-pressure', converged: true, relaxed: false,
  pressure: -3.2e-14, tiny: 5e-324, version: '0.1.0', numericString: '240', note: 'two words, a "quote" and a \\ backslash',
};

function glassConf(): Configuration {
  return systemToConfiguration(smallGlass(Q).system, { ...META });
}

/** The glass under a homogeneous shear with all three tilts. */
function shearedConf(): Configuration {
  const c = glassConf();
  const d = deform(c.box, c.positions, [0, 0.05, -0.02, 0, 0, 0.03, 0, 0, 0]);
  return { ...c, box: d.box, positions: d.pos };
}

function energyOf(conf: Configuration): number {
  return computeForces(systemFromConfiguration(conf, qModel(Q)));
}

function assertBitExact(actual: Configuration, expected: Configuration): void {
  assert.deepEqual(actual.box, expected.box);
  assert.deepEqual(actual.species, expected.species);
  assert.equal(actual.positions.length, expected.positions.length);
  for (let k = 0; k < expected.positions.length; k++) {
    if (!Object.is(actual.positions[k], expected.positions[k])) assert.fail(`coordinate ${k}: ${actual.positions[k]} != ${expected.positions[k]}`);
  }
  assert.deepEqual(actual.meta, expected.meta);
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

// ---------------------------------------------------------------------------------------------
// Extended XYZ

test('extended XYZ round trip of a quenched glass is bit-exact (positions, box, species, metadata)', () => {
  const conf = glassConf();
  const path = join(dir, 'glass.xyz');
  writeExtendedXyz(path, conf);
  assertBitExact(readExtendedXyz(path), conf);
  assert.ok(readdirSync(dir).every((f) => !f.endsWith('.tmp')), 'no temporary file is left behind');
  const header = readFileSync(path, 'utf8').split('\n')[1];
  assert.match(header, /Properties=species:S:1:pos:R:3/);
  assert.match(header, / Q=10 /, 'numbers are written unquoted');
  assert.match(header, /numericString="240"/, 'strings are always quoted, so they read back as strings');
});

test('extended XYZ keeps -0, subnormal and extreme coordinates exactly', () => {
  const conf: Configuration = {
    box: { lx: 3.1, ly: 2.9, lz: 1e-3, xy: -0.1, xz: 1e-17, yz: 0 },
    positions: Float64Array.from([-0, 5e-324, 1e300, 0.1 + 0.2, -1 / 3, 2 ** -1074, 1e21, -7.5e-8, Math.PI]),
    species: Uint8Array.from([0, 1, 0]),
    meta: { nanValue: NaN, inf: Infinity, ninf: -Infinity, flag: true },
  };
  assertBitExact(parseExtendedXyz(formatExtendedXyz(conf)), conf);
});

test('a sheared (triclinic) glass round-trips exactly and keeps its energy', () => {
  const conf = shearedConf();
  assert.notEqual(conf.box.xy, 0);
  const back = parseExtendedXyz(formatExtendedXyz(conf));
  assertBitExact(back, conf);
  assert.equal(energyOf(back), energyOf(conf));
});

const FOUR_ATOMS = { box: { lx: 4, ly: 5, lz: 6, xy: 0, xz: 0, yz: 0 }, species: [0, 1, 1, 0], pos: [0.5, 1, 1.5, 2, 2.5, 3, 3.5, 4, 4.5, 1.25, 0, 5.75] };

function fourAtomText(properties: string, row: (i: number, x: string, y: string, z: string, s: number) => string, extra = ''): string {
  const lines = ['4', `Lattice="4 0 0 0 5 0 0 0 6" Properties=${properties} ${extra}`.trim()];
  for (let i = 0; i < 4; i++) {
    const [x, y, z] = FOUR_ATOMS.pos.slice(3 * i, 3 * i + 3).map(String);
    lines.push(row(i, x, y, z, FOUR_ATOMS.species[i]));
  }
  return lines.join('\n') + '\n';
}

test('species from S/L labels, H/He symbols, Z or type columns, in any column order', () => {
  const variants: Record<string, string> = {
    'species S/L': fourAtomText('species:S:1:pos:R:3', (_, x, y, z, s) => `${'SL'[s]} ${x} ${y} ${z}`),
    'species h/HE': fourAtomText('species:S:1:pos:R:3', (_, x, y, z, s) => `${['h', 'HE'][s]} ${x} ${y} ${z}`),
    'Z column': fourAtomText('Z:I:1:pos:R:3', (_, x, y, z, s) => `${s + 1} ${x} ${y} ${z}`),
    'type column after pos, extra columns': fourAtomText('id:I:1:pos:R:3:forces:R:3:type:I:1:tag:S:1',
      (i, x, y, z, s) => `${i + 7} ${x} ${y} ${z} 0.1 -0.2 3e-5 ${s + 1} mark`),
    'species, Z and type agreeing': fourAtomText('pos:R:3:type:I:1:species:S:1:Z:I:1',
      (_, x, y, z, s) => `${x}\t${y}  ${z} ${s + 1} ${['H', 'He'][s]} ${s + 1}`),
  };
  for (const [name, text] of Object.entries(variants)) {
    const conf = parseExtendedXyz(text, name);
    assert.deepEqual([...conf.species], FOUR_ATOMS.species, name);
    assert.deepEqual([...conf.positions], FOUR_ATOMS.pos, name);
    assert.deepEqual(conf.box, FOUR_ATOMS.box, name);
  }
});

test('comment-line metadata: numbers, booleans, quoted strings, escapes, bare flags; CRLF lines', () => {
  const text = fourAtomText('species:S:1:pos:R:3', (_, x, y, z, s) => `${'SL'[s]} ${x} ${y} ${z}`,
    `Q=240 energy=-1.25e3 converged=T relaxed=F name="glass #7" quoted="240" path='a b' esc="say \\"hi\\"" stress="1 2 3 4 5 6 7 8 9" flag pbc="T T T"`)
    .replace(/\n/g, '\r\n');
  const conf = parseExtendedXyz(text);
  assert.deepEqual(conf.meta, {
    Q: 240, energy: -1250, converged: true, relaxed: false, name: 'glass #7', quoted: '240', path: 'a b',
    esc: 'say "hi"', stress: '1 2 3 4 5 6 7 8 9', flag: true,
  });
  assert.equal(conf.positions[8], 4.5);
});

/** Rotation about a generic axis, row-major. */
function rotationMatrix(axis: [number, number, number], angle: number): number[] {
  const n = Math.hypot(...axis);
  const [x, y, z] = axis.map((v) => v / n);
  const c = Math.cos(angle), s = Math.sin(angle), t = 1 - c;
  return [t * x * x + c, t * x * y - s * z, t * x * z + s * y, t * x * y + s * z, t * y * y + c, t * y * z - s * x, t * x * z - s * y, t * y * z + s * x, t * z * z + c];
}

/** Extended XYZ text of conf with cell and positions transformed by the 3×3 matrix m (row-major). */
function transformedText(conf: Configuration, m: number[]): string {
  const apply = (x: number, y: number, z: number) => [m[0] * x + m[1] * y + m[2] * z, m[3] * x + m[4] * y + m[5] * z, m[6] * x + m[7] * y + m[8] * z];
  const { lx, ly, lz, xy, xz, yz } = conf.box;
  const lattice = [...apply(lx, 0, 0), ...apply(xy, ly, 0), ...apply(xz, yz, lz)];
  const lines = [String(conf.species.length), `Lattice="${lattice.join(' ')}" Properties=species:S:1:pos:R:3 pbc="T T T"`];
  for (let i = 0; i < conf.species.length; i++) {
    const p = conf.positions;
    lines.push(`${'SL'[conf.species[i]]} ${apply(p[3 * i], p[3 * i + 1], p[3 * i + 2]).join(' ')}`);
  }
  return lines.join('\n') + '\n';
}

test('a rotated cell is rotated back to upper-triangular form; a mirrored cell keeps every distance', () => {
  const conf = shearedConf();
  const e0 = energyOf(conf);
  const rotated = parseExtendedXyz(transformedText(conf, rotationMatrix([1, -2, 0.5], 0.9)));
  for (const k of ['lx', 'ly', 'lz', 'xy', 'xz', 'yz'] as const) {
    assert.ok(Math.abs(rotated.box[k] - conf.box[k]) < 1e-12, `${k}: ${rotated.box[k]} vs ${conf.box[k]}`);
  }
  assert.ok(maxAbsDiff(rotated.positions, conf.positions) < 1e-12);
  assert.ok(Math.abs(energyOf(rotated) - e0) < 1e-10 * Math.abs(e0));

  const mirror = [-1, 0, 0, 0, 1, 0, 0, 0, 1];
  const mirrored = parseExtendedXyz(transformedText(conf, mirror));
  assert.ok(mirrored.box.lx > 0 && mirrored.box.ly > 0 && mirrored.box.lz > 0);
  assert.ok(Math.abs(energyOf(mirrored) - e0) < 1e-10 * Math.abs(e0), 'a mirror image has the same energy');
});

test('malformed extended XYZ gives an error naming the file and the line', () => {
  const good = fourAtomText('species:S:1:pos:R:3', (_, x, y, z, s) => `${'SL'[s]} ${x} ${y} ${z}`);
  const lines = good.split('\n');
  const edit = (k: number, text: string) => lines.map((l, j) => (j === k ? text : l)).join('\n');
  const cases: [string, string, number, RegExp][] = [
    ['empty file', '', 1, /number of atoms/],
    ['atom count not a number', edit(0, 'four'), 1, /number of atoms.*'four'/],
    ['zero atoms', edit(0, '0'), 1, /positive integer/],
    ['no comment line', '4\n', 2, /comment line/],
    ['truncated', lines.slice(0, 4).join('\n') + '\n', 5, /ends after 2 of the 4 atoms.*truncated/],
    ['truncated by blank lines', lines.slice(0, 5).join('\n') + '\n\n\n', 6, /ends after 3 of the 4 atoms/],
    ['missing Lattice', edit(1, 'Properties=species:S:1:pos:R:3 Q=3'), 2, /no Lattice/],
    ['Lattice with 8 numbers', edit(1, 'Lattice="4 0 0 0 5 0 0 0" Properties=species:S:1:pos:R:3'), 2, /9 numbers/],
    ['degenerate Lattice', edit(1, 'Lattice="4 0 0 8 0 0 0 0 6"'), 2, /linearly dependent/],
    ['pbc not all true', edit(1, 'Lattice="4 0 0 0 5 0 0 0 6" pbc="T T F"'), 2, /fully periodic/],
    ['unterminated quote', edit(1, 'Lattice="4 0 0 0 5 0 0 0 6'), 2, /unterminated/],
    ['no pos column', edit(1, 'Lattice="4 0 0 0 5 0 0 0 6" Properties=species:S:1:xyz:R:3'), 2, /pos:R:3/],
    ['no species column', edit(1, 'Lattice="4 0 0 0 5 0 0 0 6" Properties=mass:R:1:pos:R:3'), 2, /no species column/],
    ['bad property type', edit(1, 'Lattice="4 0 0 0 5 0 0 0 6" Properties=species:X:1:pos:R:3'), 2, /type 'X'/],
    ['unknown species', edit(3, 'A 2 2.5 3'), 4, /unknown species 'A'/],
    ['too few columns', edit(4, 'L 3.5 4'), 5, /expected 4 columns .* found 3/],
    ['too many columns', edit(2, 'S 0.5 1 1.5 9'), 3, /expected 4 columns .* found 5/],
    ['non-numeric coordinate', edit(5, 'S 1.25 zero 5.75'), 6, /not a number: 'zero'/],
    ['hex coordinate', edit(5, 'S 0x10 0 5.75'), 6, /not a number/],
    ['blank atom line', edit(3, ''), 4, /found 0/],
    ['atoms beyond the count', good + 'S 1 1 1\n', 7, /unexpected content after the 4 atoms/],
  ];
  for (const [name, text, line, pattern] of cases) {
    assert.throws(() => parseExtendedXyz(text, 'bad.xyz'), (err: unknown) => {
      assert.ok(err instanceof FileFormatError && err instanceof UserError, `${name}: ${String(err)}`);
      assert.equal(err.line, line, `${name}: line of "${err.message}"`);
      assert.ok(err.message.startsWith(`bad.xyz:${line}: `), `${name}: ${err.message}`);
      assert.match(err.message, pattern, name);
      return true;
    }, name);
  }
  const zText = fourAtomText('Z:I:1:pos:R:3', (i, x, y, z, s) => `${i === 2 ? 3 : s + 1} ${x} ${y} ${z}`);
  assert.throws(() => parseExtendedXyz(zText, 'z.xyz'), /^FileFormatError: z\.xyz:5: Z = 3; must be 1 \(small\) or 2 \(large\)/);
  const clash = fourAtomText('species:S:1:pos:R:3:type:I:1', (i, x, y, z, s) => `${'SL'[s]} ${x} ${y} ${z} ${i === 1 ? 1 : s + 1}`);
  assert.throws(() => parseExtendedXyz(clash, 'c.xyz'), /c\.xyz:4: type = 1 disagrees/);
  assert.throws(() => readExtendedXyz(join(dir, 'missing.xyz')), (err: unknown) => err instanceof UserError && /missing\.xyz': no such file/.test(err.message));
});

test('writing refuses what the format cannot hold', () => {
  const conf = glassConf();
  assert.throws(() => formatExtendedXyz({ ...conf, meta: { Lattice: 'x' } }), /reserved/);
  assert.throws(() => formatExtendedXyz({ ...conf, meta: { 'two words': 1 } }), /metadata key/);
  assert.throws(() => formatExtendedXyz({ ...conf, meta: { note: 'line\nbreak' } }), /line break/);
  const bad = conf.positions.slice();
  bad[7] = NaN;
  assert.throws(() => formatExtendedXyz({ ...conf, positions: bad }), /particle 2 has a non-finite position/);
  assert.throws(() => formatExtendedXyz({ ...conf, species: Uint8Array.from(conf.species, (s, i) => (i === 3 ? 2 : s)) }), /species\[3\] = 2/);
});

test('atomic write replaces the whole file and leaves no temporary behind', () => {
  const path = join(dir, 'atomic.txt');
  writeFileAtomic(path, 'old content that is longer than the new one');
  writeFileAtomic(path, new TextEncoder().encode('new'));
  assert.equal(readFileSync(path, 'utf8'), 'new');
  assert.throws(() => writeFileAtomic(join(dir, 'no-such-dir', 'x.txt'), 'x'), /ENOENT/);
  assert.deepEqual(readdirSync(dir).filter((f) => f.includes('.tmp')), []);
});

// ---------------------------------------------------------------------------------------------
// ASE (Debian's python3-ase) reading our files and writing files we read

const SYSTEM_PYTHON = '/usr/bin/python3';
const hasAse = spawnSync(SYSTEM_PYTHON, ['-c', 'import ase'], { stdio: 'ignore' }).status === 0;

function python(script: string, ...args: string[]): string {
  const r = spawnSync(SYSTEM_PYTHON, ['-c', script, ...args], { encoding: 'utf8' });
  if (r.status !== 0) assert.fail(`python failed (${r.status}): ${r.stderr}`);
  return r.stdout;
}

test('ASE reads our extended XYZ exactly: cell, positions, H/He symbols, metadata', (t) => {
  if (!hasAse) return t.skip('python3-ase not installed');
  const conf = shearedConf();
  const path = join(dir, 'for-ase.xyz');
  writeExtendedXyz(path, conf);
  const out = JSON.parse(python(`
import ase.io, json, sys
a = ase.io.read(sys.argv[1])
info = {k: (v.item() if hasattr(v, 'item') else v) for k, v in a.info.items()}
print(json.dumps({'cell': a.cell.array.tolist(), 'pos': a.positions.ravel().tolist(), 'numbers': a.numbers.tolist(),
                  'symbols': sorted(set(a.get_chemical_symbols())), 'pbc': a.pbc.tolist(), 'info': info}))
`, path));
  const { lx, ly, lz, xy, xz, yz } = conf.box;
  assert.deepEqual(out.cell, [[lx, 0, 0], [xy, ly, 0], [xz, yz, lz]]);
  assert.deepEqual(out.pos, [...conf.positions]);
  assert.deepEqual(out.numbers, Array.from(conf.species, (s) => s + 1), 'small = H (Z 1), large = He (Z 2)');
  assert.deepEqual(out.symbols, ['H', 'He']);
  assert.deepEqual(out.pbc, [true, true, true]);
  assert.equal(out.info.Q, Q);
  assert.equal(out.info.converged, true);
  assert.equal(out.info.densityMode, 'zero-pressure');
  assert.equal(out.info.note, META.note);
});

test('we read what ASE writes: rotated cell, calculator results, an extra type column', (t) => {
  if (!hasAse) return t.skip('python3-ase not installed');
  const conf = shearedConf();
  const ours = join(dir, 'to-ase.xyz');
  const theirs = join(dir, 'from-ase.xyz');
  writeExtendedXyz(ours, conf);
  python(`
import ase.io, sys, numpy as np
from ase.calculators.singlepoint import SinglePointCalculator
a = ase.io.read(sys.argv[1])
a.new_array('type', a.numbers.astype(int))
a.calc = SinglePointCalculator(a, energy=-146.25, free_energy=-146.5, forces=np.zeros((len(a), 3)))
a.rotate(40, (1, 2, 3), rotate_cell=True)
ase.io.write(sys.argv[2], a, format='extxyz')
`, ours, theirs);
  const header = readFileSync(theirs, 'utf8').split('\n')[1];
  assert.match(header, /Properties=\S*type:I:1/);
  assert.match(header, /Properties=\S*forces:R:3/);
  const back = readExtendedXyz(theirs);
  assert.deepEqual(back.species, conf.species);
  for (const k of ['lx', 'ly', 'lz', 'xy', 'xz', 'yz'] as const) assert.ok(Math.abs(back.box[k] - conf.box[k]) < 1e-12, k);
  // ASE prints positions with 8 decimals
  assert.ok(maxAbsDiff(back.positions, conf.positions) < 2e-8);
  const e0 = energyOf(conf);
  assert.ok(Math.abs(energyOf(back) - e0) < 1e-9 * Math.abs(e0), 'same glass, same energy');
  assert.equal(back.meta.energy, -146.25);
  assert.equal(back.meta.free_energy, -146.5);
  assert.equal(back.meta.Q, Q);
  assert.equal(back.meta.version, '0.1.0');
});

// ---------------------------------------------------------------------------------------------
// LAMMPS data files

interface ParsedData { atoms: number; types: number; bounds: number[][]; tilt?: number[]; masses: string[]; rows: number[][] }

function parseData(text: string): ParsedData {
  const lines = text.split('\n');
  const find = (re: RegExp) => lines.find((l) => re.test(l));
  const section = (name: string) => lines.indexOf(name);
  const atoms = Number(find(/^\d+ atoms$/)!.split(' ')[0]);
  const types = Number(find(/^\d+ atom types$/)!.split(' ')[0]);
  const bounds = ['x', 'y', 'z'].map((d) => find(new RegExp(` ${d}lo ${d}hi$`))!.split(' ').slice(0, 2).map(Number));
  const tiltLine = find(/ xy xz yz$/);
  const m = section('Masses');
  const a = section('Atoms # atomic');
  assert.ok(m > 0 && a > m, 'Masses and Atoms sections present');
  assert.equal(lines[m + 1], '');
  assert.equal(lines[a + 1], '');
  const rows = lines.slice(a + 2).filter((l) => l !== '').map((l) => l.split(' ').map(Number));
  return { atoms, types, bounds, tilt: tiltLine?.split(' ').slice(0, 3).map(Number), masses: lines.slice(m + 2, m + 4), rows };
}

test('LAMMPS data file: counts, box, masses, one atomic line per particle with type = species + 1', () => {
  const conf = glassConf();
  const d = parseData(formatLammpsData(conf));
  const n = conf.species.length;
  assert.equal(d.atoms, n);
  assert.equal(d.types, 2);
  assert.deepEqual(d.bounds, [[0, conf.box.lx], [0, conf.box.ly], [0, conf.box.lz]]);
  assert.equal(d.tilt, undefined, 'no tilt line for an orthogonal box');
  assert.deepEqual(d.masses, ['1 1.0', '2 1.0']);
  assert.equal(d.rows.length, n);
  for (let i = 0; i < n; i++) {
    assert.deepEqual(d.rows[i], [i + 1, conf.species[i] + 1, conf.positions[3 * i], conf.positions[3 * i + 1], conf.positions[3 * i + 2]]);
  }
});

test('LAMMPS data file of a triclinic box: tilt line, large tilts reduced to an equivalent lattice', () => {
  const conf = shearedConf();
  assert.deepEqual(parseData(formatLammpsData(conf)).tilt, [conf.box.xy, conf.box.xz, conf.box.yz]);
  const big: Box = { ...conf.box, xy: 0.8 * conf.box.lx, xz: -0.3 * conf.box.lx, yz: 0.7 * conf.box.ly };
  const [xy, xz, yz] = parseData(formatLammpsData({ ...conf, box: big })).tilt!;
  const { lx, ly } = big;
  assert.ok(Math.abs(xy) <= lx / 2 && Math.abs(xz) <= lx / 2 && Math.abs(yz) <= ly / 2, `${xy} ${xz} ${yz}`);
  // c − k·b and b − p·a: the differences are whole lattice vectors
  const whole = (v: number) => Math.abs(v - Math.round(v)) < 1e-12;
  const k = (big.yz - yz) / ly;
  assert.ok(whole(k) && Math.round(k) !== 0);
  assert.ok(whole((big.xz - k * big.xy - xz) / lx));
  assert.ok(whole((big.xy - xy) / lx) && Math.round((big.xy - xy) / lx) !== 0);
});

const hasLammps = spawnSync('lmp', ['-h'], { stdio: 'ignore' }).status === 0;

test('LAMMPS read_data reads our triclinic glass: atoms, box, tilts and type counts', (t) => {
  if (!hasLammps) return t.skip('LAMMPS (lmp) not installed');
  const conf = shearedConf();
  const data = join(dir, 'glass.data');
  writeLammpsData(data, conf);
  const input = join(dir, 'in.read');
  writeFileSync(input, [
    'units lj', 'atom_style atomic', 'boundary p p p', `read_data ${data}`,
    'pair_style zero 1.0', 'pair_coeff * *', 'group small type 1', 'group large type 2',
    'variable ns equal count(small)', 'variable nl equal count(large)',
    'thermo_style custom atoms lx ly lz xy xz yz v_ns v_nl', 'thermo_modify format float %.17g', 'run 0', '',
  ].join('\n'));
  const r = spawnSync('lmp', ['-in', input, '-log', 'none', '-echo', 'none'], { encoding: 'utf8', cwd: dir });
  assert.equal(r.status, 0, r.stdout + r.stderr);
  const lines = r.stdout.split('\n');
  const h = lines.findIndex((l) => /^\s*Atoms\s+Lx/.test(l));
  assert.ok(h >= 0, r.stdout);
  const v = lines[h + 1].trim().split(/\s+/).map(Number);
  const small = conf.species.filter((s) => s === 0).length;
  const { lx, ly, lz, xy, xz, yz } = conf.box;
  assert.deepEqual(v, [conf.species.length, lx, ly, lz, xy, xz, yz, small, conf.species.length - small]);
});

// ---------------------------------------------------------------------------------------------
// .npy

test('npy round trip of float64, int32 and float32 arrays of any rank', () => {
  const cases: [Float64Array | Int32Array | Float32Array, number[]][] = [
    [Float64Array.from({ length: 24 }, (_, i) => Math.sin(i) * 10 ** (i - 12)), [2, 3, 4]],
    [Float64Array.from([-0, NaN, Infinity, 5e-324]), [4]],
    [Int32Array.from([1, -2, 2147483647, -2147483648, 0, 7]), [3, 2]],
    [Float32Array.from([1.5]), []],
    [new Float64Array(0), [0, 3]],
  ];
  for (const [data, shape] of cases) {
    const path = join(dir, 'a.npy');
    writeNpy(path, data, shape);
    assert.equal((readFileSync(path).indexOf(0x0a) + 1) % 64, 0, 'the data start at a multiple of 64 bytes');
    const back = readNpy(path);
    assert.deepEqual(back.shape, shape);
    assert.equal(back.data.constructor, data.constructor);
    assert.deepEqual(back.data, data);
  }
  assert.throws(() => formatNpy(new Float64Array(5), [2, 3]), /holds 6 elements but the data has 5/);
});

const hasNumpy = spawnSync('python3', ['-c', 'import numpy'], { stdio: 'ignore' }).status === 0;

test('numpy loads our .npy exactly and writes byte-identical files for the same arrays', (t) => {
  if (!hasNumpy) return t.skip('python3 with numpy not available');
  const vectors = Float64Array.from({ length: 3 * 256 }, (_, i) => Math.cos(i * 0.37) / (i + 1));
  const ids = Int32Array.from({ length: 10 }, (_, i) => i * i - 40);
  const ours = [join(dir, 'v.npy'), join(dir, 'i.npy')];
  writeNpy(ours[0], vectors, [256, 3]);
  writeNpy(ours[1], ids, [10]);
  const theirs = ours.map((p) => p.replace('.npy', '.numpy.npy'));
  const out = spawnSync('python3', ['-c', `
import numpy as np, sys
for src, dst in zip(sys.argv[1:3], sys.argv[3:5]):
    a = np.load(src)
    assert a.flags['C_CONTIGUOUS']
    print(a.dtype.str, a.shape, repr(float(a.ravel()[1])))
    np.save(dst, a)
`, ...ours, ...theirs], { encoding: 'utf8' });
  assert.equal(out.status, 0, out.stderr);
  assert.deepEqual(out.stdout.trim().split('\n'), [`<f8 (256, 3) ${vectors[1]}`, '<i4 (10,) -39.0']);
  for (let k = 0; k < 2; k++) assert.deepEqual(readFileSync(theirs[k]), readFileSync(ours[k]), 'byte-identical to numpy.save');
});

test('malformed .npy files give clear errors', () => {
  const good = formatNpy(Float64Array.from([1, 2, 3, 4]), [2, 2]);
  const header = new TextDecoder().decode(good.subarray(10, 10 + (good[8] | (good[9] << 8))));
  const withHeader = (h: string) => {
    const out = good.slice();
    const padded = h.padEnd(header.length - 1, ' ') + '\n';
    for (let k = 0; k < padded.length; k++) out[10 + k] = padded.charCodeAt(k);
    return out;
  };
  const cases: [string, Uint8Array, RegExp][] = [
    ['not npy', new TextEncoder().encode('hello world, not numpy'), /magic/],
    ['truncated data', good.subarray(0, good.length - 8), /needs 32 data bytes, the file has 24 \(truncated\?\)/],
    ['truncated header', good.subarray(0, 40), /header claims/],
    ['version 9', Uint8Array.from(good, (b, k) => (k === 6 ? 9 : b)), /version 9\.0/],
    ['big-endian', withHeader(header.replace('<f8', '>f8')), /'>f8' is not supported/],
    ['fortran order', withHeader(header.replace('False', 'True')), /Fortran-ordered/],
    ['no shape', withHeader("{'descr': '<f8', 'fortran_order': False, }"), /malformed header/],
  ];
  for (const [name, bytes, pattern] of cases) {
    assert.throws(() => parseNpy(bytes, 'x.npy'), (err: unknown) => err instanceof FileFormatError && err.message.startsWith('x.npy: ') && pattern.test(err.message), name);
  }
  assert.throws(() => readNpy(join(dir, 'absent.npy')), /absent\.npy': no such file/);
});
