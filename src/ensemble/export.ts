/**
 * A campaign's samples as records for analysis: one SampleRecord per planned sample, read from
 * every catalog of the directory (merged or not). Field names are those of the command-line JSON
 * outputs: the `prepare --json` numbers and the elastic numbers of `measure elastic --json` at top
 * level, the other measurements nested under `modes`, `gr`, `nqle` exactly as their `measure …
 * --json` outputs; per-stage bookkeeping (seconds, converged flags, solver records) under `stages`.
 * Every record names its pair law (`model`); its point is `Q` in memory (the catalog's key, for
 * either axis) and, in the exported files, `Q` or `targetPressure` by the campaign's axis.
 */
import { resolve } from 'node:path';
import { campaignModel, controlAxis, controlValues, readCampaign, type ArtefactKind, type CampaignDefinition, type ControlAxis } from './campaign.ts';
import { Catalog, type ArtefactRecord, type SampleStatus, type StageRecord } from './catalog.ts';
import { catalogFiles, catalogInUse, unitedSamples } from './merge.ts';
import { readLockInfo } from './lock.ts';
import { sampleKey } from './seeds.ts';
import { meanAndError } from './calibrate.ts';
import type { DensityMode } from '../model/presets.ts';
import type { prepareSummary } from '../engine/prepare.ts';
import type { packingSummary } from '../engine/packing.ts';
import type { ElasticJson, GrJson, ModesJson, NqleJson } from './pipeline.ts';
import { h5Group, writeHdf5, type H5Dataset, type H5Group } from '../io/hdf5.ts';
import { VERSION } from '../util/version.ts';
import { writeFileAtomic } from '../io/atomic-write.ts';

/** The `prepare --json` numbers kept at top level (identity fields come from the catalog row). */
export type PrepareNumbers = Pick<
  ReturnType<typeof prepareSummary>,
  'finalDensity' | 'energyPerParticle' | 'pressure' | 'maxForce' | 'minimizerIterations' | 'forceEvaluations' | 'mdSteps' | 'dt' |
  'energyDrift' | 'nveFinalTemperature' | 'relax'
> & Pick<ReturnType<typeof packingSummary>, 'packingFraction' | 'rattlers' | 'rattlerFraction' | 'Z' | 'volumeSteps'>;

/** The `measure elastic --json` numbers kept at top level; its other fields go to stages.elastic. */
export type ElasticNumbers = Pick<ElasticJson, 'K' | 'G' | 'Gvoigt' | 'nu' | 'nuVoigt' | 'GOverK' | 'pressure' | 'pOverK' | 'shear' | 'voigt' | 'stress'>;

const PREPARE_TOP: ReadonlyArray<keyof PrepareNumbers> = [
  'finalDensity', 'energyPerParticle', 'pressure', 'maxForce', 'minimizerIterations', 'forceEvaluations', 'mdSteps', 'dt',
  'energyDrift', 'nveFinalTemperature', 'relax',
  // soft-sphere packings: the packing, its rattlers and contacts per non-rattler
  'packingFraction', 'rattlers', 'rattlerFraction', 'Z', 'volumeSteps',
];
/** Fields of the prepare output that repeat the sample's identity (kept once, from the catalog and the definition). */
const PREPARE_IDENTITY = ['model', 'Q', 'alpha', 'targetPressure', 'N', 'density', 'densityMode', 'seed'];
const ELASTIC_TOP: ReadonlyArray<keyof ElasticNumbers> = ['K', 'G', 'Gvoigt', 'nu', 'nuVoigt', 'GOverK', 'pressure', 'pOverK', 'shear', 'voigt', 'stress'];

export interface StageInfo {
  seconds: number;
  converged: boolean | null;
  /** The stage output's remaining fields (timings, solver records, ...). */
  [field: string]: unknown;
}

export type SampleRecord = {
  /** The pair law (registry name). */
  model: string;
  /** The point's control value: Q, or the target pressure (ε/σ_S³) of a soft-sphere campaign; exported as targetPressure then. */
  Q: number;
  N: number;
  index: number;
  seed: number;
  /** Density the sample was prepared at (λ⁻³; 0 for a packing at a target pressure); finalDensity is the glass's own. */
  density: number;
  densityMode: DensityMode;
  status: SampleStatus;
  error?: string;
  failedStage?: string;
  attempts: number;
  failures: number;
  /** Wall time of the sample's pipeline (s), when finished. */
  seconds?: number;
  /** Artefact paths relative to the campaign directory. */
  artefacts: Partial<Record<ArtefactKind, string>>;
  stages: Record<string, StageInfo>;
  /** As JSON carries them: a non-finite number of the outputs reads back as null. */
  modes?: ModesJson;
  gr?: GrJson;
  nqle?: NqleJson;
} & Partial<PrepareNumbers> & Partial<ElasticNumbers>;

/** Every planned sample of the campaign in DIR, in canonical order (index-major, then point). */
export function loadCampaignSamples(dirArg: string): SampleRecord[] {
  const dir = resolve(dirArg);
  const def = readCampaign(dir);
  const united = unitedSamples(dir, def);
  const contents = new Map<string, { stages: Map<string, StageRecord[]>; artefacts: Map<string, ArtefactRecord[]> }>();
  for (const file of new Set(united.map((u) => u.catalog).filter((f): f is string => f !== null))) {
    const cat = Catalog.openReadonly(file)!;
    try {
      contents.set(file, { stages: cat.allStages(), artefacts: cat.allArtefacts() });
    } finally {
      cat.close();
    }
  }
  return united.map(({ sample: s, catalog }) => {
    const key = sampleKey(s);
    const c = catalog ? contents.get(catalog) : undefined;
    // Key order is column order in CSV: identity and state, numbers, nested measurements, bookkeeping.
    const rec = { model: campaignModel(def), Q: s.Q, N: def.N, index: s.index, seed: s.seed, density: s.density, densityMode: s.densityMode, status: s.status } as SampleRecord;
    if (s.error !== null) rec.error = s.error;
    if (s.failedStage !== null) rec.failedStage = s.failedStage;
    const stages: SampleRecord['stages'] = {};
    for (const st of c?.stages.get(key) ?? []) placeStage(rec, stages, st);
    rec.stages = stages;
    rec.attempts = s.attempts;
    rec.failures = s.failures;
    if (s.status === 'done' && s.seconds !== null) rec.seconds = s.seconds;
    rec.artefacts = {};
    for (const a of c?.artefacts.get(key) ?? []) rec.artefacts[a.kind] = a.path;
    return rec;
  });
}

function placeStage(rec: SampleRecord, stages: SampleRecord['stages'], st: StageRecord): void {
  const value = (st.value ?? {}) as Record<string, unknown>;
  const info: StageInfo = { seconds: st.seconds, converged: st.converged };
  const top = rec as Record<string, unknown>;
  if (st.stage === 'prepare' || st.stage === 'elastic') {
    const keep: readonly string[] = st.stage === 'prepare' ? PREPARE_TOP : ELASTIC_TOP;
    for (const [k, v] of Object.entries(value)) {
      if (keep.includes(k)) top[k] = v;
      else if (!(st.stage === 'prepare' && PREPARE_IDENTITY.includes(k)) && k !== 'converged') info[k] = v;
    }
  } else {
    top[st.stage] = value;
  }
  stages[st.stage] = info;
}

/**
 * Records as the export files hold them: the point under the name of the campaign's axis (`Q`, or
 * `targetPressure` for soft spheres, whose `pressure` is the measured one).
 */
export function exportedRecords(records: readonly SampleRecord[], axis: ControlAxis): Record<string, unknown>[] {
  if (axis === 'Q') return records as unknown as Record<string, unknown>[];
  return records.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k === 'Q' ? 'targetPressure' : k, v])));
}

export interface QStatus {
  /** The point's control value (Q, or the target pressure). */
  Q: number;
  planned: number;
  done: number;
  failed: number;
  running: number;
  pending: number;
  /** Mean ± standard error of p/K and ν over the finished samples with moduli (absent: none yet): a density's distance from p = 0 while a run goes on. */
  elastic?: { samples: number; pOverK: [number, number]; nu: [number, number] };
}

export interface CampaignStatus {
  dir: string;
  model: string;
  axis: ControlAxis;
  N: number;
  samplesPerQ: number;
  measure: string[];
  perQ: QStatus[];
  total: Omit<QStatus, 'Q'>;
  /** Catalog files, whether a live run holds each, and each one's mix of points (samples recorded and done per point). */
  catalogs: Array<{ file: string; shard: string | null; activeRun: string | null; perQ: Record<string, { samples: number; done: number }> }>;
  /** Failed samples with their reasons (first 20). */
  failures: Array<{ Q: number; index: number; stage: string | null; error: string | null }>;
}

export function campaignStatus(dirArg: string): CampaignStatus {
  const dir = resolve(dirArg);
  const def: CampaignDefinition = readCampaign(dir);
  const perQ = new Map<number, QStatus>(controlValues(def).map((Q) => [Q, { Q, planned: 0, done: 0, failed: 0, running: 0, pending: 0 }]));
  const total = { planned: 0, done: 0, failed: 0, running: 0, pending: 0 };
  const failures: CampaignStatus['failures'] = [];
  // with moduli measured, the records carry p/K and ν too: one read of the catalogs serves both
  const records = def.measure.includes('elastic') ? loadCampaignSamples(dir) : null;
  const samples = records ?? unitedSamples(dir, def).map((u) => u.sample);
  for (const s of samples) {
    const q = perQ.get(s.Q)!;
    q.planned++; total.planned++;
    q[s.status]++; total[s.status]++;
    if (s.status === 'failed' && failures.length < 20) failures.push({ Q: s.Q, index: s.index, stage: s.failedStage ?? null, error: s.error ?? null });
  }
  if (records) {
    const done = records.filter((r) => r.status === 'done' && Number.isFinite(r.pOverK) && Number.isFinite(r.nu));
    for (const q of perQ.values()) {
      const at = done.filter((r) => r.Q === q.Q);
      if (at.length > 0) q.elastic = { samples: at.length, pOverK: meanAndError(at.map((r) => r.pOverK!)), nu: meanAndError(at.map((r) => r.nu!)) };
    }
  }
  const catalogs = catalogFiles(dir).map((file) => {
    const cat = Catalog.openReadonly(file)!;
    const shard = cat.meta('shard');
    const mix: Record<string, { samples: number; done: number }> = Object.fromEntries(controlValues(def).map((Q) => [String(Q), { samples: 0, done: 0 }]));
    for (const r of cat.samples()) {
      const m = mix[String(r.Q)];
      if (!m) continue;
      m.samples++;
      if (r.status === 'done') m.done++;
    }
    cat.close();
    return { file, shard, perQ: mix, activeRun: catalogInUse(file) ? (readLockInfo(`${file}.lock`)?.runId ?? '?') : null };
  });
  return { dir, model: campaignModel(def), axis: controlAxis(def), N: def.N, samplesPerQ: def.samples, measure: def.measure, perQ: [...perQ.values()], total, catalogs, failures };
}

/** Arrays with more elements than this (g(r) curves) are left out of CSV and Parquet: they are in the HDF5 and JSON exports. */
export const CSV_MAX_ARRAY = 256;

export const EXPORT_FORMATS = ['json', 'csv', 'hdf5', 'parquet'] as const;

/**
 * CSV of the same records: nested objects flattened to dotted column names (shear.xy,
 * modes.converged, stages.elastic.seconds); arrays flattened into one column per element with
 * 1-based indices (modes.omega2_1, voigt_11 … voigt_66, nqle.modes_1.omega2); arrays longer than
 * CSV_MAX_ARRAY left out (see csvOmittedColumns). Columns in order of first appearance.
 */
export function samplesToCsv(records: readonly object[]): string {
  const { columns, rows } = flatTable(records);
  const lines = [columns.map(csvCell).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvCell(String(row.get(c) ?? ''))).join(','));
  return lines.join('\n') + '\n';
}

/** Array fields too long for CSV columns in these records (dotted names). */
export function csvOmittedColumns(records: readonly object[]): string[] {
  const names = new Set<string>();
  for (const r of records) for (const n of flattenRecord(r as Record<string, unknown>).omitted) names.add(n);
  return [...names];
}

/** The CSV columns as a Parquet file: numbers DOUBLE, flags BOOLEAN, text STRING, missing values null. */
export async function writeSamplesParquet(path: string, records: readonly object[]): Promise<void> {
  const { parquetWriteBuffer } = await import('hyparquet-writer');
  const { columns, rows } = flatTable(records);
  const columnData = columns.map((name) => {
    const data = rows.map((r) => r.get(name) ?? null);
    const present = data.filter((v) => v !== null);
    const type = present.every((v) => typeof v === 'number') ? 'DOUBLE' as const
      : present.every((v) => typeof v === 'boolean') ? 'BOOLEAN' as const : 'STRING' as const;
    return { name, type, data: type === 'STRING' ? data.map((v) => (v === null ? null : String(v))) : data };
  });
  writeFileAtomic(path, new Uint8Array(parquetWriteBuffer({ columnData, createdBy: `qglass ${VERSION}` })));
}

function flatTable(records: readonly object[]): { columns: string[]; rows: Map<string, Leaf>[] } {
  const rows = records.map((r) => flattenRecord(r as Record<string, unknown>).cells);
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) for (const k of row.keys()) if (!seen.has(k)) { seen.add(k); columns.push(k); }
  return { columns, rows };
}

function flattenRecord(obj: Record<string, unknown>): { cells: Map<string, Leaf>; omitted: string[] } {
  const cells = new Map<string, Leaf>();
  const omitted: string[] = [];
  const visit = (v: unknown, name: string): void => {
    if (v === null || v === undefined) cells.set(name, null);
    else if (Array.isArray(v)) {
      if (countElements(v) > CSV_MAX_ARRAY) { omitted.push(name); return; }
      // one digit per index reads as voigt_11; wider arrays need a separator between indices
      const sep = v.length > 9 || v.some((e) => Array.isArray(e) && e.length > 9) ? '_' : '';
      v.forEach((e, k) => {
        if (Array.isArray(e)) e.forEach((x, j) => visit(x, `${name}_${k + 1}${sep}${j + 1}`));
        else visit(e, `${name}_${k + 1}`);
      });
    } else if (typeof v === 'object') {
      for (const [k, x] of Object.entries(v as Record<string, unknown>)) visit(x, name === '' ? k : `${name}.${k}`);
    } else cells.set(name, v as Leaf);
  };
  visit(obj, '');
  return { cells, omitted };
}

function countElements(v: unknown[]): number {
  let n = 0;
  for (const e of v) n += Array.isArray(e) ? countElements(e) : e !== null && typeof e === 'object' ? Object.keys(e).length : 1;
  return n;
}

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

// ---------------------------------------------------------------------------------------------
// HDF5: columns per field

/**
 * Units of exported fields by dotted path (reduced units: energy ε, length λ = λ_SS, mass m, time
 * τ = λ·√(m/ε)); wall times (…seconds, …timings.*) are in s.
 */
export const FIELD_UNITS: Readonly<Record<string, string>> = (() => {
  const u: Record<string, string> = {};
  const set = (unit: string, ...paths: string[]) => { for (const p of paths) u[p] = unit; };
  set('λ⁻³', 'density', 'finalDensity', 'gr.density');
  set('ε', 'energyPerParticle', 'energyDrift', 'nqle.modes.barrier');
  set('ε/λ³', 'pressure', 'targetPressure', 'K', 'G', 'Gvoigt', 'shear.xy', 'shear.xz', 'shear.yz', 'voigt', 'stress', 'modes.G',
    'stages.elastic.affine', 'stages.elastic.nonaffine', 'nqle.modes.tau');
  set('ε/λ', 'maxForce', 'modes.maxForce', 'nqle.maxForce', 'stages.elastic.maxForce', 'stages.elastic.typicalPairForce');
  set('τ', 'dt');
  set('ε/k_B', 'nveFinalTemperature');
  set('s', 'seconds');
  set('λ³', 'stages.elastic.volume');
  set('1/τ²', 'modes.omega2', 'modes.hessianNorm', 'nqle.modes.omega2', 'nqle.harmonic.omega2',
    'nqle.modes.kPlus', 'nqle.modes.kMinus', 'nqle.modes.fPlus', 'nqle.modes.fMinus');
  set('1/τ', 'modes.omega', 'modes.omega0', 'modes.omega1');
  set('λ/τ', 'modes.cs');
  set('λ', 'modes.a0', 'gr.a0');
  set('a0', 'gr.r', 'gr.binWidth', 'gr.rmax', 'gr.firstPeak.position', 'gr.firstPeak.width', 'gr.firstPeak.window');
  set('1', 'nu', 'nuVoigt', 'GOverK', 'pOverK', 'packingFraction', 'rattlerFraction', 'Z', 'modes.participation', 'nqle.modes.participation', 'nqle.harmonic.participation',
    'gr.gLL', 'gr.gSL', 'gr.gSS', 'gr.firstPeak.height');
  return u;
})();

type Leaf = number | boolean | string | null;

/**
 * The records as one HDF5 tree, a column per field: under /samples every scalar field is a dataset
 * of length n (one entry per sample, in the order of the records), a numeric array field of length L
 * a dataset (n, L), a matrix field (n, a, b) (NaN where a sample lacks the value or has a shorter
 * array), nested objects are groups (/samples/modes/omega2, /samples/gr/gLL, a future
 * /samples/aqs/... the same way), and an array of records (NQLEs, the CG solves) is a table: a group
 * with a column per field plus `sample`, the row of its sample. Booleans are int8 (1, 0, −1 missing),
 * strings variable-length UTF-8 ('' missing), integers int64 when
 * every sample has the field. Each dataset with known units has a `units` attribute;
 * the root carries the campaign definition (JSON) and its protocol fields as attributes.
 */
export function samplesToHdf5Tree(records: readonly SampleRecord[], def: CampaignDefinition): H5Group {
  const root = h5Group({
    format: 'qglass-campaign-export', formatVersion: 1, qglass: VERSION, samples: records.length, model: campaignModel(def),
    campaign: JSON.stringify(def), units: 'reduced: energy ε, length λ (λ_SS; σ_S for soft spheres), mass m, time τ = λ·sqrt(m/ε)',
    ...Object.fromEntries(Object.entries(def.protocol ?? {}).map(([k, v]) => [`protocol.${k}`, v])),
    ...Object.fromEntries(Object.entries(def.packing ?? {}).map(([k, v]) => [`packing.${k}`, v])),
  });
  const samples = h5Group();
  root.children.set('samples', samples);
  fillColumns(samples, exportedRecords(records, controlAxis(def)), null, '');
  return root;
}

/**
 * Columns of the objects `rows` into group g; sampleOf[i] is the sample row of rows[i] (tables), or
 * null at the top level (rows are the samples).
 */
function fillColumns(g: H5Group, rows: readonly (Record<string, unknown> | undefined)[], sampleOf: number[] | null, path: string): void {
  if (sampleOf) g.children.set('sample', { kind: 'dataset', data: BigInt64Array.from(sampleOf, (i) => BigInt(i)), shape: [sampleOf.length] });
  const fields: string[] = [];
  for (const r of rows) for (const k of Object.keys(r ?? {})) if (!fields.includes(k)) fields.push(k);
  for (const field of fields) {
    const name = path === '' ? field : `${path}.${field}`;
    const values = rows.map((r) => r?.[field] ?? null);
    const present = values.filter((v) => v !== null);
    if (present.length === 0) continue;
    let node: H5Group | H5Dataset;
    if (present.every((v) => typeof v === 'object' && !Array.isArray(v))) {
      node = h5Group();
      fillColumns(node, values as (Record<string, unknown> | null)[] as (Record<string, unknown> | undefined)[], null, name);
    } else if (present.every((v) => Array.isArray(v) && v.every((e) => e !== null && typeof e === 'object' && !Array.isArray(e)))) {
      const flat: Record<string, unknown>[] = [];
      const owner: number[] = [];
      values.forEach((v, i) => { for (const e of (v ?? []) as Record<string, unknown>[]) { flat.push(e); owner.push(sampleOf ? sampleOf[i] : i); } });
      node = h5Group();
      fillColumns(node, flat, owner, name);
    } else {
      // a field whose values mix kinds (never so in qglass's own outputs) is kept as JSON text
      node = arrayDataset(values) ?? {
        kind: 'dataset', data: values.map((v) => (v === null ? '' : JSON.stringify(v))), shape: [values.length], attributes: { encoding: 'json' },
      };
    }
    const units = FIELD_UNITS[name] ?? (/(^|\.)(seconds|timings\.\w+)$/.test(name) ? 's' : undefined);
    if (units !== undefined && node.kind === 'dataset') node.attributes = { units };
    g.children.set(field, node);
  }
}

/** Scalars → (n), arrays → (n, L), matrices → (n, a, b); null when the values mix kinds. */
function arrayDataset(values: unknown[]): H5Dataset | null {
  const n = values.length;
  const shape = [n];
  const leaves: Leaf[][] = values.map((v) => (v === null ? [] : [v as Leaf]));
  const isArr = (v: unknown) => Array.isArray(v);
  const present = values.filter((v) => v !== null);
  if (present.every(isArr)) {
    const arrays = present as unknown[][];
    const L = Math.max(...arrays.map((a) => a.length));
    if (arrays.every((a) => a.every(isArr))) {
      const B = Math.max(0, ...arrays.flatMap((a) => (a as unknown[][]).map((e) => e.length)));
      shape.push(L, B);
      values.forEach((v, i) => { leaves[i] = []; (v as unknown[][] | null)?.forEach((row, j) => row.forEach((x, k) => { leaves[i][j * B + k] = x as Leaf; })); });
    } else if (arrays.every((a) => a.every((e) => !isArr(e) && (e === null || typeof e !== 'object')))) {
      shape.push(L);
      values.forEach((v, i) => { leaves[i] = (v as Leaf[] | null) ?? []; });
    } else return null;
  } else if (present.some(isArr) || present.some((v) => typeof v === 'object')) return null;
  const width = shape.slice(1).reduce((a, b) => a * b, 1);
  const all = leaves.flat().filter((x) => x !== null && x !== undefined);
  if (all.every((x) => typeof x === 'number')) {
    if (all.length === n * width && all.every((x) => Number.isSafeInteger(x))) {
      return { kind: 'dataset', data: BigInt64Array.from(leaves.flat() as number[], (x) => BigInt(x)), shape };
    }
    const data = new Float64Array(n * width).fill(NaN);
    leaves.forEach((row, i) => row.forEach((x, k) => { if (typeof x === 'number') data[i * width + k] = x; }));
    return { kind: 'dataset', data, shape };
  }
  if (all.every((x) => typeof x === 'boolean')) {
    const data = new Int8Array(n * width).fill(-1);
    leaves.forEach((row, i) => row.forEach((x, k) => { if (typeof x === 'boolean') data[i * width + k] = x ? 1 : 0; }));
    return { kind: 'dataset', data, shape };
  }
  const data = new Array<string>(n * width).fill('');
  leaves.forEach((row, i) => row.forEach((x, k) => { if (x !== null && x !== undefined) data[i * width + k] = String(x); }));
  return { kind: 'dataset', data, shape };
}

/** Write the campaign's records (as from loadCampaignSamples) to an HDF5 file. */
export async function writeSamplesHdf5(path: string, records: readonly SampleRecord[], def: CampaignDefinition): Promise<void> {
  await writeHdf5(path, samplesToHdf5Tree(records, def));
}
