/**
 * A campaign's samples as records for analysis: one SampleRecord per planned sample, read from
 * every catalog of the directory (merged or not). Field names are those of the command-line JSON
 * outputs: the `prepare --json` numbers and the elastic numbers of `measure elastic --json` at top
 * level, the other measurements nested under `modes`, `gr`, `nqle` exactly as their `measure …
 * --json` outputs; per-stage bookkeeping (seconds, converged flags, solver records) under `stages`.
 */
import { resolve } from 'node:path';
import { readCampaign, type ArtefactKind, type CampaignDefinition } from './campaign.ts';
import { Catalog, type ArtefactRecord, type SampleStatus, type StageRecord } from './catalog.ts';
import { catalogFiles, catalogInUse, unitedSamples } from './merge.ts';
import { readLockInfo } from './lock.ts';
import { sampleKey } from './seeds.ts';
import type { DensityMode } from '../model/presets.ts';
import type { prepareSummary } from '../engine/prepare.ts';
import type { ElasticJson, GrJson, ModesJson, NqleJson } from './pipeline.ts';

/** The `prepare --json` numbers kept at top level (identity fields come from the catalog row). */
export type PrepareNumbers = Pick<
  ReturnType<typeof prepareSummary>,
  'finalDensity' | 'energyPerParticle' | 'pressure' | 'maxForce' | 'minimizerIterations' | 'forceEvaluations' | 'mdSteps' | 'dt' |
  'energyDrift' | 'nveFinalTemperature' | 'relax'
>;

/** The `measure elastic --json` numbers kept at top level; its other fields go to stages.elastic. */
export type ElasticNumbers = Pick<ElasticJson, 'K' | 'G' | 'Gvoigt' | 'nu' | 'nuVoigt' | 'GOverK' | 'pressure' | 'pOverK' | 'shear' | 'voigt' | 'stress'>;

const PREPARE_TOP: ReadonlyArray<keyof PrepareNumbers> = [
  'finalDensity', 'energyPerParticle', 'pressure', 'maxForce', 'minimizerIterations', 'forceEvaluations', 'mdSteps', 'dt',
  'energyDrift', 'nveFinalTemperature', 'relax',
];
/** Fields of the prepare output that repeat the sample's identity (kept once, from the catalog). */
const PREPARE_IDENTITY = ['Q', 'N', 'density', 'densityMode', 'seed'];
const ELASTIC_TOP: ReadonlyArray<keyof ElasticNumbers> = ['K', 'G', 'Gvoigt', 'nu', 'nuVoigt', 'GOverK', 'pressure', 'pOverK', 'shear', 'voigt', 'stress'];

export interface StageInfo {
  seconds: number;
  converged: boolean | null;
  /** The stage output's remaining fields (timings, solver records, ...). */
  [field: string]: unknown;
}

export type SampleRecord = {
  Q: number;
  N: number;
  index: number;
  seed: number;
  /** Density the sample was prepared at (λ⁻³); finalDensity differs only after box relaxation. */
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

/** Every planned sample of the campaign in DIR, in canonical order (index-major, then Q). */
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
    const rec = { Q: s.Q, N: def.N, index: s.index, seed: s.seed, density: s.density, densityMode: s.densityMode, status: s.status } as SampleRecord;
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

export interface QStatus {
  Q: number;
  planned: number;
  done: number;
  failed: number;
  running: number;
  pending: number;
}

export interface CampaignStatus {
  dir: string;
  N: number;
  samplesPerQ: number;
  measure: string[];
  perQ: QStatus[];
  total: Omit<QStatus, 'Q'>;
  /** Catalog files, whether a live run holds each, and each one's Q mix (samples recorded and done per Q). */
  catalogs: Array<{ file: string; shard: string | null; activeRun: string | null; perQ: Record<string, { samples: number; done: number }> }>;
  /** Failed samples with their reasons (first 20). */
  failures: Array<{ Q: number; index: number; stage: string | null; error: string | null }>;
}

export function campaignStatus(dirArg: string): CampaignStatus {
  const dir = resolve(dirArg);
  const def: CampaignDefinition = readCampaign(dir);
  const perQ = new Map<number, QStatus>(def.Q.map((Q) => [Q, { Q, planned: 0, done: 0, failed: 0, running: 0, pending: 0 }]));
  const total = { planned: 0, done: 0, failed: 0, running: 0, pending: 0 };
  const failures: CampaignStatus['failures'] = [];
  for (const { sample: s } of unitedSamples(dir, def)) {
    const q = perQ.get(s.Q)!;
    q.planned++; total.planned++;
    q[s.status]++; total[s.status]++;
    if (s.status === 'failed' && failures.length < 20) failures.push({ Q: s.Q, index: s.index, stage: s.failedStage, error: s.error });
  }
  const catalogs = catalogFiles(dir).map((file) => {
    const cat = Catalog.openReadonly(file)!;
    const shard = cat.meta('shard');
    const mix: Record<string, { samples: number; done: number }> = Object.fromEntries(def.Q.map((Q) => [String(Q), { samples: 0, done: 0 }]));
    for (const r of cat.samples()) {
      const m = mix[String(r.Q)];
      if (!m) continue;
      m.samples++;
      if (r.status === 'done') m.done++;
    }
    cat.close();
    return { file, shard, perQ: mix, activeRun: catalogInUse(file) ? (readLockInfo(`${file}.lock`)?.runId ?? '?') : null };
  });
  return { dir, N: def.N, samplesPerQ: def.samples, measure: def.measure, perQ: [...perQ.values()], total, catalogs, failures };
}

/**
 * CSV of the same records: nested objects flattened to dotted column names (shear.xy,
 * modes.converged, stages.elastic.seconds), arrays JSON-encoded in one cell (modes.omega2, voigt),
 * columns in order of first appearance.
 */
export function samplesToCsv(records: readonly SampleRecord[]): string {
  const rows = records.map((r) => flatten(r as Record<string, unknown>));
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const row of rows) for (const k of row.keys()) if (!seen.has(k)) { seen.add(k); columns.push(k); }
  const lines = [columns.map(csvCell).join(',')];
  for (const row of rows) lines.push(columns.map((c) => csvCell(row.get(c) ?? '')).join(','));
  return lines.join('\n') + '\n';
}

function flatten(obj: Record<string, unknown>, prefix = '', out = new Map<string, string>()): Map<string, string> {
  for (const [k, v] of Object.entries(obj)) {
    const name = prefix + k;
    if (v === null || v === undefined) out.set(name, '');
    else if (Array.isArray(v)) out.set(name, JSON.stringify(v));
    else if (typeof v === 'object') flatten(v as Record<string, unknown>, `${name}.`, out);
    else out.set(name, String(v));
  }
  return out;
}

function csvCell(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}
