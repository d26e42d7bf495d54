/**
 * The `qglass` command: one module per subcommand under commands/, listed here. Only the module of
 * the command being run is loaded (with what it imports: the campaign machinery, SQLite, schemas),
 * which keeps a short command's start-up short; the top-level help and unknown names load them all.
 */
import { Command, CommanderError } from 'commander';
import { UserError } from './errors.ts';
import { VERSION } from '../util/version.ts';

const program = new Command('qglass')
  .description('Zero-temperature glasses with tunable repulsive stiffness Q: prepare, measure, ensembles, figures')
  .version(VERSION)
  .addHelpText('after', '\nExample:\n  $ qglass prepare --q 240 --n 2048 --out glass.xyz && qglass measure elastic glass.xyz\n\nqglass COMMAND --help shows each command\'s options and an example; docs/cli.md has them all.\n')
  .showHelpAfterError()
  .exitOverride();

type Register = (program: Command) => void;

/** Subcommands in help order. */
const COMMANDS: Record<string, () => Promise<Register>> = {
  prepare: async () => (await import('./commands/prepare.ts')).registerPrepare,
  energy: async () => (await import('./commands/energy.ts')).registerEnergy,
  calibrate: async () => (await import('./commands/calibrate.ts')).registerCalibrate,
  measure: async () => (await import('./commands/measure.ts')).registerMeasure,
  campaign: async () => (await import('./commands/campaign.ts')).registerCampaign,
  report: async () => (await import('./commands/report.ts')).registerReport,
  paper: async () => (await import('./commands/paper.ts')).registerPaper,
  quench: async () => (await import('./commands/quench.ts')).registerQuench,
  lammps: async () => (await import('./commands/lammps.ts')).registerLammps,
};
/** Other names of listed commands (their registration declares the alias too). */
const ALIASES: Record<string, string> = { start: 'paper' };

const first = process.argv[2];
const name = first === undefined ? undefined : ALIASES[first] ?? first;
const wanted = first === '-V' || first === '--version' ? [] : name !== undefined && name in COMMANDS ? [name] : Object.keys(COMMANDS);
for (const register of await Promise.all(wanted.map((n) => COMMANDS[n]()))) register(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`qglass: error: ${msg}\n`);
  if (process.env.QGLASS_DEBUG && err instanceof Error && !(err instanceof UserError)) process.stderr.write(`${err.stack}\n`);
  process.exit(err instanceof UserError || err instanceof RangeError ? 2 : 1);
}
