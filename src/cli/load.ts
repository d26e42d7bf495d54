/**
 * Load a configuration file for a measurement: the pair law and its parameters come from the file's
 * metadata (`model="harmonic"`; `Q=...`, default model q-model) unless given explicitly (the commands'
 * --q option, Q_OPTION); anything else is a clear error.
 */
import { existsSync } from 'node:fs';
import type { Configuration } from '../model/configuration.ts';
import type { PairLaw } from '../model/pair-law.ts';
import { lawFromMetadata } from '../model/laws.ts';
import { mechanicalBackbone, type RattlerAnalysis } from '../measure/rattlers.ts';
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
  const Q = opts.q === undefined ? undefined : parseNumber('--q', opts.q);
  let model: PairLaw;
  try {
    model = lawFromMetadata(conf.meta, { Q });
  } catch (err) {
    throw new UserError(`'${path}': ${(err as Error).message}`);
  }
  return { conf, model, system: systemFromConfiguration(conf, model) };
}

/**
 * A configuration for the mechanical measurements (moduli, modes, NQLEs): packings of contact laws
 * without their rattlers (`rattlers` says how many and Z), any other system whole (`rattlers` null).
 */
export function loadForMeasurement(path: string, opts: { q?: string } = {}): LoadedGlass & { rattlers: RattlerAnalysis | null } {
  const loaded = loadGlass(path, opts);
  const { system, rattlers } = mechanicalBackbone(loaded.system);
  return { ...loaded, system, rattlers };
}
