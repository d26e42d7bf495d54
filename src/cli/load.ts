/**
 * Load a configuration file for a measurement: extended XYZ or a LAMMPS data file (atom_style
 * atomic), told apart by extension (.xyz/.extxyz, .data/.lmp) or else by content (an extended XYZ file
 * starts with its atom count). The pair law and its parameters come from the file's metadata
 * (`model="harmonic"`; `Q=...`, default model q-model) unless given explicitly (the commands' --q
 * option, Q_OPTION); a data file written by another program has no metadata, so it needs --q.
 */
import { closeSync, existsSync, openSync, readSync } from 'node:fs';
import { extname } from 'node:path';
import type { Configuration } from '../model/configuration.ts';
import type { PairLaw } from '../model/pair-law.ts';
import { lawFromMetadata, lawLabel } from '../model/laws.ts';
import { mechanicalBackbone, type RattlerAnalysis } from '../measure/rattlers.ts';
import { readExtendedXyz, writeExtendedXyz } from '../io/xyz.ts';
import { readLammpsData, writeLammpsData } from '../io/lammps-data.ts';
import { type System, systemFromConfiguration } from '../engine/system.ts';
import { assertFiniteForces, NonFiniteError } from '../engine/finite.ts';
import { parseInteger, parseNumber, UserError } from './errors.ts';
import { setThreads, threadCountProblem } from '../util/threads.ts';

/** The --q option of every command that reads a configuration (flags, description). */
export const Q_OPTION = ['--q <Q>', 'repulsive stiffness Q (default: Q=... from the file)'] as const;

/** `--threads T` of the commands whose job is one large sample (src/util/threads.ts). */
export const THREADS_OPTION = [
  '--threads <T>', 'threads working on this one sample (force loop, neighbor search, Hessian product; WebAssembly kernels only)', '1',
] as const;

/** Check --threads and start the worker threads (before any long computation). */
export function applyThreads(raw: string): number {
  const t = parseInteger('--threads', raw);
  const problem = threadCountProblem(t, '--threads');
  if (problem) throw new UserError(problem);
  setThreads(t);
  return t;
}

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
  const system = systemFromConfiguration(conf, model);
  try {
    const xyz = configurationFormat(path) === 'xyz';
    assertFiniteForces(system, (i) => (xyz ? `atom ${i + 1} (line ${i + 3})` : `atom ${i + 1}`));
  } catch (err) {
    if (err instanceof NonFiniteError) throw new UserError(`${path} (${lawLabel(model)}): ${err.message}`);
    throw err;
  }
  return { conf, model, system };
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

/** Output paths are checked by the one rule of the atomic writer (src/io/output-path.ts). */
export { checkOutputPath } from '../io/output-path.ts';
