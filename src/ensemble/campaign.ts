/**
 * A campaign: a directory holding its definition (campaign.json), per-sample artefacts under
 * samples/<point>/ and one SQLite catalog per shard. The definition fixes everything a sample's
 * numbers depend on (pair law, control points, N, densities resolved at init time, protocol,
 * measurements), so any sample can be recomputed alone from (definition, point, index).
 *
 * The control axis depends on the law: the Q-models (q-model, the default, and repulsive-q) are
 * prepared at a density by the glass protocol and their points are Q values; soft spheres (harmonic,
 * hertzian) are packed at a target pressure and their points are pressures. A sample is keyed by its
 * point's control value (field `Q` of planned and catalog samples, the catalog's q column, for
 * either axis) and its index.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_PREPARE, nveSchedule, type PrepareOptions } from '../engine/prepare.ts';
import { DEFAULT_PACKING, validatePackingOptions } from '../engine/packing.ts';
import { checkCampaignSize, checkDensity, checkNveSteps, LIMITS } from '../model/limits.ts';
import { resolveDensity, type DensityChoice } from '../model/presets.ts';
import { validateQ } from '../model/q-model.ts';
import { LAW_NAMES, lawMetadata, makePairLaw } from '../model/laws.ts';
import type { PairLaw } from '../model/pair-law.ts';
import { fccCellsFor } from '../space/lattice.ts';
import { validateSeed } from '../util/random.ts';
import { DEFAULT_PAIR_CORRELATION } from '../measure/pair-correlation.ts';
import { DEFAULT_MODE_COUNT } from '../measure/modes.ts';
import { DEFAULT_NQLE } from '../measure/nqle.ts';
import { writeFileAtomic } from '../io/atomic-write.ts';
import { decimalOrNaN } from '../util/decimal.ts';

export const CAMPAIGN_FILE = 'campaign.json';

/** Measurements a sample can run after preparation, in pipeline order. */
export const MEASUREMENTS = ['elastic', 'modes', 'gr', 'nqle', 'aqs'] as const;
export type MeasurementName = (typeof MEASUREMENTS)[number];
/** Those a campaign runs unless told otherwise (shear to yield, aqs, is asked for explicitly: it costs far more). */
export const DEFAULT_MEASUREMENTS: readonly MeasurementName[] = ['elastic', 'modes', 'gr', 'nqle'];
/** Athermal quasistatic shear of each sample: plane xy to maxStrain in steps of step. */
export const DEFAULT_AQS = { plane: 'xy', maxStrain: 0.15, step: 2e-4 } as const;

export type Protocol = Omit<PrepareOptions, 'model' | 'Q' | 'N' | 'density' | 'seed'>;

const positive = z.number().positive().finite();

const ProtocolSchema = z.strictObject({
  t0: positive,
  nveTime: z.number().nonnegative().finite(),
  dtFactor: positive,
  dtMax: positive,
  dt: positive.optional(),
  ftol: positive,
  overlapEnergy: z.number().finite(),
  overlapMaxStep: positive,
  relaxPressureTol: z.number().nonnegative().finite(),
  maxCgIterations: z.number().int().positive(),
  skin: positive.optional(),
});

const DensitySchema = z.strictObject({
  Q: z.number(),
  density: positive,
  mode: z.enum(['zero-pressure', 'paper', 'explicit', 'q-model-zero-pressure']),
});

/** The soft-sphere packing protocol's settings (src/engine/packing.ts). */
const PackingSchema = z.strictObject({
  pressureTolerance: positive.max(0.5),
  forceTolerance: positive,
  startPackingFraction: positive.max(2),
  maxPressureRatio: z.number().gt(1).finite(),
  maxSteps: z.number().int().positive(),
});

export const CampaignSchema = z
  .strictObject({
    format: z.literal('qglass-campaign'),
    version: z.literal(1),
    /** The pair law and its fixed parameters (those that are not the control axis); absent: the Q-model. */
    law: z.strictObject({ model: z.string(), parameters: z.record(z.string(), z.number()) }).optional(),
    /** Control points of a Q-model campaign (empty, and left out of campaign.json, for a campaign over pressures). */
    Q: z.array(z.number().gt(6).finite()).default([]),
    /** Control points of a soft-sphere campaign: target pressures (ε/σ_S³). */
    pressure: z.array(positive.max(1)).min(1).optional(),
    N: z.number().int().positive(),
    samples: z.number().int().positive(),
    seed: z.number().int().min(0).max(0xffffffff),
    /** Q-model campaigns: the rule as given (zero-pressure | paper | number | Q:number list) and its value per Q. */
    density: z.strictObject({ rule: z.string(), perQ: z.array(DensitySchema) }).optional(),
    /** Q-model campaigns: the glass preparation protocol. */
    protocol: ProtocolSchema.optional(),
    /** Soft-sphere campaigns: the packing protocol. */
    packing: PackingSchema.optional(),
    measure: z.array(z.enum(MEASUREMENTS)),
    modes: z.strictObject({ count: z.number().int().positive() }),
    nqle: z.strictObject({ count: z.number().int().positive() }),
    /** g(r) grid in units of a₀; rmax stays below half the box width, 0.5·N^(1/3)·a₀ for a cube. */
    gr: z.strictObject({ binWidth: positive, rmax: positive }),
    aqs: z.strictObject({ plane: z.enum(['xy', 'xz', 'yz']), maxStrain: positive.max(0.5), step: positive }).optional(),
    /** Version of qglass that created the campaign (informative; not part of the identity). */
    createdBy: z.string(),
  })
  .superRefine((c, ctx) => {
    const issue = (path: string, message: string) => ctx.addIssue({ code: 'custom', path: [path], message });
    const model = c.law?.model ?? 'q-model';
    if (!LAW_NAMES.includes(model)) {
      issue('law', `unknown pair law '${model}' (${LAW_NAMES.join(', ')})`);
      return;
    }
    const axis = lawAxis(model);
    const points = axis === 'Q' ? c.Q : (c.pressure ?? []);
    if (axis === 'Q') {
      if (c.Q.length === 0) issue('Q', `a ${model} campaign needs at least one Q value`);
      if (c.pressure !== undefined) issue('pressure', `a ${model} campaign's points are Q values, not pressures`);
      if (!c.density) issue('density', `a ${model} campaign needs its densities`);
      if (!c.protocol) issue('protocol', `a ${model} campaign needs its preparation protocol`);
      if (c.packing) issue('packing', `the packing protocol is for soft-sphere campaigns, not ${model}`);
    } else {
      if (c.Q.length > 0) issue('Q', `a ${model} campaign's points are target pressures, not Q values`);
      if (c.pressure === undefined) issue('pressure', `a ${model} campaign needs at least one target pressure`);
      if (c.density || c.protocol) issue(c.density ? 'density' : 'protocol', `${model} packings are prepared at a target pressure by the packing protocol, not at a density by the glass protocol`);
      if (!c.packing) issue('packing', `a ${model} campaign needs its packing protocol`);
    }
    if (c.law) {
      try {
        const fixed = fixedParameters(makePairLaw(model, { ...c.law.parameters, ...(axis === 'Q' ? { Q: points[0] ?? 10 } : {}) }), axis);
        if (canonicalJson(fixed) !== canonicalJson(c.law.parameters)) issue('law', `the ${model} law's parameters are ${canonicalJson(fixed)}, not ${canonicalJson(c.law.parameters)}`);
      } catch (err) {
        issue('law', (err as Error).message);
      }
    }
    if (c.samples * points.length > LIMITS.campaignSamples) {
      issue('samples', `${c.samples} samples × ${points.length} points exceeds the limit of ${LIMITS.campaignSamples} samples per campaign`);
    }
    if (new Set(points).size !== points.length) issue(axis, `${axis} values must be distinct`);
    if (c.gr.rmax <= c.gr.binWidth || c.gr.rmax >= 0.5 * Math.cbrt(c.N)) {
      ctx.addIssue({ code: 'custom', path: ['gr', 'rmax'], message: `g(r) rmax must lie between the bin width and half the box width (${(0.5 * Math.cbrt(c.N)).toFixed(3)} a₀ for N = ${c.N})` });
    }
    if (new Set(c.measure).size !== c.measure.length) ctx.addIssue({ code: 'custom', path: ['measure'], message: 'measurements must be distinct' });
    if (c.measure.includes('aqs') && !c.aqs) ctx.addIssue({ code: 'custom', path: ['aqs'], message: 'the aqs measurement needs its strain settings' });
    if (c.aqs && c.aqs.step > c.aqs.maxStrain) ctx.addIssue({ code: 'custom', path: ['aqs', 'step'], message: 'the aqs strain step exceeds the final strain' });
    for (const Q of c.Q) {
      if (c.density && !c.density.perQ.some((d) => d.Q === Q)) ctx.addIssue({ code: 'custom', path: ['density', 'perQ'], message: `no density for Q = ${Q}` });
    }
  });

export type CampaignDefinition = z.infer<typeof CampaignSchema>;

/** The axis a campaign's points lie on: Q (glasses of the Q-models at a density) or target pressure (soft-sphere packings). */
export type ControlAxis = 'Q' | 'pressure';

/** The control axis of a law by name: pressure for soft spheres (packed at a target pressure), else Q. */
export function lawAxis(model: string): ControlAxis {
  let axis = LAW_AXES.get(model);
  if (axis === undefined) {
    // a placeholder Q for the laws that take one: only the kernel family is looked at
    axis = makePairLaw(model, { Q: 12 }).kernel.family === 'soft-sphere' ? 'pressure' : 'Q';
    LAW_AXES.set(model, axis);
  }
  return axis;
}

/** Axes of the laws looked up so far (every sample's paths and seeds ask). */
const LAW_AXES = new Map<string, ControlAxis>();

/** A law's recorded parameters other than its name and the control axis (alpha of the soft spheres; none of the Q-models). */
function fixedParameters(law: PairLaw, axis: ControlAxis): Record<string, number> {
  return Object.fromEntries(Object.entries(lawMetadata(law)).filter((e): e is [string, number] => e[0] !== 'model' && e[0] !== axis && typeof e[1] === 'number'));
}

/** The campaign's pair law by name (q-model when the definition names none). */
export function campaignModel(def: CampaignDefinition): string {
  return def.law?.model ?? 'q-model';
}

export function controlAxis(def: CampaignDefinition): ControlAxis {
  return lawAxis(campaignModel(def));
}

/** The campaign's points: its control values (Q values or target pressures) in definition order. */
export function controlValues(def: CampaignDefinition): number[] {
  return controlAxis(def) === 'Q' ? def.Q : (def.pressure ?? []);
}

/** The pair law of the campaign's samples at one point. */
export function lawAt(def: CampaignDefinition, value: number): PairLaw {
  const fixed = def.law?.parameters ?? {};
  return makePairLaw(campaignModel(def), controlAxis(def) === 'Q' ? { ...fixed, Q: value } : fixed);
}

/** A point as people read it: "Q=240", "p=0.001". */
export function pointLabel(axis: ControlAxis, value: number): string {
  return `${axis === 'Q' ? 'Q' : 'p'}=${value}`;
}

/** A point's directory under samples/: Q240, p0.001. */
export function pointDirectory(axis: ControlAxis, value: number): string {
  return `${axis === 'Q' ? 'Q' : 'p'}${value}`;
}

/** The control value of a samples/ subdirectory name (null for any other name). */
export function pointOfDirectory(axis: ControlAxis, name: string): number | null {
  const prefix = axis === 'Q' ? 'Q' : 'p';
  const v = name.startsWith(prefix) ? decimalOrNaN(name.slice(1)) : NaN;
  return Number.isFinite(v) ? v : null;
}

export interface CampaignInput {
  /** Pair law (default q-model). */
  model?: string;
  /** Points of a Q-model campaign (q-model, repulsive-q). */
  Q?: number[];
  /** Points of a soft-sphere campaign (harmonic, hertzian): target pressures (ε/σ_S³). */
  pressure?: number[];
  N: number;
  samples: number;
  seed: number;
  /**
   * Q-model campaigns: zero-pressure (default for q-model) | paper | a number | per-Q list
   * "10:0.55,240:0.62"; for repulsive-q also q-model-zero-pressure (its default: the Q-model's
   * zero-pressure densities, a comparison at equal density).
   */
  density?: string;
  protocol?: Partial<Protocol>;
  measure?: MeasurementName[];
  /** Lowest vibrational modes per sample (default 20). */
  modes?: number;
  /** Softest NQLEs per sample (default 5). */
  nqle?: number;
  /** Final strain and strain step of the aqs stage (defaults DEFAULT_AQS). */
  aqsMaxStrain?: number;
  aqsStep?: number;
  createdBy: string;
  /** Accept NVE runs longer than the step limit (model/limits.ts). */
  force?: boolean;
}

/**
 * Build and validate a definition; densities are resolved now so later preset changes cannot alter
 * it. Options that do not belong to the law's axis (--pressure for a Q-model, --q or a density for
 * soft spheres) are refused before anything is computed.
 */
export function defineCampaign(input: CampaignInput): CampaignDefinition {
  const model = input.model ?? 'q-model';
  const axis = lawAxis(model);
  validateSeed(input.seed);
  const points = axis === 'Q' ? defineQPoints(model, input) : definePressurePoints(model, input);
  if (!Number.isInteger(input.samples) || input.samples < 1) throw new RangeError(`samples per ${axis === 'Q' ? 'Q' : 'pressure'} must be an integer ≥ 1; got ${input.samples}`);
  checkCampaignSize(input.samples, points.length);
  const measure = MEASUREMENTS.filter((m) => (input.measure ?? []).includes(m));
  // the law's fixed parameters, recorded unless it is the default q-model (old definitions stay as they were)
  const fixed = fixedParameters(makePairLaw(model, { Q: points[0] }), axis);
  const def: CampaignDefinition = {
    format: 'qglass-campaign',
    version: 1,
    ...(model === 'q-model' ? {} : { law: { model, parameters: fixed } }),
    Q: axis === 'Q' ? points : [],
    ...(axis === 'pressure' ? { pressure: points } : {}),
    N: input.N,
    samples: input.samples,
    seed: input.seed,
    ...(axis === 'Q'
      ? { density: { rule: input.density ?? defaultDensityRule(model), perQ: resolveDensities(input.density ?? defaultDensityRule(model), points, model) }, protocol: { ...DEFAULT_PREPARE, ...input.protocol } }
      : { packing: { ...DEFAULT_PACKING } }),
    measure,
    modes: { count: input.modes ?? DEFAULT_MODE_COUNT },
    nqle: { count: input.nqle ?? DEFAULT_NQLE.count },
    gr: { binWidth: DEFAULT_PAIR_CORRELATION.binWidth, rmax: defaultGrRange(input.N) },
    ...(measure.includes('aqs')
      ? { aqs: { plane: DEFAULT_AQS.plane, maxStrain: input.aqsMaxStrain ?? DEFAULT_AQS.maxStrain, step: input.aqsStep ?? DEFAULT_AQS.step } }
      : {}),
    createdBy: input.createdBy,
  };
  return validateDefinition(def, 'the campaign options');
}

/** The density rule a Q-model campaign uses unless told: its own zero-pressure table, the Q-model's for repulsive-q. */
function defaultDensityRule(model: string): string {
  return model === 'repulsive-q' ? 'q-model-zero-pressure' : 'zero-pressure';
}

function defineQPoints(model: string, input: CampaignInput): number[] {
  if (input.pressure !== undefined) throw new RangeError(`--pressure is for soft-sphere campaigns (harmonic, hertzian); ${model} glasses are prepared at a density: give their Q values with --q`);
  const Qs = input.Q ?? [];
  if (Qs.length === 0) throw new RangeError('give at least one Q value (--q 10,20,40)');
  for (const Q of Qs) validateQ(Q);
  fccCellsFor(input.N);
  const protocol = { ...DEFAULT_PREPARE, ...input.protocol };
  for (const Q of Qs) {
    const { dt, steps } = nveSchedule({ ...protocol, Q });
    checkNveSteps(steps, `Q = ${Q} (dt = ${dt.toExponential(2)})`, input.force ?? false);
  }
  return Qs;
}

function definePressurePoints(model: string, input: CampaignInput): number[] {
  if (input.Q !== undefined && input.Q.length > 0) throw new RangeError(`--q is a parameter of the Q-models; the points of a ${model} campaign are target pressures: give them with --pressure`);
  if (input.density !== undefined) throw new RangeError(`--density: ${model} packings are prepared at a target pressure (--pressure); their density follows from it`);
  if (input.protocol !== undefined) throw new RangeError(`the glass protocol's options (--t0, --nve-time, --ftol, --dt, --relax-pressure, ...) do not apply to ${model} packings, which are prepared at a target pressure`);
  const pressures = input.pressure ?? [];
  if (pressures.length === 0) throw new RangeError(`a ${model} campaign needs its target pressures: --pressure 1e-1,1e-2,1e-3 (ε/σ³)`);
  const law = makePairLaw(model);
  for (const p of pressures) {
    try {
      validatePackingOptions({ law, N: input.N, pressure: p, seed: input.seed });
    } catch (err) {
      throw new RangeError(`--pressure ${p}, --n ${input.N}: ${(err as Error).message}`);
    }
  }
  if (new Set(pressures).size !== pressures.length) throw new RangeError(`--pressure values must be distinct; got ${pressures.join(',')}`);
  return pressures;
}
/** The default g(r) range, cut to a tenth of a₀ below half the width of a cubic box of N particles. */
export function defaultGrRange(N: number): number {
  const half = 0.5 * Math.cbrt(N);
  return Math.min(DEFAULT_PAIR_CORRELATION.rmax, Math.ceil(half * 10 - 1) / 10);
}

/**
 * Densities per Q from a rule: a preset name, one number for all Q, or a "Q:rho,Q:rho" list. The
 * repulsive-q glass has no zero-pressure density (without attraction p > 0 at every density): it
 * takes numbers or q-model-zero-pressure, the Q-model's zero-pressure densities.
 */
export function resolveDensities(rule: string, Qs: readonly number[], model = 'q-model'): Array<z.infer<typeof DensitySchema>> {
  if (rule === 'q-model-zero-pressure') {
    return Qs.map((Q) => ({ Q, density: resolveDensity('zero-pressure', Q).density, mode: 'q-model-zero-pressure' as const }));
  }
  if (model !== 'q-model' && (rule === 'zero-pressure' || rule === 'paper')) {
    throw new RangeError(`--density ${rule} is the Q-model's; ${model} glasses take q-model-zero-pressure (the Q-model's zero-pressure densities), a number or a Q:density list`);
  }
  if (rule.includes(':')) {
    const given = new Map<number, number>();
    for (const part of rule.split(',')) {
      const [q, rho, ...rest] = part.split(':');
      const Q = decimalOrNaN(q), density = decimalOrNaN(rho);
      if (rest.length > 0 || !Number.isFinite(Q) || !(density > 0) || !Number.isFinite(density)) {
        throw new RangeError(`--density list entries must be Q:density with decimal numbers and a positive density (e.g. 10:0.55,240:0.62); got '${part}'`);
      }
      if (given.has(Q)) throw new RangeError(`--density list gives Q = ${Q} twice ('${rule}'); give one Q:density per Q`);
      checkDensity(density, `--density (Q = ${Q})`);
      given.set(Q, density);
    }
    return Qs.map((Q) => {
      const density = given.get(Q);
      if (density === undefined) throw new RangeError(`--density list has no entry for Q = ${Q}; give one Q:density per Q`);
      return { Q, density, mode: 'explicit' as const };
    });
  }
  return Qs.map((Q) => ({ Q, ...resolveDensity(rule, Q) }));
}

export function validateDefinition(raw: unknown, source: string): CampaignDefinition {
  const r = CampaignSchema.safeParse(raw);
  if (!r.success) throw new RangeError(`${source} is not a valid campaign definition:\n${z.prettifyError(r.error)}`);
  return r.data;
}

/** The density a point's samples are prepared at; a soft-sphere packing's follows from its pressure (0 here). */
export function densityFor(def: CampaignDefinition, Q: number): DensityChoice {
  if (!def.density) return { density: 0, mode: 'target-pressure' };
  const d = def.density.perQ.find((e) => e.Q === Q);
  if (!d) throw new RangeError(`Q = ${Q} is not part of this campaign (Q = ${def.Q.join(', ')})`);
  return { density: d.density, mode: d.mode };
}

/** The glass protocol of a Q-model campaign (an error for a campaign over pressures). */
export function glassProtocol(def: CampaignDefinition): Protocol {
  if (!def.protocol) throw new RangeError(`the ${campaignModel(def)} campaign has no glass protocol: its samples are packings at a target pressure`);
  return def.protocol;
}

/** campaign.json's text: the definition without the empty Q list of a campaign over pressures. */
export function campaignJson(def: CampaignDefinition, indent?: number): string {
  const { Q, ...rest } = def;
  const shown = controlAxis(def) === 'Q' ? def : { ...rest, ...(Q.length > 0 ? { Q } : {}) };
  return JSON.stringify(shown, null, indent);
}

/** Everything that determines a sample's numbers, hashed: catalogs refuse a changed definition. */
export function definitionHash(def: CampaignDefinition): string {
  const { createdBy: _createdBy, ...identity } = def;
  return createHash('sha256').update(canonicalJson(identity)).digest('hex');
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/** Whether DIR already holds this campaign (false: no campaign yet); a different one is refused. */
export function holdsCampaign(dir: string, def: CampaignDefinition): boolean {
  const file = join(dir, CAMPAIGN_FILE);
  if (!existsSync(file)) return false;
  if (definitionHash(readCampaign(dir)) === definitionHash(def)) return true;
  throw new RangeError(`${file} already holds a different campaign; choose another directory (a campaign's definition cannot change once created)`);
}

/**
 * Write the definition to DIR/campaign.json. Initialising again with an identical definition is a
 * no-op; a different one is refused (its samples would no longer match the catalog).
 */
export function initCampaign(dir: string, def: CampaignDefinition): { created: boolean } {
  if (holdsCampaign(dir, def)) return { created: false };
  mkdirSync(dir, { recursive: true });
  const file = join(dir, CAMPAIGN_FILE);
  writeFileAtomic(file, campaignJson(def, 2) + '\n');
  return { created: true };
}

export function readCampaign(dir: string): CampaignDefinition {
  const file = join(dir, CAMPAIGN_FILE);
  if (!existsSync(file)) throw new RangeError(`${dir} is not a campaign directory (no ${CAMPAIGN_FILE}); create one with \`qglass campaign init ${dir} ...\``);
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new RangeError(`${file} is not valid JSON: ${(err as Error).message}`);
  }
  return validateDefinition(raw, file);
}

export type ArtefactKind = 'glass' | 'modes' | 'nqle' | 'nqleOmega2' | 'aqs-path' | 'aqs-events' | 'aqs-first-event' | 'aqs-d2min';

const ARTEFACT_FILE: Record<ArtefactKind, string> = {
  glass: 'glass.xyz', modes: 'modes.npy', nqle: 'nqle.npy', nqleOmega2: 'nqle-omega2.npy',
  'aqs-path': 'aqs-path.csv', 'aqs-events': 'aqs-events.csv', 'aqs-first-event': 'aqs-first-event.npy', 'aqs-d2min': 'aqs-d2min.npy',
};

export const ARTEFACT_KINDS = Object.keys(ARTEFACT_FILE) as ArtefactKind[];

export function isArtefactKind(s: string): s is ArtefactKind {
  return Object.hasOwn(ARTEFACT_FILE, s);
}

/** Path of a sample's artefact relative to the campaign directory: samples/<point>/<index>-<file> (samples/Q240/, samples/p0.001/). */
export function artefactPath(def: CampaignDefinition, Q: number, index: number, kind: ArtefactKind): string {
  const width = Math.max(5, String(def.samples - 1).length);
  return join(SAMPLES_DIR, pointDirectory(controlAxis(def), Q), `${String(index).padStart(width, '0')}-${ARTEFACT_FILE[kind]}`);
}

export const SAMPLES_DIR = 'samples';
