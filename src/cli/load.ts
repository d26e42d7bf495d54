/**
 * Load a configuration file for a measurement: extended XYZ or a LAMMPS data file (atom_style
 * atomic), told apart by extension (.xyz/.extxyz, .data/.lmp) or else by content (an extended XYZ file
 * starts with its atom count). The pair law and its parameters come from the file's metadata
 * (`model="harmonic"`; `Q=...`, default model q-model) unless given explicitly (the commands' --q
 * option, Q_OPTION); a data file written by another program has no metadata, so it needs --q.
 */
import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { extname } from 'node:path';
import type { Configuration } from '../model/configuration.ts';
import type { PairLaw } from '../model/pair-law.ts';
import { lawFromMetadata } from '../model/laws.ts';
import { mechanicalBackbone, type RattlerAnalysis } from '../measure/rattlers.ts';
import { readExtendedXyz, writeExtendedXyz } from '../io/xyz.ts';
import { readLammpsData, writeLammpsData } from '../io/lammps-data.ts';
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
  const conf = readConfiguration(path);
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

export type ConfigurationFormat = 'xyz' | 'lammps-data';

/** The file's format by extension, else by its first non-blank line (a bare atom count: extended XYZ). */
export function configurationFormat(path: string): ConfigurationFormat {
  const ext = extname(path).toLowerCase();
  if (ext === '.xyz' || ext === '.extxyz') return 'xyz';
  if (ext === '.data' || ext === '.lmp' || ext === '.lammps') return 'lammps-data';
  const head = Buffer.alloc(4096);
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return 'xyz'; // the reader reports why the file cannot be read
  }
  const bytes = readSync(fd, head, 0, head.length, 0);
  closeSync(fd);
  const first = head.subarray(0, bytes).toString('utf8').split('\n').find((l) => l.trim() !== '') ?? '';
  return /^\s*\d+\s*$/.test(first) ? 'xyz' : 'lammps-data';
}

export function readConfiguration(path: string): Configuration {
  return configurationFormat(path) === 'xyz' ? readExtendedXyz(path) : readLammpsData(path);
}

/** Write a configuration as a LAMMPS data file for .data/.lmp/.lammps, else as extended XYZ. */
export function writeConfiguration(path: string, conf: Configuration): void {
  if (/\.(data|lmp|lammps)$/i.test(path)) writeLammpsData(path, conf);
  else writeExtendedXyz(path, conf);
}

/** Refuse an output path that exists but is not a regular file (a directory, a device, a FIFO). */
export function checkOutputPath(path: string, option = '--out'): void {
  let st;
  try {
    st = statSync(path);
  } catch {
    return;
  }
  if (!st.isFile()) throw new UserError(`${option} '${path}' exists and is not a regular file; choose another path`);
}
