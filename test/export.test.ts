/**
 * Exports read back by other tools: a small real campaign exported as HDF5 (read with h5py, or with
 * h5wasm when h5py is absent) holds every number of the JSON export in its place; CSV has one column
 * per array element and no JSON in cells; Parquet holds the CSV columns; the Hessian exported by
 * `measure modes --hessian` has the exported modes and NQLEs as its eigenvectors and Rayleigh quotients.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { smallGlass } from './fixtures.ts';
import { systemToConfiguration } from '../src/engine/system.ts';
import { writeExtendedXyz } from '../src/io/xyz.ts';
import { readNpy } from '../src/io/npy.ts';
import { readMatrixMarket, type CoordinateMatrix } from '../src/io/matrix-market.ts';

const dir = mkdtempSync(join(tmpdir(), 'qglass-export-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));
const bin = new URL('../bin/qglass.mjs', import.meta.url).pathname;

function qglass(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', env: { ...process.env, CI: '1' }, maxBuffer: 1 << 28 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

// One small campaign with every measurement, shared by the export tests.
const camp = join(dir, 'camp');
let records: Record<string, unknown>[] | null = null;
function campaignRecords(): Record<string, unknown>[] {
  if (records) return records;
  let r = qglass('campaign', 'init', camp, '--q', '10', '--n', '256', '--samples', '2', '--nve-time', '1', '--modes', '6', '--nqle', '2');
  assert.equal(r.code, 0, r.stderr);
  r = qglass('campaign', 'run', camp, '--workers', '1');
  assert.equal(r.code, 0, r.stderr);
  r = qglass('campaign', 'export', camp, '--format', 'json');
  assert.equal(r.code, 0, r.stderr);
  records = JSON.parse(r.stdout) as Record<string, unknown>[];
  assert.equal(records.length, 2);
  return records;
}

// ---------------------------------------------------------------------------------------------
// HDF5

interface DumpedDataset { shape: number[]; data: unknown[]; attrs: Record<string, unknown> }
interface Dump { attrs: Record<string, unknown>; datasets: Record<string, DumpedDataset> }

const SYSTEM_PYTHON = '/usr/bin/python3';
const hasH5py = spawnSync(SYSTEM_PYTHON, ['-c', 'import h5py'], { stdio: 'ignore' }).status === 0;

/** Every dataset of the file, flattened (NaN as null, strings decoded), with its attributes. */
async function dumpHdf5(path: string): Promise<Dump> {
  if (hasH5py) {
    const r = spawnSync(SYSTEM_PYTHON, ['-c', `
import h5py, json, math, sys
def plain(v):
    if isinstance(v, bytes): return v.decode()
    if hasattr(v, 'item'): v = v.item()
    if isinstance(v, bytes): return v.decode()
    if isinstance(v, float) and math.isnan(v): return None
    return v
out = {'attrs': {k: plain(v) for k, v in h5py.File(sys.argv[1]).attrs.items()}, 'datasets': {}}
def visit(name, obj):
    if isinstance(obj, h5py.Dataset):
        out['datasets'][name] = {'shape': list(obj.shape), 'data': [plain(x) for x in obj[()].ravel()], 'attrs': {k: plain(v) for k, v in obj.attrs.items()}}
h5py.File(sys.argv[1]).visititems(visit)
print(json.dumps(out))
`, path], { encoding: 'utf8', maxBuffer: 1 << 28 });
    assert.equal(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as Dump;
  }
  const { default: h5wasm } = await import('h5wasm/node');
  await h5wasm.ready;
  const f = new h5wasm.File(path, 'r');
  const attrs = (o: { attrs: Record<string, { value: unknown }> }) => Object.fromEntries(Object.entries(o.attrs).map(([k, a]) => [k, plainValue(a.value)]));
  const dump: Dump = { attrs: attrs(f as never), datasets: {} };
  const visit = (g: InstanceType<typeof h5wasm.Group>, prefix: string) => {
    for (const k of g.keys()) {
      const o = g.get(k)!;
      const name = prefix + k;
      if (o instanceof h5wasm.Group) visit(o, `${name}/`);
      else if (o instanceof h5wasm.Dataset) {
        const v = o.value as ArrayLike<unknown>;
        dump.datasets[name] = { shape: o.shape ?? [], data: Array.from(v, plainValue), attrs: attrs(o as never) };
      }
    }
  };
  visit(f, '');
  f.close();
  return dump;
}

function plainValue(v: unknown): unknown {
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number' && Number.isNaN(v)) return null;
  return v;
}

/** Every value of the JSON records is in the HDF5 columns, in its sample's row (tables: rows with that sample). */
function compareRecord(value: unknown, path: string, row: number, dump: Dump, seen: Set<string>): void {
  if (value === null || value === undefined) return;
  if (Array.isArray(value) && value.length > 0 && value.every((e) => e !== null && typeof e === 'object' && !Array.isArray(e))) {
    const sample = dump.datasets[`${path}/sample`];
    assert.ok(sample, `table ${path}`);
    const rows = sample.data.flatMap((s, k) => (s === row ? [k] : []));
    assert.equal(rows.length, value.length, `${path}: rows of sample ${row}`);
    value.forEach((e, k) => compareRecord(e, path, rows[k], dump, seen));
    return;
  }
  if (typeof value === 'object' && !Array.isArray(value)) {
    for (const [k, v] of Object.entries(value)) compareRecord(v, `${path}/${k}`, row, dump, seen);
    return;
  }
  const ds = dump.datasets[path];
  assert.ok(ds, `no dataset ${path}`);
  seen.add(path);
  const width = ds.shape.slice(1).reduce((a, b) => a * b, 1);
  const flat = Array.isArray(value) ? (value as unknown[]).flat() : [value];
  const inner = ds.shape.slice(1);
  flat.forEach((v, k) => {
    // position of element k inside this sample's block (arrays may be padded to the longest)
    let at = k;
    if (Array.isArray(value) && Array.isArray(value[0])) at = Math.floor(k / (value[0] as unknown[]).length) * inner[1] + (k % (value[0] as unknown[]).length);
    const got = ds.data[row * width + at];
    const want = typeof v === 'boolean' ? (v ? 1 : 0) : v;
    assert.equal(got, want, `${path}[${row}] element ${k}`);
  });
}

test('HDF5 export: every number of the JSON export in its column, shapes (n, …), units and the campaign as attributes', async () => {
  const recs = campaignRecords();
  const out = join(dir, 'camp.h5');
  const r = qglass('campaign', 'export', camp, '--format', 'hdf5', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const dump = await dumpHdf5(out);
  const seen = new Set<string>();
  recs.forEach((rec, i) => compareRecord(rec, 'samples', i, dump, seen));
  assert.ok(seen.size > 100, `${seen.size} datasets compared`);
  const shape = (p: string) => dump.datasets[`samples/${p}`].shape;
  assert.deepEqual(shape('voigt'), [2, 6, 6]);
  assert.deepEqual(shape('modes/omega2'), [2, 6]);
  assert.deepEqual(shape('modes/participation'), [2, 6]);
  assert.equal(shape('gr/gLL')[0], 2);
  assert.equal(shape('K').length, 1);
  assert.equal(dump.datasets['samples/K'].attrs.units, 'ε/λ³');
  assert.equal(dump.datasets['samples/modes/omega2'].attrs.units, '1/τ²');
  assert.equal(dump.datasets['samples/gr/r'].attrs.units, 'a0');
  assert.deepEqual(JSON.parse(String(dump.attrs.campaign)), JSON.parse(readFileSync(join(camp, 'campaign.json'), 'utf8')));
  assert.equal(dump.attrs['protocol.ftol'], 1e-10);
  assert.equal(dump.attrs.format, 'qglass-campaign-export');
});

test('campaign NQLE artefacts: ω² sidecar row for row with the vectors and the catalog', () => {
  const recs = campaignRecords();
  for (const rec of recs) {
    const artefacts = rec.artefacts as Record<string, string>;
    const omega2 = readNpy(join(camp, artefacts.nqleOmega2));
    const vectors = readNpy(join(camp, artefacts.nqle));
    const modes = (rec.nqle as { modes: { omega2: number }[] }).modes;
    assert.deepEqual(omega2.shape, [modes.length]);
    assert.equal(vectors.shape[0], modes.length);
    assert.deepEqual(Array.from(omega2.data as Float64Array), modes.map((m) => m.omega2));
  }
});

// ---------------------------------------------------------------------------------------------
// CSV and Parquet

function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], cell = '', quoted = false;
  for (let k = 0; k < text.length; k++) {
    const c = text[k];
    if (quoted) {
      if (c === '"' && text[k + 1] === '"') { cell += '"'; k++; } else if (c === '"') quoted = false; else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') { row.push(cell); cell = ''; }
    else if (c === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; }
    else cell += c;
  }
  return rows;
}

test('CSV export: arrays one column per element (voigt_11 … voigt_66, modes.omega2_k), long curves left out with a note, no JSON in cells', () => {
  const recs = campaignRecords();
  const r = qglass('campaign', 'export', camp, '--format', 'csv');
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stderr, /not CSV columns \(gr\.r, gr\.gLL, gr\.gSL, gr\.gSS\); they are in --format hdf5 and json/);
  const [header, ...rows] = parseCsv(r.stdout);
  assert.equal(rows.length, 2);
  for (const row of rows) {
    assert.equal(row.length, header.length);
    for (const cell of row) assert.ok(!/^[[{]/.test(cell), `JSON in a cell: ${cell.slice(0, 40)}`);
  }
  const col = (name: string) => { const k = header.indexOf(name); assert.ok(k >= 0, `column ${name}`); return k; };
  for (let I = 1; I <= 6; I++) for (let J = 1; J <= 6; J++) col(`voigt_${I}${J}`);
  assert.ok(!header.includes('gr.gLL') && !header.some((h) => h.startsWith('gr.gLL_')));
  recs.forEach((rec, i) => {
    assert.equal(Number(rows[i][col('voigt_23')]), (rec.voigt as number[][])[1][2]);
    assert.equal(Number(rows[i][col('modes.omega2_6')]), (rec.modes as { omega2: number[] }).omega2[5]);
    assert.equal(Number(rows[i][col('nqle.modes_2.kMinus')]), (rec.nqle as { modes: { kMinus: number }[] }).modes[1].kMinus);
    assert.equal(Number(rows[i][col('K')]), rec.K);
  });
});

test('Parquet export holds the CSV columns, numbers as DOUBLE, flags as BOOLEAN', async () => {
  campaignRecords();
  const out = join(dir, 'camp.parquet');
  const r = qglass('campaign', 'export', camp, '--format', 'parquet', '--out', out);
  assert.equal(r.code, 0, r.stderr);
  const [header, ...rows] = parseCsv(qglass('campaign', 'export', camp, '--format', 'csv').stdout);
  const { parquetReadObjects, asyncBufferFromFile } = await import('hyparquet');
  const objects = await parquetReadObjects({ file: await asyncBufferFromFile(out) }) as Record<string, unknown>[];
  assert.equal(objects.length, rows.length);
  assert.deepEqual(Object.keys(objects[0]), header);
  objects.forEach((o, i) => header.forEach((name, k) => {
    const v = o[name];
    const want = rows[i][k];
    if (typeof v === 'number') assert.equal(v, Number(want), name);
    else if (typeof v === 'boolean') assert.equal(String(v), want, name);
    else assert.equal(v ?? '', want, name);
  }));
  assert.equal(typeof objects[0]['modes.converged'], 'boolean');
});

test('export refuses a binary format on stdout and unknown formats (exit 2)', () => {
  campaignRecords();
  const a = qglass('campaign', 'export', camp, '--format', 'hdf5');
  assert.equal(a.code, 2);
  assert.match(a.stderr, /--format hdf5 writes a binary file: give it with --out FILE/);
  const b = qglass('campaign', 'export', camp, '--format', 'xml');
  assert.equal(b.code, 2);
  assert.match(b.stderr, /--format must be one of json, csv, hdf5, parquet/);
});

// ---------------------------------------------------------------------------------------------
// Hessian, modes and NQLE files

function symmetricMultiply(H: CoordinateMatrix, x: Float64Array): Float64Array {
  const y = new Float64Array(H.rows);
  for (let e = 0; e < H.value.length; e++) {
    const i = H.row[e], j = H.col[e], v = H.value[e];
    y[i] += v * x[j];
    if (i !== j) y[j] += v * x[i];
  }
  return y;
}

test('measure modes --hessian: the exported modes are eigenvectors of the exported Hessian; NQLE sidecars agree with it', () => {
  const glass = join(dir, 'h.xyz');
  writeExtendedXyz(glass, systemToConfiguration(smallGlass(10).system, { Q: 10 }));
  const mtx = join(dir, 'h.mtx'), modes = join(dir, 'modes.npy'), nqle = join(dir, 'nqle.npy');
  const m = qglass('measure', 'modes', glass, '--count', '4', '--no-elastic', '--out', modes, '--hessian', mtx, '--json');
  assert.equal(m.code, 0, m.stderr);
  const mj = JSON.parse(m.stdout);
  const H = readMatrixMarket(mtx);
  assert.equal(H.rows, 3 * 256);
  assert.equal(H.symmetric, true);
  assert.equal(mj.hessian.entries, H.value.length);
  const vectors = readNpy(modes).data as Float64Array;
  const omega2 = readNpy(join(dir, 'modes-omega2.npy')).data as Float64Array;
  const n3 = 3 * 256;
  for (let k = 0; k < 4; k++) {
    const psi = vectors.subarray(k * n3, (k + 1) * n3);
    const Hpsi = symmetricMultiply(H, psi);
    let res = 0;
    for (let i = 0; i < n3; i++) res += (Hpsi[i] - omega2[k] * psi[i]) ** 2;
    assert.ok(Math.sqrt(res) < 1e-7 * mj.hessianNorm, `mode ${k}: ‖Hψ − ω²ψ‖ = ${Math.sqrt(res)}`);
  }

  const q = qglass('measure', 'nqle', glass, '--count', '2', '--harmonic-modes', '6', '--dipole-starts', '0', '--out', nqle, '--json');
  assert.equal(q.code, 0, q.stderr);
  const qj = JSON.parse(q.stdout);
  const pi = readNpy(nqle).data as Float64Array;
  const w2 = readNpy(join(dir, 'nqle-omega2.npy'));
  const kf = readNpy(join(dir, 'nqle-kf.npy'));
  assert.deepEqual(kf.shape, [qj.modes.length, 4]);
  qj.modes.forEach((mode: { omega2: number; kPlus: number; kMinus: number; fPlus: number; fMinus: number }, k: number) => {
    assert.equal((w2.data as Float64Array)[k], mode.omega2);
    assert.deepEqual(Array.from((kf.data as Float64Array).subarray(4 * k, 4 * k + 4)), [mode.kPlus, mode.kMinus, mode.fPlus, mode.fMinus]);
    // π·H·π with the exported Hessian is the ω² written beside π
    const v = pi.subarray(k * n3, (k + 1) * n3);
    const Hv = symmetricMultiply(H, v);
    let rq = 0, norm = 0;
    for (let i = 0; i < n3; i++) { rq += v[i] * Hv[i]; norm += v[i] * v[i]; }
    assert.ok(Math.abs(rq / norm - mode.omega2) < 1e-9 * mj.hessianNorm, `NQLE ${k}: π·H·π = ${rq / norm}, ω² = ${mode.omega2}`);
  });
});
