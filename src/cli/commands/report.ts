/** `qglass report CAMPAIGN_DIR...`: the paper's figures, tables and an HTML page from a campaign, and Figure 7 over several (src/report). */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { reportFromCampaigns, type ReportResult } from '../../report/report.ts';
import type { DosNormalization } from '../../analysis/dos.ts';
import { parseInteger, parseNumber, UserError } from '../errors.ts';
import { parseArtefactVerify } from '../../ensemble/verify.ts';

export interface ReportCliOptions {
  out?: string;
  normalization: string;
  bootstrap: string;
  seed: string;
  cutoffFraction: string;
  omega5Level: string;
  png: boolean;
  verify: string;
  json?: boolean;
}

export function registerReport(program: Command): void {
  program
    .command('report')
    .description('ensemble statistics with bootstrap errors, figures 1–6 (SVG, PNG, CSV), summary.json and a self-contained index.html; over several campaigns (the Q-model and its controls) also Figure 7')
    .addHelpText('after', '\nExamples:\n  $ qglass report runs/nu --out runs/nu/report\n  $ qglass report runs/nu runs/harmonic runs/repulsive --out runs/controls-report\n')
    .argument('<campaign-dir...>', 'campaign directories (qglass campaign init/run); several: Figure 7 compares their laws')
    .option('--out <dir>', 'report directory (default with one campaign: CAMPAIGN_DIR/report; required with several)')
    .option('--normalization <n>', 'D(ω) and A_g per particle (N) or per degree of freedom (3N): particle | dof', 'particle')
    .option('--bootstrap <B>', 'bootstrap resamples per ensemble number', '1000')
    .option('--seed <seed>', 'seed of the bootstrap resampling', '1')
    .option('--cutoff-fraction <f>', 'A_g fit uses modes below f·ω₁ (ω₁ = 2π·c_s/L, the lowest shear band)', '1')
    .option('--omega5-level <alpha>', 'A_g fit range also ends where the cumulative count departs from ω⁵ (Kolmogorov–Smirnov test at this level; 0: off)', '0.05')
    .option('--no-png', 'write SVG figures only')
    .option('--verify <how>', 'check of the samples\' artefacts: size, or full (size and SHA-256); damaged samples are named in the warnings', 'size')
    .option('--json', 'print one JSON object (output directory, figure status, warnings) on stdout')
    .action(async (dirs: string[], o: ReportCliOptions) => {
      if (dirs.length > 1 && o.out === undefined) throw new UserError(`a report over ${dirs.length} campaigns needs its own directory: give it with --out DIR`);
      const result = await reportFromCampaigns(dirs, parseReportOptions(o));
      if (o.json) process.stdout.write(JSON.stringify({ outDir: result.outDir, figures: result.figures, warnings: result.warnings, files: result.files }) + '\n');
      else process.stderr.write(reportText(result) + '\n');
    });
}

/** Bootstrap resamples: the error of an error estimate falls as 1/√(2B), so 1e5 is far more than enough. */
export const MAX_BOOTSTRAP = 100_000;

export function parseReportOptions(o: Omit<ReportCliOptions, 'json' | 'verify'> & { verify?: string }) {
  if (o.normalization !== 'particle' && o.normalization !== 'dof') throw new UserError(`--normalization must be particle or dof; got '${o.normalization}'`);
  const replicates = parseInteger('--bootstrap', o.bootstrap);
  if (replicates < 2 || replicates > MAX_BOOTSTRAP) throw new UserError(`--bootstrap must be between 2 and ${MAX_BOOTSTRAP} resamples; got ${o.bootstrap}`);
  const cutoffFraction = parseNumber('--cutoff-fraction', o.cutoffFraction);
  if (!(cutoffFraction > 0)) throw new UserError(`--cutoff-fraction must be positive; got ${o.cutoffFraction}`);
  const omega5Level = parseNumber('--omega5-level', o.omega5Level);
  if (!(omega5Level >= 0 && omega5Level < 1)) throw new UserError(`--omega5-level must be in [0, 1); got ${o.omega5Level}`);
  return {
    outDir: o.out,
    normalization: o.normalization as DosNormalization,
    cutoffFraction,
    omega5Level,
    bootstrap: { replicates, seed: parseInteger('--seed', o.seed) },
    png: o.png,
    verify: parseArtefactVerify(o.verify ?? 'size'),
  };
}

/** What a person reads after a report: where it is, which figures were drawn, what is missing. */
export function reportText(r: ReportResult): string {
  const lines = [`report written to ${r.outDir}: open ${resolve(r.outDir, 'index.html')}`];
  for (const f of r.figures) lines.push(`  ${f.name}: ${f.status === 'drawn' ? `drawn${f.notes && f.notes.length > 0 ? ` (${f.notes.join('; ')})` : ''}` : `not drawn: ${f.missing}`}`);
  for (const q of r.summary.perQ) {
    const e = q.elastic;
    const nu = e ? `ν = ${e.nu.value.toFixed(4)} ± ${e.nu.error.toPrecision(2)}` : 'no elastic data';
    lines.push(`  Q = ${q.Q}: ${q.counts.done}/${q.counts.total} samples done${q.counts.failed > 0 ? `, ${q.counts.failed} failed` : ''}; ${nu}`);
  }
  for (const w of r.warnings) lines.push(`warning: ${w}`);
  return lines.join('\n');
}
