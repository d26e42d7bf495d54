/**
 * `qglass measure KIND FILE`: per-configuration measurements. Each kind lives in its own module
 * (measure-KIND.ts) exporting a function that adds its subcommand to the `measure` group.
 */
import type { Command } from 'commander';
import { registerMeasureElastic } from './measure-elastic.ts';
import { registerMeasureGr } from './measure-gr.ts';
import { registerMeasureModes } from './measure-modes.ts';
import { registerMeasureNqle } from './measure-nqle.ts';

export function registerMeasure(program: Command): void {
  const measure = program
    .command('measure')
    .description('measure a quenched configuration (extended XYZ)')
    .addHelpText('after', '\nExample:\n  $ qglass measure elastic glass.xyz --json\n');
  for (const register of MEASUREMENTS) register(measure);
}

const MEASUREMENTS: Array<(measure: Command) => void> = [registerMeasureElastic, registerMeasureGr, registerMeasureModes, registerMeasureNqle];
