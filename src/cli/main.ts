/** The `qglass` command: one module per subcommand under commands/, registered here. */
import { Command, CommanderError } from 'commander';
import { registerPrepare } from './commands/prepare.ts';
import { registerEnergy } from './commands/energy.ts';
import { registerCalibrate } from './commands/calibrate.ts';
import { registerMeasure } from './commands/measure.ts';
import { registerCampaign } from './commands/campaign.ts';
import { registerReport } from './commands/report.ts';
import { registerPaper } from './commands/paper.ts';
import { exitCodeFor } from './errors.ts';
import { EXIT } from '../util/exit-codes.ts';
import { VERSION } from '../util/version.ts';

const program = new Command('qglass')
  .description('Zero-temperature glasses with tunable repulsive stiffness Q: prepare, measure, ensembles, figures')
  .version(VERSION)
  .showHelpAfterError()
  .exitOverride();

registerPrepare(program);
registerEnergy(program);
registerCalibrate(program);
registerMeasure(program);
registerCampaign(program);
registerReport(program);
registerPaper(program);

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
