/** The `qglass` command: one module per subcommand under commands/, registered here. */
import { Command, CommanderError } from 'commander';
import { registerPrepare } from './commands/prepare.ts';
import { registerEnergy } from './commands/energy.ts';
import { registerCalibrate } from './commands/calibrate.ts';
import { registerMeasure } from './commands/measure.ts';
import { registerCampaign } from './commands/campaign.ts';
import { registerReport } from './commands/report.ts';
import { registerPaper } from './commands/paper.ts';
import { registerNve } from './commands/nve.ts';
import { UserError } from './errors.ts';
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
registerNve(program);

try {
  await program.parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) process.exit(err.exitCode);
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`qglass: error: ${msg}\n`);
  if (process.env.QGLASS_DEBUG && err instanceof Error && !(err instanceof UserError)) process.stderr.write(`${err.stack}\n`);
  process.exit(err instanceof UserError || err instanceof RangeError ? 2 : 1);
}
