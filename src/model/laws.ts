/**
 * The registry of pair laws by name, and how a law is recorded in and recovered from a file's or a
 * catalog's metadata (`model="harmonic"`, `Q=240`, ...). A new law is one file plus a line here.
 */
import type { PairLaw } from './pair-law.ts';
import { qModel, repulsiveQ } from './q-model.ts';
import { harmonicSpheres, hertzianSpheres } from './soft-sphere.ts';

interface LawEntry {
  /** Parameters the law needs, by name. */
  readonly parameters: readonly string[];
  readonly make: (p: Readonly<Record<string, number>>) => PairLaw;
  readonly summary: string;
}

export const PAIR_LAWS: Readonly<Record<string, LawEntry>> = {
  'q-model': { parameters: ['Q'], make: (p) => qModel(p.Q), summary: 'x^-Q − x^-6, smoothed at x = 2 (the glass former)' },
  'repulsive-q': { parameters: ['Q'], make: (p) => repulsiveQ(p.Q), summary: 'x^-Q alone, smoothed at x = 2' },
  harmonic: { parameters: [], make: () => harmonicSpheres(), summary: 'soft spheres (ε/2)(1 − r/σ)², σ_L/σ_S = 1.4' },
  hertzian: { parameters: [], make: () => hertzianSpheres(), summary: 'soft spheres (2ε/5)(1 − r/σ)^(5/2), σ_L/σ_S = 1.4' },
};

export const LAW_NAMES = Object.keys(PAIR_LAWS);

/** The law of the given name with its parameters; a clear error for an unknown name or a missing parameter. */
export function makePairLaw(name: string, parameters: Readonly<Record<string, number | undefined>> = {}): PairLaw {
  const entry = PAIR_LAWS[name];
  if (!entry) throw new RangeError(`unknown pair law '${name}': choose one of ${LAW_NAMES.join(', ')}`);
  const p: Record<string, number> = {};
  for (const key of entry.parameters) {
    const v = parameters[key];
    if (v === undefined) throw new RangeError(`the ${name} law needs its parameter ${key}`);
    p[key] = v;
  }
  return entry.make(p);
}

/** The metadata that records a law: its name and parameters. */
export function lawMetadata(law: PairLaw): Record<string, string | number> {
  return { model: law.name, ...law.parameters };
}

/** Whether a law is the attractive Q-model (the glass former that the preparation protocol is for). */
export function isQModel(law: PairLaw): boolean {
  return law.name === 'q-model';
}

/** A short human-readable label: "q-model, Q = 240", "harmonic". */
export function lawLabel(law: PairLaw): string {
  const p = Object.entries(law.parameters).filter(([k]) => !(k === 'alpha' && law.kernel.family === 'soft-sphere'));
  return p.length === 0 ? law.name : `${law.name}, ${p.map(([k, v]) => `${k} = ${v}`).join(', ')}`;
}

/**
 * The law recorded in a file's metadata: `model` (default q-model, what files without it hold) and
 * its parameters, each overridable (e.g. Q from the command line).
 */
export function lawFromMetadata(meta: Readonly<Record<string, unknown>>, overrides: Readonly<Record<string, number | undefined>> = {}): PairLaw {
  const name = typeof meta.model === 'string' ? meta.model : 'q-model';
  const entry = PAIR_LAWS[name];
  if (!entry) throw new RangeError(`the file's model '${name}' is not a known pair law (${LAW_NAMES.join(', ')})`);
  const p: Record<string, number | undefined> = {};
  for (const key of entry.parameters) {
    const v = overrides[key] ?? (typeof meta[key] === 'number' ? meta[key] : undefined);
    if (v === undefined) throw new RangeError(`no ${key}=... in the file's metadata: pass the ${name} law's ${key} with --${key.toLowerCase()} ${key}`);
    p[key] = v;
  }
  return makePairLaw(name, p);
}
