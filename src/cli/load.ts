/**
 * Load a configuration file for a measurement: the model's Q comes from the file's metadata
 * (`Q=...`) unless given explicitly; anything else is a clear error.
 */
import { existsSync } from 'node:fs';
import type { Configuration } from '../model/configuration.ts';
import { makePairModel, type PairModel } from '../model/potential.ts';
import { readExtendedXyz } from '../io/xyz.ts';
import { type System, systemFromConfiguration } from '../engine/system.ts';
import { UserError } from './errors.ts';

export interface LoadedGlass {
  conf: Configuration;
  model: PairModel;
  system: System;
}

export function loadGlass(path: string, opts: { q?: number } = {}): LoadedGlass {
  if (!existsSync(path)) throw new UserError(`cannot read '${path}': no such file`);
  const conf = readExtendedXyz(path);
  const fromFile = conf.meta.Q;
  const Q = opts.q ?? (typeof fromFile === 'number' ? fromFile : Number(fromFile));
  if (opts.q === undefined && (fromFile === undefined || !Number.isFinite(Q))) {
    throw new UserError(`'${path}' has no Q=... in its metadata line: pass the model's stiffness with --q Q`);
  }
  const model = makePairModel(Q);
  return { conf, model, system: systemFromConfiguration(conf, model) };
}
