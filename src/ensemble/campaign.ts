/**
 * A campaign: a directory holding its definition (campaign.json), per-sample artefacts under
 * samples/Q<Q>/ and one SQLite catalog per shard. The definition fixes everything a sample's
 * numbers depend on (Q values, N, densities resolved at init time, protocol, measurements), so any
 * sample can be recomputed alone from (definition, Q, index).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { DEFAULT_PREPARE, nveSchedule, type PrepareOptions } from '../engine/prepare.ts';
import { checkCampaignSize, checkDensity, checkNveSteps, LIMITS } from '../model/limits.ts';
import { resolveDensity, type DensityChoice } from '../model/presets.ts';
import { validateQ } from '../model/q-model.ts';
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

export type Protocol = Omit<PrepareOptions, 'Q' | 'N' | 'density' | 'seed'>;

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
  mode: z.enum(['zero-pressure', 'paper', 'explicit']),
});

export const CampaignSchema = z
  .strictObject({
    format: z.literal('qglass-campaign'),
    version: z.literal(1),
    Q: z.array(z.number().gt(6).finite()).min(1),
    N: z.number().int().positive(),
    samples: z.number().int().positive(),
    seed: z.number().int().min(0).max(0xffffffff),
    /** The rule as given (zero-pressure | paper | number | Q:number list) and its value per Q. */
    density: z.strictObject({ rule: z.string(), perQ: z.array(DensitySchema) }),
    protocol: ProtocolSchema,
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
    if (c.samples * c.Q.length > LIMITS.campaignSamples) {
      ctx.addIssue({ code: 'custom', path: ['samples'], message: `${c.samples} samples × ${c.Q.length} Q exceeds the limit of ${LIMITS.campaignSamples} samples per campaign` });
    }
    if (new Set(c.Q).size !== c.Q.length) ctx.addIssue({ code: 'custom', path: ['Q'], message: 'Q values must be distinct' });
    if (c.gr.rmax <= c.gr.binWidth || c.gr.rmax >= 0.5 * Math.cbrt(c.N)) {
      ctx.addIssue({ code: 'custom', path: ['gr', 'rmax'], message: `g(r) rmax must lie between the bin width and half the box width (${(0.5 * Math.cbrt(c.N)).toFixed(3)} a₀ for N = ${c.N})` });
    }
    if (new Set(c.measure).size !== c.measure.length) ctx.addIssue({ code: 'custom', path: ['measure'], message: 'measurements must be distinct' });
    if (c.measure.includes('aqs') && !c.aqs) ctx.addIssue({ code: 'custom', path: ['aqs'], message: 'the aqs measurement needs its strain settings' });
    if (c.aqs && c.aqs.step > c.aqs.maxStrain) ctx.addIssue({ code: 'custom', path: ['aqs', 'step'], message: 'the aqs strain step exceeds the final strain' });
    for (const Q of c.Q) {
      if (!c.density.perQ.some((d) => d.Q === Q)) ctx.addIssue({ code: 'custom', path: ['density', 'perQ'], message: `no density for Q = ${Q}` });
    }
  });

export type CampaignDefinition = z.infer<typeof CampaignSchema>;

export interface CampaignInput {
  Q: number[];
  N: number;
  samples: number;
  seed: number;
  /** zero-pressure | paper | a number | per-Q list "10:0.55,240:0.62". */
  density: string;
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

/** Build and validate a definition; densities are resolved now so later preset changes cannot alter it. */
export function defineCampaign(input: CampaignInput): CampaignDefinition {
  if (input.Q.length === 0) throw new RangeError('give at least one Q value (--q 10,20,40)');
  for (const Q of input.Q) validateQ(Q);
  fccCellsFor(input.N);
  validateSeed(input.seed);
  if (!Number.isInteger(input.samples) || input.samples < 1) throw new RangeError(`samples per Q must be an integer ≥ 1; got ${input.samples}`);
  checkCampaignSize(input.samples, input.Q.length);
  const protocol = { ...DEFAULT_PREPARE, ...input.protocol };
  for (const Q of input.Q) {
    const { dt, steps } = nveSchedule({ ...protocol, Q });
    checkNveSteps(steps, `Q = ${Q} (dt = ${dt.toExponential(2)})`, input.force ?? false);
  }
  const measure = MEASUREMENTS.filter((m) => (input.measure ?? []).includes(m));
  const def: CampaignDefinition = {
    format: 'qglass-campaign',
    version: 1,
    Q: input.Q,
    N: input.N,
    samples: input.samples,
    seed: input.seed,
    density: { rule: input.density, perQ: resolveDensities(input.density, input.Q) },
    protocol,
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

/** The default g(r) range, cut to a tenth of a₀ below half the width of a cubic box of N particles. */
export function defaultGrRange(N: number): number {
  const half = 0.5 * Math.cbrt(N);
  return Math.min(DEFAULT_PAIR_CORRELATION.rmax, Math.ceil(half * 10 - 1) / 10);
}

/** Densities per Q from a rule: a preset name, one number for all Q, or a "Q:rho,Q:rho" list. */
export function resolveDensities(rule: string, Qs: readonly number[]): Array<DensityChoice & { Q: number }> {
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

export function densityFor(def: CampaignDefinition, Q: number): DensityChoice {
  const d = def.density.perQ.find((e) => e.Q === Q);
  if (!d) throw new RangeError(`Q = ${Q} is not part of this campaign (Q = ${def.Q.join(', ')})`);
  return { density: d.density, mode: d.mode };
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
  writeFileAtomic(file, JSON.stringify(def, null, 2) + '\n');
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

/** Path of a sample's artefact relative to the campaign directory: samples/Q<Q>/<index>-<file>. */
export function artefactPath(def: CampaignDefinition, Q: number, index: number, kind: ArtefactKind): string {
  const width = Math.max(5, String(def.samples - 1).length);
  return join(SAMPLES_DIR, `Q${Q}`, `${String(index).padStart(width, '0')}-${ARTEFACT_FILE[kind]}`);
}

export const SAMPLES_DIR = 'samples';
