/** `qglass measure gr FILE`: partial pair correlations and the first g_LL peak (src/measure/pair-correlation.ts). */
import type { Command } from 'commander';
import { DEFAULT_PAIR_CORRELATION, pairCorrelation, type PairCorrelation } from '../../measure/pair-correlation.ts';
import { boxVolume } from '../../space/box.ts';
import { writeFileAtomic } from '../../io/atomic-write.ts';
import { parseNumber, UserError } from '../errors.ts';
import { loadGlass, Q_OPTION } from '../load.ts';
import { lawLabel, lawMetadata } from '../../model/laws.ts';

interface GrCliOptions { bin: string; rmax: string; q?: string; json?: boolean; out?: string }

/** One row per bin: r/a₀, the three partials and their unordered pair counts. */
export function pairCorrelationCsv(g: PairCorrelation): string {
  const lines = ['r_over_a0,g_LL,g_SL,g_SS,pairs_LL,pairs_SL,pairs_SS'];
  for (let k = 0; k < g.r.length; k++) {
    lines.push(`${g.r[k].toFixed(6)},${g.gLL[k]},${g.gSL[k]},${g.gSS[k]},${g.counts.LL[k]},${g.counts.SL[k]},${g.counts.SS[k]}`);
  }
  return lines.join('\n') + '\n';
}

export function registerMeasureGr(measure: Command): void {
  measure
    .command('gr')
    .description('partial pair correlations g_LL, g_SL, g_SS versus r/a₀, a₀ = (V/N)^(1/3), and the first g_LL peak')
    .addHelpText('after', '\nExample:\n  $ qglass measure gr glass.xyz --rmax 4 --out gr.csv\n')
    .argument('<file>', 'extended XYZ file of a configuration')
    .option('--bin <width>', 'bin width in units of a₀', String(DEFAULT_PAIR_CORRELATION.binWidth))
    .option('--rmax <r>', 'largest distance in units of a₀ (below half the box width)', String(DEFAULT_PAIR_CORRELATION.rmax))
    .option(...Q_OPTION)
    .option('--out <file.csv>', 'write the curves as CSV (r/a₀, g_LL, g_SL, g_SS and pair counts per bin)')
    .option('--json', 'print one JSON object on stdout')
    .action((file: string, o: GrCliOptions) => {
      const binWidth = parseNumber('--bin', o.bin);
      const rmax = parseNumber('--rmax', o.rmax);
      if (!(binWidth > 0)) throw new UserError(`--bin must be a positive width in units of a₀; got ${o.bin}`);
      if (!(rmax > binWidth)) throw new UserError(`--rmax must exceed --bin (both in units of a₀); got --rmax ${o.rmax}, --bin ${o.bin}`);
      const { conf, model } = loadGlass(file, { q: o.q });
      const t0 = performance.now();
      let g: PairCorrelation;
      try {
        g = pairCorrelation(conf.box, conf.positions, conf.species, { binWidth, rmax });
      } catch (err) {
        if (err instanceof RangeError) throw new UserError(`${file}: ${err.message}`);
        throw err;
      }
      const seconds = (performance.now() - t0) / 1000;
      if (o.out) writeFileAtomic(o.out, pairCorrelationCsv(g));
      const N = conf.species.length;
      const density = N / boxVolume(conf.box);
      if (o.json) {
        const arr = (a: Float64Array) => Array.from(a, (v) => (Number.isFinite(v) ? v : null));
        process.stdout.write(JSON.stringify({
          file, ...lawMetadata(model), N, nS: g.nS, nL: g.nL, density, a0: g.a0, binWidth: g.binWidth, rmax: g.rmax, units: 'r/a0',
          firstPeak: g.firstPeak, r: arr(g.r), gLL: arr(g.gLL), gSL: arr(g.gSL), gSS: arr(g.gSS),
          timings: { total: seconds }, ...(o.out ? { out: o.out } : {}),
        }) + '\n');
        return;
      }
      const p = g.firstPeak;
      process.stdout.write(
        `${file}: ${lawLabel(model)}, N = ${N} (${g.nS} S, ${g.nL} L), density = ${density.toFixed(6)} λ⁻³, a₀ = ${g.a0.toFixed(6)} λ\n` +
        `  ${g.r.length} bins of ${g.binWidth} a₀ up to ${g.rmax} a₀\n` +
        (p
          ? `  first g_LL peak: height ${p.height.toFixed(4)} at r/a₀ = ${p.position.toFixed(4)}` +
            (p.fitted
              ? ` (${p.method} fit to ${p.points} bins of ${g.peakHistogram.binWidth} a₀ in [${p.window[0].toFixed(4)}, ${p.window[1].toFixed(4)}], σ = ${p.width.toFixed(4)} a₀)\n`
              : ' (highest smoothed bin; too few bins for a fit)\n')
          : '  no L–L pairs: g_LL undefined\n') +
        (o.out ? `  curves written to ${o.out}\n` : '') +
        `  time ${seconds.toFixed(3)} s\n`,
      );
    });
}
