/**
 * Load a configuration file for a measurement: the model's Q comes from the file's metadata
 * (`Q=...`) unless given explicitly (the commands' --q option, Q_OPTION); anything else is a clear error.
 */
import { existsSync } from 'node:fs';
import type { Configuration } from '../model/configuration.ts';
import type { PairLaw } from '../model/pair-law.ts';
import { qModel } from '../model/q-model.ts';
import { readExtendedXyz } from '../io/xyz.ts';
import { type System, systemFromConfiguration } from '../engine/system.ts';
import { parseNumber, UserError } from './errors.ts';

/** The --q option of every command that reads a configuration (flags, description). */
export const Q_OPTION = ['--q <Q>', 'repulsive stiffness Q (default: Q=... from the file)'] as const;

export interface LoadedGlass {
  conf: Configuration;
  model: PairLaw;
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
  const model = qModel(Q);
  return { conf, model, system: systemFromConfiguration(conf, model) };
}
