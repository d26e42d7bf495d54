import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Resvg } from '@resvg/resvg-js';
import { writeReport, tablesToCsv, reportFromCampaign } from '../src/report/report.ts';
import { defineCampaign, initCampaign, MEASUREMENTS } from '../src/ensemble/campaign.ts';
import { STAGES } from '../src/ensemble/pipeline.ts';
import { runCampaign } from '../src/ensemble/runner.ts';
import { loadCampaignSamples } from '../src/ensemble/export.ts';
import { figure7, type ControlSystem } from '../src/report/figures.ts';
import type { EnsembleSummary } from '../src/analysis/ensemble.ts';
import { textRenders } from '../src/report/render.ts';
import { formatEstimate } from '../src/report/number-format.ts';
import { syntheticCampaign } from './fixtures/synthetic-campaign.ts';

const FIGURES = ['fig1', 'fig2', 'fig3', 'fig4', 'fig5a', 'fig5b'];
/** Axis titles each figure must show (as they appear in the SVG text). */
const AXIS_TITLES: Record<string, string[]> = {
  fig1: ['stiffness Q', 'Poisson’s ratio ν', 'φ(r)/ε', 'r/λ'],
  fig2: ['stiffness Q', 'G/K'],
  fig3: ['r/a₀', 'g_LL(r)', 'G/K', 'first-peak height of g_LL'],
  fig4: ['ω/ω₀', 'D(ω)·ω₀ (per particle)', 'ξ_g/a₀', 'G/K'],
  fig5a: ['χ = √N·std(G)/mean(G)', 'A_g·ω₀⁵'],
  fig5b: ['stiffness Q', 'k₋/f₋ (softest NQLE)'],
};

/** Decode a PNG with resvg's image decoder (embedded in an SVG) and count its dark pixels. */
function decodePng(png: Buffer): { width: number; height: number; dark: number } {
  assert.equal(png.subarray(1, 4).toString('latin1'), 'PNG');
  const width = png.readUInt32BE(16);
  const height = png.readUInt32BE(20);
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="${width}" height="${height}"><image width="${width}" height="${height}" xlink:href="data:image/png;base64,${png.toString('base64')}"/></svg>`;
  const pixels = new Resvg(svg, { background: 'white' }).render().pixels;
  let dark = 0;
  for (let i = 0; i < pixels.length; i += 4) if (pixels[i] + pixels[i + 1] + pixels[i + 2] < 200) dark++;
  return { width, height, dark };
}

function tempDir(): string {
  return mkdtempSync(join(tmpdir(), 'qglass-report-'));
}

test('fonts: resvg finds a font, so PNG text renders (install fonts-dejavu-core if this fails)', () => {
  assert.ok(textRenders());
});

test('report: every figure is drawn from a fixture campaign, as SVG, PNG and CSV, with summary.json and index.html', async () => {
  const out = tempDir();
  try {
    const samples = syntheticCampaign({ samples: 8, failed: 1 });
    const params = { N: 500, samples: 8, Q: [10, 20, 40, 80, 160, 240], density: { rule: 'explicit' } };
    const r = await writeReport({ samples, parameters: params, source: 'fixture' }, { outDir: out, bootstrap: { replicates: 100 } });
    assert.deepEqual(r.warnings, [], 'no compiler warnings, fonts present');
    assert.deepEqual(r.figures.map((f) => [f.name, f.status]), FIGURES.map((f) => [f, 'drawn']));
    for (const name of FIGURES) {
      const svg = readFileSync(join(out, `${name}.svg`), 'utf8');
      for (const t of AXIS_TITLES[name]) assert.ok(svg.includes(t), `${name}.svg lacks the axis title '${t}'`);
      const png = decodePng(readFileSync(join(out, `${name}.png`)));
      const [, w, h] = svg.match(/width="(\d+)" height="(\d+)"/)!.map(Number);
      assert.deepEqual([png.width, png.height], [2 * w, 2 * h], `${name}.png is the SVG at 2×`);
      assert.ok(png.dark > 2000, `${name}.png has ink (${png.dark} dark pixels)`);
      const csv = readFileSync(join(out, `${name}.csv`), 'utf8').trim().split('\n');
      assert.ok(csv[0].startsWith('table,') && csv.length > 6, `${name}.csv has a header and rows`);
    }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.perQ.length, 6);
    assert.equal(summary.campaign.N, 500);
    assert.match(summary.software.version, /^\d+\.\d+\.\d+/);
    for (const q of summary.perQ) {
      assert.equal(q.counts.failed, 1);
      for (const v of [q.elastic.nu, q.disorder.pooledPlanes, q.structure.firstPeakHeight, q.spectrum.AgOmega0_5, q.spectrum.xiOverA0, q.nqle.kMinusOverFMinus]) {
        assert.ok(Number.isFinite(v.value) && v.error > 0, JSON.stringify(v));
      }
    }
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    assert.equal(html.match(/<img [^>]*src="data:image\/svg\+xml;base64,/g)?.length, 6, 'six embedded figures');
    assert.ok(!/(src|href)="https?:/.test(html), 'nothing loaded from the network');
    assert.ok(html.includes(`qglass ${summary.software.version}`) && html.includes('<code>density</code>'));
    assert.ok(html.includes('synthetic failure'), 'failed samples are listed with their reason');
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('report: a campaign without modes and NQLEs gets notes instead of those figures', async () => {
  const out = tempDir();
  try {
    const samples = syntheticCampaign({ Qs: [10, 80], samples: 4, measure: { modes: false, nqle: false } });
    const r = await writeReport({ samples, parameters: null, source: 'fixture' }, { outDir: out, bootstrap: { replicates: 50 } });
    const status = Object.fromEntries(r.figures.map((f) => [f.name, f.status]));
    assert.deepEqual(status, { fig1: 'drawn', fig2: 'drawn', fig3: 'drawn', fig4: 'missing', fig5a: 'missing', fig5b: 'missing' });
    assert.ok(!existsSync(join(out, 'fig4.svg')) && existsSync(join(out, 'fig3.png')));
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    assert.match(html, /Not drawn: no vibrational modes/);
    assert.match(html, /Not drawn: no nonlinear quasilocalized excitations/);
    assert.match(html, /What is missing/);
    assert.match(html, /No campaign definition/);
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    assert.equal(summary.perQ[0].spectrum, null);
    assert.ok(summary.perQ[0].missing.some((m: string) => /modes/.test(m)));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('report: a campaign with no finished sample still yields a page that says so', async () => {
  const out = tempDir();
  try {
    const samples = syntheticCampaign({ Qs: [20], samples: 0, failed: 2 });
    const r = await writeReport({ samples, parameters: null, source: 'fixture' }, { outDir: out, bootstrap: { replicates: 10 } });
    assert.ok(r.figures.every((f) => f.status === 'missing'));
    const html = readFileSync(join(out, 'index.html'), 'utf8');
    assert.match(html, /no finished samples/);
    const empty = await writeReport({ samples: [], parameters: null, source: 'empty' }, { outDir: out });
    assert.match(empty.warnings[0], /no samples/);
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});

test('report: from a real (tiny) campaign directory, with the measurements this build has', async () => {
  const dir = tempDir();
  try {
    const measure = MEASUREMENTS.filter((m) => STAGES.has(m));
    initCampaign(dir, defineCampaign({ Q: [10], N: 256, samples: 3, seed: 4, density: '0.6', measure, modes: 12, protocol: { nveTime: 1 }, createdBy: 'test' }));
    const run = await runCampaign(dir, { workers: 1 });
    assert.equal(run.failed, 0);
    const r = await reportFromCampaign(dir, { bootstrap: { replicates: 50 } });
    assert.equal(r.outDir, join(dir, 'report'));
    const q = r.summary.perQ[0];
    assert.deepEqual([q.Q, q.N, q.counts.done], [10, 256, 3]);
    assert.ok(Math.abs(q.density - 0.6) < 1e-12);
    const drawn = new Set(r.figures.filter((f) => f.status === 'drawn').map((f) => f.name));
    if (measure.includes('elastic')) {
      assert.ok(drawn.has('fig1') && drawn.has('fig2'));
      assert.ok(q.elastic!.nu.value > 0.2 && q.elastic!.nu.value < 0.5, `ν = ${q.elastic!.nu.value}`);
      assert.ok(q.disorder!.pooledPlanes.value > 0);
    }
    if (measure.includes('gr')) assert.ok(q.structure!.firstPeakHeight.value > 1.5 && q.structure!.rOverA0.length > 100);
    if (measure.includes('modes') && measure.includes('elastic')) assert.ok(drawn.has('fig4') && q.spectrum!.samples === 3);
    if (measure.includes('nqle')) assert.ok(drawn.has('fig5b') && q.nqle!.kMinus.value < 0 && q.nqle!.fMinus.value < 0);
    const summary = JSON.parse(readFileSync(join(dir, 'report', 'summary.json'), 'utf8'));
    assert.equal(summary.campaign.N, 256);
    // cost per sample: the stages' recorded wall times, in pipeline order
    const records = loadCampaignSamples(dir);
    assert.deepEqual(q.cost!.stages.map((s) => s.stage), ['prepare', ...measure]);
    const totals = records.map((x) => Object.values(x.stages).reduce((t, st) => t + st.seconds, 0));
    assert.ok(Math.abs(q.cost!.total.mean - totals.reduce((a, b) => a + b, 0) / 3) <= 1e-12 * q.cost!.total.mean);
    assert.equal(q.cost!.total.max, Math.max(...totals));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tables: CSV quoting and estimate formatting', () => {
  assert.equal(tablesToCsv({ a: [{ x: 1, label: 'p, q' }], b: [{ y: NaN }] }), 'table,x,label,y\na,1,"p, q",\nb,,,\n');
  const e = (value: number, error: number) => ({ value, error, ciLow: 0, ciHigh: 0, level: 0.95, n: 5, replicates: 5 });
  assert.equal(formatEstimate(e(0.41234, 0.0031)), '0.4123 ± 0.0031');
  assert.equal(formatEstimate(e(2.5e-7, 1.2e-8)), '(2.50 ± 0.12)·10^-7');
  assert.equal(formatEstimate(e(7.5e-6, 2.2e-6)), '(7.5 ± 2.2)·10^-6');
  assert.equal(formatEstimate(e(1234.5, 56)), '1235 ± 56');
});

test('Figure 7: an error bar wider than a factor 3 on a log axis is cut at the frame and named, not allowed to stretch the axis', () => {
  const est = (value: number, error: number) => ({ value, error, ciLow: value - 2 * error, ciHigh: value + 2 * error, level: 0.95, n: 20, replicates: 100 });
  const point = (Q: number, gk: number, xi: number, xiErr: number) => ({
    Q, elastic: { GOverK: est(gk, 0.002), pOverK: est(3 / (Q + 3), 1e-6) }, structure: { firstPeakHeight: est(Q / 4, 0.5) },
    spectrum: { xiOverA0: est(xi, xiErr) }, nqle: { kMinusOverFMinus: est(0, 0) },
  });
  const system = (label: string, model: string, perQ: unknown[]): ControlSystem => ({ label, model, axis: 'Q', summary: { perQ } as unknown as EnsembleSummary });
  const fig = figure7([
    system('q-model', 'q-model', [point(10, 0.25, 7, 0.3), point(240, 0.13, 9, 0.3)]),
    system('repulsive-q', 'repulsive-q', [point(10, 0.14, 7.4, 0.3), point(240, 0.072, 30, 588)]),
  ]);
  assert.ok(!('missing' in fig), 'Figure 7 is drawn');
  const { notes, spec } = fig as { notes: string[]; spec: unknown };
  assert.ok(notes.some((n) => n.includes('(d)') && n.includes('repulsive-q at 240')), JSON.stringify(notes));
  const panels = JSON.stringify(spec);
  const xiDomain = [...panels.matchAll(/"field":"xi","type":"quantitative","title":"ξ_g\/a₀","scale":\{"type":"log","domain":\[([^\]]+)\]/g)].map((m) => m[1].split(',').map(Number));
  assert.ok(xiDomain.length > 0, 'panel (d) has a log y axis on ξ_g');
  for (const [lo, hi] of xiDomain) {
    assert.ok(lo >= 7 / 3 / 1.2 && hi <= 30 * 3 * 1.2, `ξ_g domain [${lo}, ${hi}] follows the points, not the 30 ± 588 bar`);
  }
});
