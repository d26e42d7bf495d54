/**
 * One sample's pipeline: prepare → the campaign's measurements in MEASUREMENTS order (each
 * optional). Every stage returns its JSON output (what its `measure … --json` prints, stored as it
 * is) and whether it converged; an unconverged stage fails the sample with the stage's own account,
 * since a number from an unconverged solver must never reach the ensemble. Artefacts are written
 * atomically (temporary file, fsync, rename) and returned with size and SHA-256, so the runner can
 * record the sample in the catalog only once its files are safely on disk.
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { prepareGlass, type PrepareResult } from '../engine/prepare.ts';
import { systemToConfiguration, type System } from '../engine/system.ts';
import { formatExtendedXyz } from '../io/xyz.ts';
import { writeFileAtomic } from '../io/atomic-write.ts';
import { measureElastic, type ElasticResult } from '../measure/elastic.ts';
import { measureModes, soundScales, type ModesResult, type SoundScales } from '../measure/modes.ts';
import { findNqles, type NqleResult } from '../measure/nqle.ts';
import { formatNpy } from '../io/npy.ts';
import { pairCorrelation, type PairCorrelation } from '../measure/pair-correlation.ts';
import { boxVolume } from '../space/box.ts';
import { prepareSummary } from '../engine/prepare.ts';
import { VERSION } from '../util/version.ts';
import { artefactPath, type ArtefactKind, type CampaignDefinition, type MeasurementName } from './campaign.ts';
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
  prepared: PrepareResult;
  /** The quenched glass; stages must leave it as they found it. */
  system: System;
  /** Raw (non-JSON) results of earlier stages, e.g. mode vectors for NQLE starting points. */
  earlier: Map<MeasurementName, unknown>;
  writeArtefact(kind: ArtefactKind, data: string | Uint8Array): void;
}

export interface StageDefinition {
  name: MeasurementName;
  /** Artefacts the stage writes (every sample also has its glass). */
  artefacts: readonly ArtefactKind[];
  run(ctx: StageContext): StageOutput & { raw?: unknown };
}

/** The stored output of each stage: the fields its `qglass … --json` command prints (no file names). */
export function elasticJson(Q: number, r: ElasticResult) {
  return { Q, ...r };
}

export function modesJson(Q: number, r: ModesResult, scales: SoundScales | null) {
  const { vectors: _vectors, timings, ...summary } = r;
  return {
    Q, ...summary, timings: { ...timings, elastic: 0 },
    G: scales?.G ?? null, cs: scales?.cs ?? null, a0: scales?.a0 ?? null, omega0: scales?.omega0 ?? null, omega1: scales?.omega1 ?? null,
    out: null,
  };
}

export function grJson(Q: number, g: PairCorrelation, density: number, seconds: number) {
  const arr = (a: Float64Array) => Array.from(a, (v) => (Number.isFinite(v) ? v : null));
  return {
    Q, N: g.nS + g.nL, nS: g.nS, nL: g.nL, density, a0: g.a0, binWidth: g.binWidth, rmax: g.rmax, units: 'r/a0',
    firstPeak: g.firstPeak, r: arr(g.r), gLL: arr(g.gLL), gSL: arr(g.gSL), gSS: arr(g.gSS), timings: { total: seconds },
  };
}

export function nqleJson(Q: number, N: number, r: NqleResult) {
  const modes = r.modes.map(({ vector: _vector, ...m }) => ({ ...m, kMinusOverFMinus: m.kMinus / m.fMinus }));
  return { Q, N, modes, descents: r.descents, harmonic: r.harmonic, maxForce: r.maxForce, timings: r.timings };
}

export type ElasticJson = ReturnType<typeof elasticJson>;
export type ModesJson = ReturnType<typeof modesJson>;
export type GrJson = ReturnType<typeof grJson>;
export type NqleJson = ReturnType<typeof nqleJson>;

const elasticStage: StageDefinition = {
  name: 'elastic',
  artefacts: [],
  run({ task, system }) {
    const r = measureElastic(system);
    const problem = r.converged ? undefined : `${r.cgSolves.filter((x) => x.reason !== 'converged').length} of 6 CG solves did not converge (largest residual ${Math.max(...r.cgSolves.map((x) => x.residual)).toExponential(2)} > ${r.cgTolerance})`;
    return { value: elasticJson(task.sample.Q, r), converged: r.converged, problem, raw: r };
  },
};

const modesStage: StageDefinition = {
  name: 'modes',
  artefacts: ['modes'],
  run({ task, system, earlier, writeArtefact }) {
    const r = measureModes(system, { count: task.definition.modes.count });
    writeArtefact('modes', formatNpy(r.vectors, [r.count, system.species.length, 3]));
    // c_s, ω₀, ω₁ from this sample's elastic stage when the campaign measures it.
    const elastic = earlier.get('elastic') as ElasticResult | undefined;
    const value = modesJson(task.sample.Q, r, elastic ? soundScales(elastic.G, system) : null);
    const problem = r.converged ? undefined : `${r.pairConverged.filter((c) => !c).length} of ${r.count} modes did not reach ‖Hψ − ω²ψ‖ ≤ ${r.tolerance.toExponential(2)}`;
    return { value, converged: r.converged, problem };
  },
};

const grStage: StageDefinition = {
  name: 'gr',
  artefacts: [],
  run({ task, system }) {
    const t0 = performance.now();
    const g = pairCorrelation(system.box, system.positions, system.species, task.definition.gr);
    const value = grJson(task.sample.Q, g, system.species.length / boxVolume(system.box), (performance.now() - t0) / 1000);
    return { value, converged: null };
  },
};

const nqleStage: StageDefinition = {
  name: 'nqle',
  artefacts: ['nqle'],
  run({ task, system, writeArtefact }) {
    const r = findNqles(system, { count: task.definition.nqle.count });
    const N = system.species.length;
    const data = new Float64Array(r.modes.length * 3 * N);
    r.modes.forEach((m, k) => data.set(m.vector, k * 3 * N));
    writeArtefact('nqle', formatNpy(data, [r.modes.length, N, 3]));
    // ω² beside the vectors, row for row. Recorded but not in `artefacts`: samples finished before
    // it existed stay valid rather than being recomputed for it.
    writeArtefact('nqleOmega2', formatNpy(Float64Array.from(r.modes, (m) => m.omega2), [r.modes.length]));
    // Each mode carries its own converged flag; the stage fails only when no descent converged.
    const converged = r.descents.converged > 0;
    return { value: nqleJson(task.sample.Q, N, r), converged, problem: converged ? undefined : `none of ${r.descents.total} NQLE descents converged` };
  },
};

/** The measurement stages available in this build, by name. */
export const STAGES: ReadonlyMap<MeasurementName, StageDefinition> = new Map<MeasurementName, StageDefinition>(
  [elasticStage, modesStage, grStage, nqleStage].map((s) => [s.name, s]),
);

/** A sample failure, tagged with the stage it happened in. */
export class StageError extends Error {
  readonly stage: string;
  constructor(stage: string, message: string) {
    super(message);
    this.stage = stage;
  }
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

  let prepared: PrepareResult;
  try {
    prepared = prepareGlass({ ...def.protocol, Q: sample.Q, N: def.N, density: sample.density, seed: sample.seed });
  } catch (err) {
    throw new StageError('prepare', errorMessage(err));
  }
  const summary = prepareSummary(prepared, sample.densityMode);
  if (!summary.converged) {
    throw new StageError(
      'prepare',
      `the quench stopped (${prepared.quench.reason}) at max |F| = ${prepared.quench.maxForce.toExponential(3)} > ftol = ${def.protocol.ftol} after ${prepared.quench.iterations} CG iterations`,
    );
  }
  stages.push({ stage: 'prepare', value: summary, seconds: clock() - tStart, converged: true });
  writeArtefact('glass', formatExtendedXyz(systemToConfiguration(prepared.system, glassMetadata(task, summary))));

  const ctx: StageContext = { task, prepared, system: prepared.system, earlier: new Map(), writeArtefact };
  for (const name of def.measure) {
    const stage = STAGES.get(name);
    if (!stage) throw new StageError(name, `this qglass cannot measure '${name}' (available: ${[...STAGES.keys()].join(', ') || 'none'})`);
    const t0 = clock();
    let out: StageOutput & { raw?: unknown };
    try {
      out = stage.run(ctx);
    } catch (err) {
      throw new StageError(name, errorMessage(err));
    }
    if (out.converged === false) throw new StageError(name, out.problem ?? `${name} did not converge`);
    if (out.raw !== undefined) ctx.earlier.set(name, out.raw);
    stages.push({ stage: name, value: out.value, seconds: clock() - t0, converged: out.converged });
  }
  return { stages, artefacts, seconds: clock() - tStart };
}

function glassMetadata(task: SampleTask, s: ReturnType<typeof prepareSummary>) {
  const p = task.definition.protocol;
  return {
    Q: s.Q, density: s.finalDensity, densityMode: s.densityMode, seed: s.seed, campaignSeed: task.definition.seed,
    index: task.sample.index, t0: p.t0, nveTime: p.nveTime, dt: s.dt, ftol: p.ftol,
    energyPerParticle: s.energyPerParticle, pressure: s.pressure, maxForce: s.maxForce, converged: s.converged, qglass: VERSION,
  };
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
  | { type: 'failed'; error: string; stage: string | null; seconds: number };

/** Worker side: run each task posted to the port and answer with its outcome or failure. */
export function serveSamples(port: MessagePort): void {
  port.on('message', (msg: ToWorker) => {
    const t0 = performance.now();
    try {
      const outcome = runSample(msg.task);
      port.postMessage({ type: 'done', outcome } satisfies FromWorker);
    } catch (err) {
      const stage = err instanceof StageError ? err.stage : null;
      port.postMessage({ type: 'failed', error: errorMessage(err), stage, seconds: (performance.now() - t0) / 1000 } satisfies FromWorker);
    }
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}
