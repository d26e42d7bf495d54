/**
 * The `qglass` command: one module per subcommand under commands/, listed here. Only the module of
 * the command being run is loaded (with what it imports: the campaign machinery, SQLite, schemas),
 * which keeps a short command's start-up short; the top-level help and unknown names load them all.
 */
import { Command, CommanderError } from 'commander';
import { exitCodeFor } from './errors.ts';
import { EXIT } from '../util/exit-codes.ts';
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
  nve: async () => (await import('./commands/nve.ts')).registerNve,
};
/** Other names of listed commands (their registration declares the alias too). */
const ALIASES: Record<string, string> = { start: 'paper' };

const first = process.argv[2];
const name = first === undefined ? undefined : ALIASES[first] ?? first;
const wanted = first === '-V' || first === '--version' ? [] : name !== undefined && name in COMMANDS ? [name] : Object.keys(COMMANDS);
for (const register of await Promise.all(wanted.map((n) => COMMANDS[n]()))) register(program);

// A reader that stops early (| head) is not an error: what is left for stdout is dropped and the work
// goes on (a campaign piped into head keeps computing; its progress and messages are on stderr).
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code !== 'EPIPE' && err.code !== 'ERR_STREAM_DESTROYED') throw err;
});

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? EXIT.ok : EXIT.usage);
  let msg = err instanceof Error ? err.message : String(err);
  let code = exitCodeFor(err);
  // V8's words for an allocation too large for this machine, which name neither option nor file.
  if (err instanceof RangeError && /Invalid typed array length|Array buffer allocation failed|Invalid array length/.test(msg)) {
    msg = `not enough memory for a problem this size (${msg}): reduce N, the number of modes or bins, or the samples`;
    code = EXIT.system;
  }
  process.stderr.write(`qglass: error: ${msg}\n`);
  if (process.env.QGLASS_DEBUG && err instanceof Error && code !== EXIT.badInput) process.stderr.write(`${err.stack}\n`);
  process.exit(code);
}
