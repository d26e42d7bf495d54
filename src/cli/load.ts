/**
 * Load a configuration file for a measurement: the model's Q comes from the file's metadata
 * (`Q=...`) unless given explicitly (the commands' --q option, Q_OPTION); anything else is a clear error.
 */
import { existsSync } from 'node:fs';
import type { Configuration } from '../model/configuration.ts';
import { makePairModel, type PairModel } from '../model/potential.ts';
import { readExtendedXyz } from '../io/xyz.ts';
import { type System, systemFromConfiguration } from '../engine/system.ts';
import { assertFiniteForces, NonFiniteError } from '../engine/finite.ts';
import { parseNumber, UserError } from './errors.ts';

/** The --q option of every command that reads a configuration (flags, description). */
export const Q_OPTION = ['--q <Q>', 'repulsive stiffness Q (default: Q=... from the file)'] as const;

export interface LoadedGlass {
  conf: Configuration;
  model: PairModel;
  system: System;
}

/** q: the --q option as given on the command line, if it was. */
export function loadGlass(path: string, opts: { q?: string } = {}): LoadedGlass {
  if (!existsSync(path)) throw new UserError(`cannot read '${path}': no such file`);
  const conf = readExtendedXyz(path);
  const fromFile = conf.meta.Q;
  const given = opts.q === undefined ? undefined : parseNumber('--q', opts.q);
  const Q = given ?? (typeof fromFile === 'number' ? fromFile : Number(fromFile));
  if (given === undefined && (fromFile === undefined || !Number.isFinite(Q))) {
    throw new UserError(`'${path}' has no Q=... in its metadata line: pass the model's stiffness with --q Q`);
  }
  const model = makePairModel(Q);
  const system = systemFromConfiguration(conf, model);
  try {
    assertFiniteForces(system, (i) => `atom ${i + 1} (line ${i + 3})`);
  } catch (err) {
    if (err instanceof NonFiniteError) throw new UserError(`${path} at Q = ${Q}: ${err.message}`);
    throw err;
  }
  return { conf, model, system };
}
