/**
 * One sample's pipeline: prepare (a glass of a Q-model at its density, or a soft-sphere packing at
 * its target pressure) → the campaign's measurements in MEASUREMENTS order (each optional). The
 * mechanical measurements (elastic, modes, nqle, aqs) act on a packing without its rattlers, as
 * `measure …` do (src/measure/rattlers.ts); g(r) on the whole configuration. Every stage returns its JSON output (what its `measure … --json` prints, stored as it
 * is) and whether it converged; an unconverged stage fails the sample with the stage's own account,
 * since a number from an unconverged solver must never reach the ensemble. Artefacts are written
 * atomically (temporary file, fsync, rename) and returned with size and SHA-256, so the runner can
 * record the sample in the catalog only once its files are safely on disk.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { prepareGlass } from '../engine/prepare.ts';
import { packingMetadata, packingSummary, preparePacking } from '../engine/packing.ts';
import { systemToConfiguration, type System } from '../engine/system.ts';
import { lawMetadata } from '../model/laws.ts';
import type { PairLaw } from '../model/pair-law.ts';
import { findRattlers, mechanicalBackbone, type RattlerAnalysis } from '../measure/rattlers.ts';
import { formatExtendedXyz } from '../io/xyz.ts';
import { writeFileAtomic } from '../io/atomic-write.ts';
import { measureElastic, type ElasticResult } from '../measure/elastic.ts';
import { measureModes, soundScales, type ModesResult, type SoundScales } from '../measure/modes.ts';
import { findNqles, type NqleResult } from '../measure/nqle.ts';
import { formatNpy, readNpy } from '../io/npy.ts';
import { aqsEventsCsv, aqsPathCsv, profileRecord, runAqs, type AqsResult } from '../measure/aqs.ts';
import { cloneSystem } from '../engine/prepare.ts';
import { harmonicOf, type Harmonic } from '../measure/harmonic.ts';
import { pairCorrelation, type PairCorrelation } from '../measure/pair-correlation.ts';
import { boxVolume } from '../space/box.ts';
import { prepareSummary } from '../engine/prepare.ts';
import { VERSION } from '../util/version.ts';
import { artefactPath, controlAxis, glassProtocol, lawAt, type ArtefactKind, type CampaignDefinition, type MeasurementName } from './campaign.ts';
import type { ArtefactRecord, SampleOutcome, StageRecord } from './catalog.ts';
import type { PlannedSample } from './seeds.ts';

export interface SampleTask {
  /** Campaign directory (absolute). */
  dir: string;
  definition: CampaignDefinition;
  sample: PlannedSample;
}

/** What a stage hands back: its JSON output, its convergence verdict, and why it failed if it did. */
export interface StageOutput {
  value: unknown;
  converged: boolean | null;
  /** Set when converged is false: the stage's own account of what did not converge. */
  problem?: string;
}

export interface StageContext {
  task: SampleTask;
  /** The sample's pair law. */
  law: PairLaw;
  /** The prepared configuration, whole (g(r) looks at every particle). */
  whole: System;
  /** The quenched glass, or the packing without its rattlers; stages must leave it as they found it. */
  system: System;
  /** The rattlers removed from a packing (null for laws without contacts). */
  rattlers: RattlerAnalysis | null;
  /** Raw (non-JSON) results of earlier stages, e.g. mode vectors for NQLE starting points. */
  earlier: Map<MeasurementName, unknown>;
  /** The glass's pair table and Hessian, built on first use and shared by every stage after. */
  harmonic(): Harmonic;
  writeArtefact(kind: ArtefactKind, data: string | Uint8Array): void;
}

export interface StageDefinition {
  name: MeasurementName;
  /** Artefacts the stage writes (every sample also has its glass). */
  artefacts: readonly ArtefactKind[];
  run(ctx: StageContext): StageOutput & { raw?: unknown };
}

/** The stored output of each stage: the fields its `qglass … --json` command prints (no file names). */
export function elasticJson(law: PairLaw, r: ElasticResult, rattlers: RattlerAnalysis | null) {
  return { ...lawMetadata(law), ...r, rattlers: rattlers?.rattlers ?? null, Z: rattlers?.Z ?? null };
}

export function modesJson(law: PairLaw, r: ModesResult, scales: SoundScales | null, rattlers: RattlerAnalysis | null) {
  const { vectors: _vectors, timings, ...summary } = r;
  return {
    ...lawMetadata(law), rattlers: rattlers?.rattlers ?? null, ...summary, timings: { ...timings, elastic: 0 },
    G: scales?.G ?? null, cs: scales?.cs ?? null, a0: scales?.a0 ?? null, omega0: scales?.omega0 ?? null, omega1: scales?.omega1 ?? null,
    out: null,
  };
}

export function grJson(law: PairLaw, g: PairCorrelation, density: number, seconds: number) {
  const arr = (a: Float64Array) => Array.from(a, (v) => (Number.isFinite(v) ? v : null));
  return {
    ...lawMetadata(law), N: g.nS + g.nL, nS: g.nS, nL: g.nL, density, a0: g.a0, binWidth: g.binWidth, rmax: g.rmax, units: 'r/a0',
    firstPeak: g.firstPeak, r: arr(g.r), gLL: arr(g.gLL), gSL: arr(g.gSL), gSS: arr(g.gSS), timings: { total: seconds },
  };
}

export function nqleJson(law: PairLaw, N: number, r: NqleResult, rattlers: RattlerAnalysis | null) {
  const modes = r.modes.map(({ vector: _vector, ...m }) => ({ ...m, kMinusOverFMinus: m.kMinus / m.fMinus }));
  return { ...lawMetadata(law), rattlers: rattlers?.rattlers ?? null, N, modes, descents: r.descents, harmonic: r.harmonic, maxForce: r.maxForce, timings: r.timings };
}

export type ElasticJson = ReturnType<typeof elasticJson>;
export type ModesJson = ReturnType<typeof modesJson>;
export type GrJson = ReturnType<typeof grJson>;
export type NqleJson = ReturnType<typeof nqleJson>;

const elasticStage: StageDefinition = {
  name: 'elastic',
  artefacts: [],
  run({ law, system, rattlers, harmonic }) {
    const r = measureElastic(system, { harmonic: harmonic() });
    const problem = r.converged ? undefined : `${r.cgSolves.filter((x) => x.reason !== 'converged').length} of 6 CG solves did not converge (largest residual ${Math.max(...r.cgSolves.map((x) => x.residual)).toExponential(2)} > ${r.cgTolerance})`;
    return { value: elasticJson(law, r, rattlers), converged: r.converged, problem, raw: r };
  },
};

const modesStage: StageDefinition = {
  name: 'modes',
  artefacts: ['modes'],
  run({ task, law, system, rattlers, earlier, harmonic, writeArtefact }) {
    const r = measureModes(system, { count: task.definition.modes.count, harmonic: harmonic() });
    writeArtefact('modes', formatNpy(r.vectors, [r.count, system.species.length, 3]));
    // c_s, ω₀, ω₁ from this sample's elastic stage when the campaign measures it; a small packing
    // near unjamming can have G ≤ 0 (unstable to a shear of its box): no sound speed then (null).
    const elastic = earlier.get('elastic') as ElasticResult | undefined;
    const value = modesJson(law, r, elastic && elastic.G > 0 ? soundScales(elastic.G, system) : null, rattlers);
    const problem = r.converged ? undefined : `${r.pairConverged.filter((c) => !c).length} of ${r.count} modes did not reach ‖Hψ − ω²ψ‖ ≤ ${r.tolerance.toExponential(2)}`;
    return { value, converged: r.converged, problem, raw: r };
  },
};

const grStage: StageDefinition = {
  name: 'gr',
  artefacts: [],
  run({ task, law, whole }) {
    const t0 = performance.now();
    const g = pairCorrelation(whole.box, whole.positions, whole.species, task.definition.gr);
    const value = grJson(law, g, whole.species.length / boxVolume(whole.box), (performance.now() - t0) / 1000);
    return { value, converged: null };
  },
};

const nqleStage: StageDefinition = {
  name: 'nqle',
  artefacts: ['nqle'],
  run({ task, law, system, rattlers, earlier, harmonic, writeArtefact }) {
    // starts from the modes stage's vectors when it ran (and found enough of them)
    const modes = earlier.get('modes') as ModesResult | undefined;
    const r = findNqles(system, { count: task.definition.nqle.count }, undefined, { harmonic: harmonic(), modes });
    const N = system.species.length;
    const data = new Float64Array(r.modes.length * 3 * N);
    r.modes.forEach((m, k) => data.set(m.vector, k * 3 * N));
    writeArtefact('nqle', formatNpy(data, [r.modes.length, N, 3]));
    // ω² beside the vectors, row for row. Recorded but not in `artefacts`: samples finished before
    // it existed stay valid rather than being recomputed for it.
    writeArtefact('nqleOmega2', formatNpy(Float64Array.from(r.modes, (m) => m.omega2), [r.modes.length]));
    // Each mode carries its own converged flag; the stage fails only when no descent converged.
    const converged = r.descents.converged > 0;
    return { value: nqleJson(law, N, r, rattlers), converged, problem: converged ? undefined : `none of ${r.descents.total} NQLE descents converged` };
  },
};

/** The stored aqs output: the scalars and events of `measure aqs --json`; the path is an artefact. */
export function aqsJson(law: PairLaw, r: AqsResult) {
  const { path: _path, eventFields: _fields, d2min: _d2min, profile, ...rest } = r;
  return { ...lawMetadata(law), ...rest, profile: profileRecord(profile) };
}
export type AqsJson = ReturnType<typeof aqsJson>;

/**
 * Shear to yield on a copy of the glass. The soft spots the first event is compared with are the
 * NQLEs and harmonic modes this sample's earlier stages wrote, read back from their artefacts.
 */
const aqsStage: StageDefinition = {
  name: 'aqs',
  artefacts: ['aqs-path', 'aqs-events', 'aqs-first-event', 'aqs-d2min'],
  run({ task, law, system, writeArtefact }) {
    const { definition: def, sample } = task;
    const settings = def.aqs;
    if (!settings) throw new Error('the campaign definition has no aqs settings');
    const N = system.species.length;
    const vectors = (kind: 'nqle' | 'modes'): Float64Array[] => {
      if (!def.measure.includes(kind)) return [];
      const a = readNpy(join(task.dir, artefactPath(def, sample.Q, sample.index, kind)));
      const data = Float64Array.from(a.data);
      return Array.from({ length: a.shape[0] }, (_, k) => data.slice(3 * N * k, 3 * N * (k + 1)));
    };
    const nqle = vectors('nqle'), modes = vectors('modes');
    const r = runAqs(cloneSystem(system), {
      plane: settings.plane, maxStrain: settings.maxStrain, step: settings.step,
      softSpots: nqle.length + modes.length > 0 ? { nqle, modes } : undefined,
    });
    writeArtefact('aqs-path', aqsPathCsv(r));
    writeArtefact('aqs-events', aqsEventsCsv(r));
    writeArtefact('aqs-first-event', formatNpy(r.eventFields[0] ?? new Float64Array(3 * N), [N, 3]));
    writeArtefact('aqs-d2min', formatNpy(r.d2min, [N]));
    return { value: aqsJson(law, r), converged: r.converged, problem: r.failure ?? undefined };
  },
};

/** The measurement stages available in this build, by name. */
export const STAGES: ReadonlyMap<MeasurementName, StageDefinition> = new Map<MeasurementName, StageDefinition>(
  [elasticStage, modesStage, grStage, nqleStage, aqsStage].map((s) => [s.name, s]),
);

/** A sample failure, tagged with the stage it happened in. */
export class StageError extends Error {
  readonly stage: string;
  /** The operating system's error code (ENOSPC, EIO, ...) when the stage failed on one. */
  readonly code: string | undefined;
  constructor(stage: string, message: string, cause?: unknown) {
    super(message);
    this.stage = stage;
    this.code = errnoCode(cause);
  }
}

function errnoCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^E[A-Z0-9]+$/.test(code) ? code : undefined;
}

/** Artefacts every finished sample of this campaign must have. */
export function expectedArtefacts(def: CampaignDefinition): ArtefactKind[] {
  return ['glass', ...def.measure.flatMap((m) => STAGES.get(m)?.artefacts ?? [])];
}

export function missingStages(def: CampaignDefinition): MeasurementName[] {
  return def.measure.filter((m) => !STAGES.has(m));
}

/** Run every stage of one sample. Throws StageError on failure (artefacts written so far are orphans, overwritten on retry). */
export function runSample(task: SampleTask): SampleOutcome {
  const { definition: def, sample } = task;
  const clock = () => performance.now() / 1000;
  const tStart = clock();
  const stages: StageRecord[] = [];
  const artefacts: ArtefactRecord[] = [];
  const writeArtefact = (kind: ArtefactKind, data: string | Uint8Array) => {
    const rel = artefactPath(def, sample.Q, sample.index, kind);
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    const abs = join(task.dir, rel);
    mkdirSync(dirname(abs), { recursive: true });
    writeFileAtomic(abs, bytes);
    artefacts.push({ kind, path: rel, bytes: bytes.length, sha256: sha256(bytes) });
  };

  const law = lawAt(def, sample.Q);
  let prepared: { system: System; summary: unknown; metadata: Record<string, unknown> };
  try {
    prepared = controlAxis(def) === 'Q' ? prepareGlassSample(task, law) : preparePackingSample(task, law);
  } catch (err) {
    throw err instanceof StageError ? err : new StageError('prepare', errorMessage(err), err);
  }
  stages.push({ stage: 'prepare', value: prepared.summary, seconds: clock() - tStart, converged: true });
  const identity = { ...lawMetadata(law), campaignSeed: def.seed, index: sample.index };
  writeArtefact('glass', formatExtendedXyz(systemToConfiguration(prepared.system, { ...identity, ...prepared.metadata, qglass: VERSION })));

  const { system, rattlers } = mechanicalBackbone(prepared.system);
  let shared: Harmonic | undefined;
  const harmonic = () => (shared ??= harmonicOf(system));
  const ctx: StageContext = { task, law, whole: prepared.system, system, rattlers, earlier: new Map(), harmonic, writeArtefact };
  for (const name of def.measure) {
    const stage = STAGES.get(name);
    if (!stage) throw new StageError(name, `this qglass cannot measure '${name}' (available: ${[...STAGES.keys()].join(', ') || 'none'})`);
    const t0 = clock();
    let out: StageOutput & { raw?: unknown };
    try {
      out = stage.run(ctx);
    } catch (err) {
      throw new StageError(name, errorMessage(err), err);
    }
    if (out.converged === false) throw new StageError(name, out.problem ?? `${name} did not converge`);
    if (out.raw !== undefined) ctx.earlier.set(name, out.raw);
    stages.push({ stage: name, value: out.value, seconds: clock() - t0, converged: out.converged });
  }
  return { stages, artefacts, seconds: clock() - tStart };
}

/** A glass of a Q-model by the preparation protocol; its summary is the `prepare --json` record. */
function prepareGlassSample({ definition: def, sample }: SampleTask, law: PairLaw) {
  const p = glassProtocol(def);
  const model = law.name === 'repulsive-q' ? 'repulsive-q' as const : 'q-model' as const;
  const r = prepareGlass({ ...p, model, Q: sample.Q, N: def.N, density: sample.density, seed: sample.seed });
  const s = prepareSummary(r, sample.densityMode);
  if (!s.converged) {
    throw new StageError('prepare', `the quench stopped (${r.quench.reason}) at max |F| = ${r.quench.maxForce.toExponential(3)} > ftol = ${p.ftol} after ${r.quench.iterations} minimiser iterations`);
  }
  const metadata = {
    density: s.finalDensity, densityMode: s.densityMode, seed: s.seed, t0: p.t0, nveTime: p.nveTime, dt: s.dt, ftol: p.ftol,
    energyPerParticle: s.energyPerParticle, pressure: s.pressure, maxForce: s.maxForce, converged: s.converged,
  };
  return { system: r.system, summary: s, metadata };
}

/** A soft-sphere packing at the point's target pressure, with its rattlers and Z (what `prepare --model … --json` prints). */
function preparePackingSample({ definition: def, sample }: SampleTask, law: PairLaw) {
  const r = preparePacking({ ...def.packing, law, N: def.N, pressure: sample.Q, seed: sample.seed });
  if (!r.converged) {
    throw new StageError('prepare', `the packing did not reach p = ${sample.Q} at a minimum: p = ${r.pressure.toExponential(4)}, max |F| = ${r.quench.maxForce.toExponential(3)} after ${r.steps} volume steps`);
  }
  const s = packingSummary(r, sample.seed, sample.Q, findRattlers(r.system));
  return { system: r.system, summary: s, metadata: packingMetadata(s) };
}

export function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Messages between the runner and a worker thread. */
export type ToWorker = { type: 'run'; task: SampleTask };
export type FromWorker =
  | { type: 'ready' }
  | { type: 'done'; outcome: SampleOutcome }
  | { type: 'failed'; error: string; stage: string | null; seconds: number; code?: string };

/** Worker side: run each task posted to the port and answer with its outcome or failure. */
export function serveSamples(port: MessagePort): void {
  port.on('message', (msg: ToWorker) => {
    const t0 = performance.now();
    try {
      const outcome = runSample(msg.task);
      port.postMessage({ type: 'done', outcome } satisfies FromWorker);
    } catch (err) {
      const stage = err instanceof StageError ? err.stage : null;
      const code = err instanceof StageError ? err.code : errnoCode(err);
      port.postMessage({ type: 'failed', error: errorMessage(err), stage, seconds: (performance.now() - t0) / 1000, code } satisfies FromWorker);
    }
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}
