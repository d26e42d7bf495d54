/**
 * The paper's figures (listed in docs/cli.md, `report`) as Vega-Lite specs built from an ensemble summary, each with the
 * tables it is drawn from. Insets are drawn as a second panel to the right ("(b) inset: …"): true
 * insets would hide data at unknown positions. Error bars are ±1 bootstrap standard error. Guides
 * (power laws) are fitted in their prefactor only, on the log axes they are drawn on.
 */
import type { Estimate } from '../analysis/statistics.ts';
import { fitPrefactor } from '../analysis/statistics.ts';
import type { EnsembleSummary, QSummary } from '../analysis/ensemble.ts';
import { CHI_FIGURE_CONVENTION } from '../analysis/disorder.ts';
import { UNJAMMING_PRESSURE, type ExponentFit } from '../analysis/unjamming.ts';
import { qModel } from '../model/q-model.ts';

export type Row = Record<string, number | string | null>;
export type VlSpec = Record<string, unknown>;

export interface ReadyFigure {
  name: string;
  title: string;
  caption: string;
  spec: VlSpec;
  /** The data behind the figure, by table name (written together as one CSV). */
  tables: Record<string, Row[]>;
  /** Parts that could not be drawn (e.g. a Q without this measurement). */
  notes: string[];
}

export interface MissingFigure {
  name: string;
  title: string;
  missing: string;
}

export type Figure = ReadyFigure | MissingFigure;

export const isReady = (f: Figure): f is ReadyFigure => 'spec' in f;

/** Laboratory reference: the highest Poisson's ratio of a metallic glass (a Pt-rich alloy). */
export const NU_LABORATORY = 0.43;

export const FONT = 'DejaVu Sans, Helvetica, Arial, sans-serif';
const PANEL = { width: 340, height: 270 };
const SINGLE = { width: 420, height: 300 };
/** Dark-to-warm sequence for increasing Q, all readable on white. */
const PALETTE = ['#1f2f8c', '#5a3fa8', '#a23b8f', '#d2475a', '#e8772e', '#b58b00', '#2a8f5a', '#555555'];
const GUIDE_COLOR = '#555555';

const CONFIG = {
  font: FONT,
  background: 'white',
  padding: 10,
  view: { stroke: '#444444' },
  axis: {
    labelFontSize: 13,
    titleFontSize: 15,
    titleFontWeight: 'normal',
    labelColor: '#222222',
    titleColor: '#111111',
    gridColor: '#e8e8e8',
    domainColor: '#444444',
    tickColor: '#444444',
    labelFlush: false,
    labelSeparation: 10,
    labelOverlap: true,
  },
  // End labels kept inside the plot's extent, so that no panel's title is pushed up by a label
  // sitting on its top edge (titles of side-by-side panels stay aligned).
  axisY: { labelFlush: true },
  legend: { labelFontSize: 13, titleFontSize: 14, titleFontWeight: 'normal', symbolSize: 90, symbolOpacity: 1 },
  title: { fontSize: 16, fontWeight: 'bold', anchor: 'start', offset: 10 },
  concat: { spacing: 36 },
  text: { fontSize: 13 },
};

const isNum = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);

interface Context {
  Qs: number[];
}

function qColor(ctx: Context, legend = true): VlSpec {
  return {
    field: 'Q',
    type: 'ordinal',
    scale: { domain: ctx.Qs, range: PALETTE.slice(0, Math.max(ctx.Qs.length, 1)) },
    legend: legend ? { title: 'Q', orient: 'right' } : null,
  };
}

/** A padded [min, max] of the positive values for a logarithmic axis. */
function logDomain(values: number[], pad = 1.3): [number, number] {
  const v = values.filter((x) => isNum(x) && x > 0);
  if (v.length === 0) return [0.1, 10];
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  return hi / lo < 1.5 ? [lo / 1.5, hi * 1.5] : [lo / pad, hi * pad];
}

/** Decades a log axis may span before its ticks are powers of ten only (a 1-2-5 sequence there is too dense to label). */
const DECADE_TICKS_ABOVE = 3;

/**
 * Tick values for a log axis: the 1-2-5 sequence inside the domain, denser when that gives fewer
 * than three; over more than DECADE_TICKS_ABOVE decades, powers of ten (every k-th, at most about six).
 */
function logTicks([lo, hi]: [number, number]): number[] {
  const decades = Math.log10(hi / lo);
  if (decades > DECADE_TICKS_ABOVE) {
    const every = Math.ceil(decades / 6);
    const ticks: number[] = [];
    for (let k = Math.ceil(Math.log10(lo) / every) * every; 10 ** k <= hi; k += every) ticks.push(Number((10 ** k).toPrecision(6)));
    return ticks;
  }
  for (const mantissas of [[1, 2, 5], [1, 1.5, 2, 3, 5, 7], [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8]]) {
    const ticks: number[] = [];
    for (let k = Math.floor(Math.log10(lo)); k <= Math.ceil(Math.log10(hi)); k++) {
      for (const m of mantissas) {
        const v = Number((m * 10 ** k).toPrecision(6));
        if (v >= lo && v <= hi) ticks.push(v);
      }
    }
    if (ticks.length >= 3) return ticks;
  }
  return [];
}

/** A logarithmic position channel with a fixed domain and readable ticks. */
function logChannel(field: string, title: string, domain: [number, number]): VlSpec {
  const ticks = logTicks(domain);
  // powers of ten alone read best as 1e-6; '~g' would write 0.000001 beside 1e-8
  const format = Math.log10(domain[1] / domain[0]) > DECADE_TICKS_ABOVE ? '~e' : '~g';
  return { field, type: 'quantitative', title, scale: { type: 'log', domain }, axis: ticks.length > 0 ? { values: ticks, format } : {} };
}

function linearDomain(values: number[], pad = 0.08): [number, number] {
  const v = values.filter(isNum);
  if (v.length === 0) return [0, 1];
  const lo = Math.min(...v);
  const hi = Math.max(...v);
  const span = hi - lo || Math.abs(hi) || 1;
  return [lo - pad * span, hi + pad * span];
}

/** Value, error and the ends of the ±1σ bar (lower end clamped to `floor` for log axes). */
function withBar(prefix: string, e: Estimate | undefined, floor = -Infinity): Row {
  const v = e && isNum(e.value) ? e.value : null;
  const err = e && isNum(e.error) ? e.error : null;
  return {
    [prefix]: v,
    [`${prefix}Error`]: err,
    [`${prefix}Low`]: v !== null && err !== null ? Math.max(v - err, floor) : v,
    [`${prefix}High`]: v !== null && err !== null ? v + err : v,
  };
}

/** Points with optional vertical and horizontal error bars, coloured by Q (or by the given colour channel). */
function pointsWithBars(ctx: Context, rows: Row[], x: VlSpec, y: VlSpec, opts: { xBars?: boolean; legend?: boolean; color?: VlSpec; open?: boolean } = {}): VlSpec[] {
  const xf = x.field as string;
  const yf = y.field as string;
  const color = opts.color ?? qColor(ctx, opts.legend ?? true);
  // open: a second estimate beside the main one, hollow points on dashed bars
  const bar = opts.open ? { strokeWidth: 1.2, strokeDash: [3, 2] } : { strokeWidth: 1.6 };
  const layers: VlSpec[] = [
    {
      data: { values: rows },
      mark: { type: 'rule', ...bar, clip: true },
      encoding: { x, y: { ...y, field: `${yf}Low` }, y2: { field: `${yf}High` }, stroke: color },
    },
  ];
  if (opts.xBars) {
    layers.push({
      data: { values: rows },
      mark: { type: 'rule', ...bar, clip: true },
      encoding: { y, x: { ...x, field: `${xf}Low` }, x2: { field: `${xf}High` }, stroke: color },
    });
  }
  layers.push({
    data: { values: rows },
    mark: { type: 'point', filled: !opts.open, size: 80, ...(opts.open ? { strokeWidth: 1.6 } : {}), opacity: 1, clip: true },
    encoding: { x, y, color, shape: { value: 'circle' } },
  });
  return layers;
}

/** A grey text beside the point of rows[0] at (x, y), naming the series it belongs to. */
function seriesLabel(row: Row | undefined, x: VlSpec, y: VlSpec, text: string, side: 'left' | 'right' = 'left', color = '#555555'): VlSpec[] {
  if (!row) return [];
  return [{
    data: { values: [row] },
    mark: { type: 'text', align: side === 'left' ? 'left' : 'right', dx: side === 'left' ? 10 : -10, fontSize: 12, color },
    encoding: { x, y, text: { value: text } },
  }];
}

/** A fitted power-law guide c·x^p over [x0, x1], drawn dashed and labelled at its right end. */
function guide(x: number[], y: number[], yErr: number[], power: number, label: string, x0: number, x1: number): { rows: Row[]; layers: VlSpec[]; prefactor: number } {
  const c = fitPrefactor(x, y, (v) => v ** power, yErr);
  const rows: Row[] = [];
  for (let k = 0; k <= 40; k++) {
    const xv = x0 * (x1 / x0) ** (k / 40);
    rows.push({ x: xv, y: c * xv ** power });
  }
  if (!isNum(c)) return { rows: [], layers: [], prefactor: NaN };
  // The label sits in the corner the line leaves empty: top right for falling, top left for rising guides.
  const falling = power < 0;
  const layers: VlSpec[] = [
    { data: { values: rows }, mark: { type: 'line', strokeDash: [6, 4], color: GUIDE_COLOR, strokeWidth: 1.5, clip: true }, encoding: { x: { field: 'x' }, y: { field: 'y' } } },
    {
      data: { values: [{ label: `- - ${label}` }] },
      mark: { type: 'text', align: falling ? 'right' : 'left', baseline: 'top', dx: falling ? -8 : 8, dy: 8, fontSize: 13, color: '#333333' },
      encoding: { x: { value: falling ? 'width' : 0 }, y: { value: 0 }, text: { field: 'label' } },
    },
  ];
  return { rows: rows.map((r) => ({ ...r, guide: label, prefactor: c })), layers, prefactor: c };
}

function qAxis(ctx: Context, title = 'stiffness Q'): VlSpec {
  const lo = Math.min(...ctx.Qs);
  const hi = Math.max(...ctx.Qs);
  return {
    field: 'Q',
    type: 'quantitative',
    title,
    scale: { type: 'log', domain: [lo / 1.3, hi * 1.3] },
    axis: { values: ctx.Qs, format: 'd', grid: true },
  };
}

function frame(title: string, body: VlSpec): VlSpec {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', title, config: CONFIG, ...body };
}

function missingFor(perQ: QSummary[], has: (q: QSummary) => boolean, what: string): string[] {
  const lacking = perQ.filter((q) => !has(q)).map((q) => q.Q);
  return lacking.length > 0 ? [`no ${what} for Q = ${lacking.join(', ')}`] : [];
}

/** Figure 1: ν versus Q with the laboratory reference; (b) φ(r) for each Q. */
function figure1(s: EnsembleSummary, ctx: Context): Figure {
  const title = 'Figure 1: Poisson’s ratio versus Q';
  const qs = s.perQ.filter((q) => q.elastic && isNum(q.elastic.nu.value));
  if (qs.length === 0) return { name: 'fig1', title, missing: 'no elastic moduli in the campaign (measure elastic), so no ν' };
  const points: Row[] = qs.map((q) => ({ Q: q.Q, ...withBar('nu', q.elastic!.nu) }));
  const potential: Row[] = [];
  for (const Q of ctx.Qs) {
    const model = qModel(Q);
    const out = new Float64Array(4);
    for (let k = 0; k <= 220; k++) {
      const x = 0.9 + (k * 1.15) / 220;
      model.derivatives(0, x * x, out);
      if (out[0] <= 1.5) potential.push({ Q, x, phi: out[0] });
    }
  }
  const nuValues = points.flatMap((p) => [p.nuLow as number, p.nuHigh as number]);
  const yDomain: [number, number] = [Math.min(0.3, ...nuValues.map((v) => v - 0.01)), 0.5];
  const y = { field: 'nu', type: 'quantitative', title: 'Poisson’s ratio ν', scale: { domain: yDomain, zero: false } };
  const refs = [
    { nu: NU_LABORATORY, label: `ν = ${NU_LABORATORY} (lab. max., Pt-rich)` },
    { nu: 0.5, label: 'ν = 1/2 (incompressible)' },
  ];
  const panelA: VlSpec = {
    ...PANEL,
    title: '(a) ν versus Q',
    layer: [
      { data: { values: refs }, mark: { type: 'rule', strokeDash: [5, 4], color: GUIDE_COLOR, strokeWidth: 1.5 }, encoding: { y: { field: 'nu', type: 'quantitative' } } },
      {
        data: { values: refs },
        mark: { type: 'text', align: 'left', baseline: 'top', dx: 4, dy: 3, x: 0, fontSize: 13, color: '#333333' },
        encoding: { y: { field: 'nu', type: 'quantitative' }, text: { field: 'label' } },
      },
      ...pointsWithBars(ctx, points, qAxis(ctx), y),
    ],
  };
  const panelB: VlSpec = {
    ...PANEL,
    title: '(b) inset: pair potential φ(r)',
    data: { values: potential },
    mark: { type: 'line', strokeWidth: 2, clip: true },
    encoding: {
      x: { field: 'x', type: 'quantitative', title: 'r/λ (λ = λ_SS, λ_SL, λ_LL)', scale: { domain: [0.9, 2.05] } },
      y: { field: 'phi', type: 'quantitative', title: 'φ(r)/ε', scale: { domain: [-1, 1.5] } },
      color: qColor(ctx),
    },
  };
  return {
    name: 'fig1',
    title,
    caption:
      `Ensemble-mean Poisson’s ratio ν = (3K − 2G)/(2(3K + G)) versus the repulsion stiffness Q (log axis); error bars ±1 bootstrap standard error over samples. ` +
      `Dashed lines: ν = ${NU_LABORATORY}, the highest value measured for a laboratory metallic glass (a Pt-rich alloy), and the incompressible limit ν = 1/2. ` +
      `Panel (b), the inset of the paper drawn beside it: the pair potential φ(r)/ε versus r/λ_ij for each Q (the same curve for all three pair types in reduced units).`,
    spec: frame(title, { hconcat: [panelA, panelB], resolve: { scale: { color: 'shared' } } }),
    tables: { nu: points, potential },
    notes: missingFor(s.perQ, (q) => !!q.elastic, 'elastic moduli'),
  };
}

/** Figure 2: G/K versus Q against ∝ 1/√Q. */
function figure2(s: EnsembleSummary, ctx: Context): Figure {
  const title = 'Figure 2: G/K versus Q';
  const qs = s.perQ.filter((q) => q.elastic && isNum(q.elastic.GOverK.value) && q.elastic.GOverK.value > 0);
  if (qs.length === 0) return { name: 'fig2', title, missing: 'no elastic moduli in the campaign (measure elastic), so no G/K' };
  const points: Row[] = qs.map((q) => ({ Q: q.Q, ...withBar('GOverK', q.elastic!.GOverK, 1e-12) }));
  const dom = logDomain(points.flatMap((p) => [p.GOverKLow as number, p.GOverKHigh as number]));
  const Qv = points.map((p) => p.Q as number);
  const g = guide(Qv, points.map((p) => p.GOverK as number), points.map((p) => p.GOverKError as number), -0.5, '∝ 1/√Q', Math.min(...ctx.Qs) / 1.2, Math.max(...ctx.Qs) * 1.2);
  for (const p of points) p.GOverKLow = Math.max(p.GOverKLow as number, dom[0]);
  const y = logChannel('GOverK', 'G/K', dom);
  return {
    name: 'fig2',
    title,
    caption:
      `Ratio of shear to bulk modulus G/K (ensemble means, ±1 bootstrap standard error) versus Q, log–log. ` +
      `Dashed: the unjamming-based guess G/K ∝ Q^(−1/2), prefactor ${g.prefactor.toPrecision(3)} fitted to the points (weighted by their relative errors, on log axes).`,
    spec: frame(title, { ...SINGLE, layer: [...g.layers.map((l) => withScales(l, qAxis(ctx), y)), ...pointsWithBars(ctx, points, qAxis(ctx), y)] }),
    tables: { GOverK: points, guide: g.rows },
    notes: missingFor(s.perQ, (q) => !!q.elastic, 'elastic moduli'),
  };
}

/** Gives a guide layer the x/y scale definitions of the panel it is drawn in. */
function withScales(layer: VlSpec, x: VlSpec, y: VlSpec): VlSpec {
  const enc = layer.encoding as Record<string, VlSpec>;
  if (!enc.x?.field || !enc.y?.field) return layer;
  return { ...layer, encoding: { ...enc, x: { ...x, field: enc.x.field }, y: { ...y, field: enc.y.field } } };
}

/** Figure 3: g_LL(r) versus r/a₀; (b) first-peak height versus G/K against ∝ (G/K)⁻². */
function figure3(s: EnsembleSummary, ctx: Context): Figure {
  const title = 'Figure 3: large–large pair correlation';
  const qs = s.perQ.filter((q) => q.structure);
  if (qs.length === 0) return { name: 'fig3', title, missing: 'no pair correlations in the campaign (measure gr), so no g_LL(r)' };
  const curves: Row[] = [];
  for (const q of qs) {
    const st = q.structure!;
    st.rOverA0.forEach((x, i) => {
      if (x <= 3.2 && isNum(st.gLL[i])) curves.push({ Q: q.Q, rOverA0: x, gLL: st.gLL[i], gLLError: isNum(st.gLLError[i]) ? st.gLLError[i] : null });
    });
  }
  const panelA: VlSpec = {
    ...PANEL,
    title: '(a) g_LL(r), ensemble average',
    data: { values: curves },
    mark: { type: 'line', strokeWidth: 1.8, clip: true },
    encoding: {
      x: { field: 'rOverA0', type: 'quantitative', title: 'r/a₀', scale: { domain: [0.5, 3.2] } },
      y: { field: 'gLL', type: 'quantitative', title: 'g_LL(r)' },
      color: qColor(ctx),
    },
  };
  const notes = missingFor(s.perQ, (q) => !!q.structure, 'g(r)');
  const peaks: Row[] = qs
    .filter((q) => q.elastic && isNum(q.elastic.GOverK.value) && isNum(q.structure!.firstPeakHeight.value))
    .map((q) => ({ Q: q.Q, ...withBar('GOverK', q.elastic!.GOverK, 1e-12), ...withBar('height', q.structure!.firstPeakHeight, 1e-12) }));
  const hconcat: VlSpec[] = [panelA];
  const tables: Record<string, Row[]> = { gLL: curves, firstPeak: peaks };
  if (peaks.length > 0) {
    const xd = logDomain(peaks.flatMap((p) => [p.GOverKLow as number, p.GOverKHigh as number]));
    const yd = logDomain(peaks.flatMap((p) => [p.heightLow as number, p.heightHigh as number]), 1.15);
    const x = logChannel('GOverK', 'G/K', xd);
    const y = logChannel('height', 'first-peak height of g_LL', yd);
    const g = guide(peaks.map((p) => p.GOverK as number), peaks.map((p) => p.height as number), peaks.map((p) => p.heightError as number), -2, '∝ (G/K)⁻²', xd[0], xd[1]);
    tables.guide = g.rows;
    hconcat.push({ ...PANEL, title: '(b) inset: first-peak height', layer: [...g.layers.map((l) => withScales(l, x, y)), ...pointsWithBars(ctx, peaks, x, y, { xBars: true })] });
  } else notes.push('inset (first-peak height versus G/K) not drawn: needs both g(r) and elastic moduli');
  return {
    name: 'fig3',
    title,
    caption:
      `(a) Sample-averaged partial pair correlation g_LL of the large particles versus r/a₀, a₀ = (V/N)^(1/3), one curve per Q. ` +
      `(b), the inset of the paper drawn beside it: mean first-peak height of g_LL (per-sample peak fit) versus G/K, log–log, with ±1 bootstrap standard errors in both directions; dashed: ∝ (G/K)⁻² with a fitted prefactor.`,
    spec: frame(title, { hconcat, resolve: { scale: { color: 'shared' } } }),
    tables,
    notes,
  };
}

/** Figure 4: D(ω) versus ω/ω₀ with A_g·ω⁴ fits; (b) ξ_g/a₀ versus G/K against ∝ (G/K)^(−1/2). */
function figure4(s: EnsembleSummary, ctx: Context): Figure {
  const title = 'Figure 4: low-frequency density of states';
  const qs = s.perQ.filter((q) => q.spectrum && isNum(q.spectrum.omega0.value) && q.spectrum.histogram.length > 0);
  if (qs.length === 0) return { name: 'fig4', title, missing: 'no vibrational modes in the campaign (measure modes, with elastic for ω₀), so no D(ω)' };
  const norm = s.options.normalization === 'dof' ? 'per degree of freedom (3N)' : 'per particle (N)';
  const hist: Row[] = [];
  const fits: Row[] = [];
  for (const q of qs) {
    const sp = q.spectrum!;
    const w0 = sp.omega0.value;
    for (const b of sp.histogram) {
      if (b.count === 0) continue;
      hist.push({ Q: q.Q, omegaOverOmega0: b.center / w0, binLow: b.low / w0, binHigh: b.high / w0, count: b.count, ...withBar('D', { value: b.D * w0, error: b.error * w0 } as Estimate) });
    }
    if (isNum(sp.AgOmega0_5.value) && sp.AgOmega0_5.value > 0) {
      const x0 = sp.histogram[0].low / w0;
      const x1 = sp.cutoff.value / w0;
      for (let k = 0; k <= 20; k++) {
        const x = x0 * (x1 / x0) ** (k / 20);
        fits.push({ Q: q.Q, omegaOverOmega0: x, fit: sp.AgOmega0_5.value * x ** 4, AgOmega0_5: sp.AgOmega0_5.value });
      }
    }
  }
  const yd = logDomain([...hist.map((h) => h.D as number), ...hist.map((h) => h.DHigh as number)], 2);
  for (const h of hist) h.DLow = Math.max(h.DLow as number, yd[0]);
  const xd = logDomain(hist.flatMap((h) => [h.binLow as number, h.binHigh as number]), 1.1);
  const x = logChannel('omegaOverOmega0', 'ω/ω₀', xd);
  const y = logChannel('D', `D(ω)·ω₀ (${s.options.normalization === 'dof' ? 'per d.o.f.' : 'per particle'})`, yd);
  const panelA: VlSpec = {
    ...PANEL,
    title: '(a) D(ω) with A_g·ω⁴ fits',
    layer: [
      { data: { values: fits }, mark: { type: 'line', strokeWidth: 1.6, strokeDash: [6, 3], clip: true }, encoding: { x, y: { ...y, field: 'fit' }, stroke: qColor(ctx) } },
      ...pointsWithBars(ctx, hist, x, y),
    ],
  };
  const notes = missingFor(s.perQ, (q) => !!q.spectrum, 'vibrational modes');
  const hconcat: VlSpec[] = [panelA];
  const xi: Row[] = qs
    .filter((q) => q.elastic && isNum(q.spectrum!.xiOverA0.value))
    .map((q) => ({ Q: q.Q, ...withBar('GOverK', q.elastic!.GOverK, 1e-12), ...withBar('xi', q.spectrum!.xiOverA0, 1e-12) }));
  const tables: Record<string, Row[]> = { D: hist, fit: fits, xi };
  if (xi.length > 0) {
    const gx = logDomain(xi.flatMap((p) => [p.GOverKLow as number, p.GOverKHigh as number]));
    const gy = logDomain(xi.flatMap((p) => [p.xiLow as number, p.xiHigh as number]), 1.15);
    const xx = logChannel('GOverK', 'G/K', gx);
    const yy = logChannel('xi', 'ξ_g/a₀', gy);
    const g = guide(xi.map((p) => p.GOverK as number), xi.map((p) => p.xi as number), xi.map((p) => p.xiError as number), -0.5, '∝ (G/K)^(−1/2)', gx[0], gx[1]);
    tables.guide = g.rows;
    hconcat.push({ ...PANEL, title: '(b) inset: length ξ_g', layer: [...g.layers.map((l) => withScales(l, xx, yy)), ...pointsWithBars(ctx, xi, xx, yy, { xBars: true })] });
  } else notes.push('inset (ξ_g/a₀ versus G/K) not drawn: no A_g fit');
  return {
    name: 'fig4',
    title,
    caption:
      `(a) Density of vibrational states D(ω), normalised ${norm} and per sample, times ω₀ = c_s/a₀ (c_s = sqrt(G/ρ)), versus ω/ω₀, pooled over the samples of each Q ` +
      `(log-spaced bins up to the frequency below which every sample's computed modes are complete, merged at the low end until each holds at least 3 modes; points at the mean frequency of their modes; error bars: Poisson counting errors). ` +
      `Dashed: D(ω) = A_g·ω⁴ with A_g fitted by least squares to the cumulative count C(ω) = A_g·ω⁵/5 of the modes below the fit cutoff: below the lowest shear band ω₁ = 2π·c_s/L and where the count follows ω⁵ (see the page's methods); the line spans the fit range. ` +
      `(b), the inset of the paper drawn beside it: ξ_g/a₀ = 2π·(A_g·ω₀⁵)^(1/5) versus G/K (±1 bootstrap standard errors), dashed ∝ (G/K)^(−1/2) with a fitted prefactor.`,
    spec: frame(title, { hconcat, resolve: { scale: { color: 'shared' } } }),
    tables,
    notes,
  };
}

/** Figure 5a: A_g·ω₀⁵ versus χ against ∝ χ^(10/3). */
function figure5a(s: EnsembleSummary, ctx: Context): Figure {
  const title = 'Figure 5a: QLM density versus mechanical disorder';
  const qs = s.perQ.filter((q) => q.disorder && q.spectrum && isNum(q.spectrum.AgOmega0_5.value) && isNum(q.disorder[CHI_FIGURE_CONVENTION].value));
  if (qs.length === 0) return { name: 'fig5a', title, missing: 'needs both χ (elastic moduli of the three shear planes) and an A_g fit (vibrational modes); at least one is missing' };
  const rows: Row[] = qs.map((q) => ({ Q: q.Q, ...withBar('chi', q.disorder![CHI_FIGURE_CONVENTION], 1e-12), ...withBar('AgOmega0_5', q.spectrum!.AgOmega0_5, 1e-30) }));
  const xd = logDomain(rows.flatMap((r) => [r.chiLow as number, r.chiHigh as number]));
  const yd = logDomain(rows.flatMap((r) => [r.AgOmega0_5 as number, r.AgOmega0_5High as number]), 2);
  for (const r of rows) r.AgOmega0_5Low = Math.max(r.AgOmega0_5Low as number, yd[0]);
  const x = logChannel('chi', 'χ = √N·std(G)/mean(G)', xd);
  const y = logChannel('AgOmega0_5', 'A_g·ω₀⁵', yd);
  const g = guide(rows.map((r) => r.chi as number), rows.map((r) => r.AgOmega0_5 as number), rows.map((r) => r.AgOmega0_5Error as number), 10 / 3, '∝ χ^(10/3)', xd[0], xd[1]);
  return {
    name: 'fig5a',
    title,
    caption:
      `Dimensionless prefactor A_g·ω₀⁵ of the ω⁴ density of quasilocalized modes (normalised ${s.options.normalization === 'dof' ? 'per degree of freedom' : 'per particle'}) versus the mechanical disorder χ = √N·std(G)/mean(G), ` +
      `computed from the single-plane shear moduli μ_xy, μ_xz, μ_yz of all samples pooled (the plane-averaged convention is in the tables). ±1 bootstrap standard errors; dashed: ∝ χ^(10/3) with a fitted prefactor.`,
    spec: frame(title, { ...SINGLE, layer: [...g.layers.map((l) => withScales(l, x, y)), ...pointsWithBars(ctx, rows, x, y, { xBars: true })] }),
    tables: { points: rows, guide: g.rows },
    notes: missingFor(s.perQ, (q) => !!q.disorder && !!q.spectrum, 'χ and A_g together'),
  };
}

/** Figure 5b: k₋/f₋ of the softest NQLEs versus Q. */
function figure5b(s: EnsembleSummary, ctx: Context): Figure {
  const title = 'Figure 5b: anatomy of the softest NQLEs';
  const qs = s.perQ.filter((q) => q.nqle && isNum(q.nqle.kMinusOverFMinus.value));
  if (qs.length === 0) return { name: 'fig5b', title, missing: 'no nonlinear quasilocalized excitations in the campaign (measure nqle), so no k₋/f₋' };
  const rows: Row[] = qs.map((q) => ({ Q: q.Q, ...withBar('ratio', q.nqle!.kMinusOverFMinus), samples: q.counts.nqle }));
  const y = { field: 'ratio', type: 'quantitative', title: 'k₋/f₋ (softest NQLE)', scale: { domain: [0, linearDomain(rows.flatMap((r) => [r.ratioLow as number, r.ratioHigh as number]))[1]] } };
  return {
    name: 'fig5b',
    title,
    caption:
      `Ratio ⟨k₋⟩/⟨f₋⟩ over the ensemble of the softest converged nonlinear quasilocalized excitation of each sample, versus Q: k₋ collects the stiffness terms φ″·(n·z)² of pairs with φ″ < 0, ` +
      `f₋ the force terms (φ′/r)·|z_⊥|² of compressed pairs (φ′ < 0), in ω² = k₊ + k₋ + f₊ + f₋. A ratio above 1 means the mode is softened more by negative pair stiffnesses than by compressive forces. ±1 bootstrap standard errors.`,
    spec: frame(title, { ...SINGLE, layer: [{ data: { values: [{ one: 1 }] }, mark: { type: 'rule', color: '#999999', strokeDash: [2, 3] }, encoding: { y: { datum: 1, type: 'quantitative' } } }, ...pointsWithBars(ctx, rows, qAxis(ctx), y)] }),
    tables: { ratio: rows },
    notes: missingFor(s.perQ, (q) => !!q.nqle, 'NQLEs'),
  };
}

/** Figure 6: yielding under athermal quasistatic shear — stress–strain, overshoot and localisation, events, soft spots. */
function figure6(s: EnsembleSummary, ctx: Context): Figure {
  const title = 'Figure 6: yielding under athermal quasistatic shear';
  const qs = s.perQ.filter((q) => q.aqs);
  const curve: Row[] = qs.flatMap((q) => (q.aqs!.curve
    ? q.aqs!.curve.gamma.map((g, i) => {
      const v = q.aqs!.curve!.sigmaOverG[i], e = q.aqs!.curve!.error[i];
      return { Q: q.Q, gamma: g, sigmaOverG: v, low: isNum(e) ? v - e : v, high: isNum(e) ? v + e : v };
    })
    : []));
  const withNu = qs.filter((q) => q.elastic && isNum(q.elastic.nu.value));
  const yieldRows: Row[] = withNu.map((q) => ({
    Q: q.Q, ...withBar('nu', q.elastic!.nu), ...withBar('overshoot', q.aqs!.overshootRatio), ...withBar('localisation', q.aqs!.localisationIndex),
    ...withBar('sigmaMaxOverG', q.aqs!.sigmaMaxOverG), ...withBar('flowOverG', q.aqs!.flowStressOverG), shuffled: q.aqs!.localisationShuffled.value, ...withBar('meanCurveOvershoot', q.aqs!.meanCurveOvershoot), ...withBar('flowRise', q.aqs!.flowRise), samples: q.aqs!.samples,
  }));
  // complementary cumulative distribution of the event sizes |Δσ|/G₀, pooled per Q
  const sizes: Row[] = qs.flatMap((q) => {
    const v = [...q.aqs!.eventSizes].filter((x) => x > 0).sort((a, b) => a - b);
    return v.map((x, i) => ({ Q: q.Q, size: x, ccdf: (v.length - i) / v.length }));
  });
  const overlapRows: Row[] = qs.filter((q) => isNum(q.aqs!.firstEventOverlap.value))
    .map((q) => ({ Q: q.Q, ...withBar('overlap', q.aqs!.firstEventOverlap), ...withBar('best', q.aqs!.firstEventBestOverlap) }));
  const color = qColor(ctx);
  const nuX = { field: 'nu', type: 'quantitative', title: 'Poisson’s ratio ν', scale: { domain: linearDomain(yieldRows.map((r) => r.nu as number)), zero: false } };
  const panelA: VlSpec = {
    ...PANEL, title: '(a) mean σ/G versus strain',
    layer: [
      { data: { values: curve }, mark: { type: 'area', opacity: 0.25, clip: true }, encoding: { x: { field: 'gamma', type: 'quantitative', title: 'shear strain γ' }, y: { field: 'low', type: 'quantitative', title: 'σ/G₀' }, y2: { field: 'high' }, fill: color } },
      { data: { values: curve }, mark: { type: 'line', strokeWidth: 1.8, clip: true }, encoding: { x: { field: 'gamma', type: 'quantitative' }, y: { field: 'sigmaOverG', type: 'quantitative' }, color } },
    ],
  };
  const overshootY = { field: 'overshoot', type: 'quantitative', title: 'σ_max/σ_flow', scale: { zero: false } };
  const meanCurveY = { ...overshootY, field: 'meanCurveOvershoot' };
  const panelB: VlSpec = {
    ...PANEL, title: '(b) stress overshoot σ_max/σ_flow versus ν',
    layer: [
      ...pointsWithBars(ctx, yieldRows, nuX, overshootY),
      ...pointsWithBars(ctx, yieldRows, nuX, meanCurveY, { open: true }),
      ...seriesLabel(yieldRows[0], nuX, meanCurveY, '○ of the mean curve'),
      ...seriesLabel(yieldRows[0], nuX, overshootY, '● per sample'),
    ],
  };
  const localisationY = { field: 'localisation', type: 'quantitative', title: 'D²_min localisation index', scale: { zero: true } };
  const panelB2: VlSpec = {
    ...PANEL, title: '(b) localisation index versus ν',
    layer: [
      ...pointsWithBars(ctx, yieldRows, nuX, localisationY),
      // what the same D²_min values give at random particles: homogeneous flow at this N
      { data: { values: yieldRows }, mark: { type: 'point', shape: 'diamond', size: 70, filled: false, strokeWidth: 1.5, color: '#777777', clip: true }, encoding: { x: nuX, y: { ...localisationY, field: 'shuffled' } } },
      ...seriesLabel(yieldRows[0], nuX, { ...localisationY, field: 'shuffled' }, 'homogeneous flow', 'left', '#777777'),
    ],
  };
  const sizeDomain = logDomain(sizes.map((r) => r.size as number));
  const panelC: VlSpec = {
    ...PANEL, title: '(c) event sizes: P(Δσ/G₀ > x)',
    data: { values: sizes },
    mark: { type: 'line', interpolate: 'step-after', strokeWidth: 1.8, point: { size: 20 }, clip: true },
    encoding: { x: logChannel('size', 'stress jump |Δσ|/G₀', sizeDomain), y: logChannel('ccdf', 'fraction of events larger', [Math.min(...sizes.map((r) => r.ccdf as number)) / 1.3, 1.3]), color },
  };
  // λ_min on the approach to the first event, one sample per Q, relative to its value farthest from γ_c
  const approachRows: Row[] = qs.flatMap((q) => {
    const a = q.aqs!.approachExample;
    if (!a) return [];
    const far = a.distance.indexOf(Math.max(...a.distance));
    return a.distance.map((d, i) => ({ Q: q.Q, distance: d, lambda: a.lambdaMin[i] / a.lambdaMin[far] })).filter((r) => r.distance > 0 && r.lambda > 0);
  });
  const panelE: VlSpec[] = [];
  if (approachRows.length > 1) {
    const dx = logDomain(approachRows.map((r) => r.distance as number));
    const ly = logDomain(approachRows.map((r) => r.lambda as number));
    const x = logChannel('distance', 'distance to the instability γ_c − γ', dx);
    const y = logChannel('lambda', 'λ_min relative to the farthest state', ly);
    const half = guide(approachRows.map((r) => r.distance as number), approachRows.map((r) => r.lambda as number), [], 0.5, 'slope ½', dx[0], dx[1]);
    panelE.push({
      ...PANEL, title: '(e) approach to the first event',
      layer: [
        ...half.layers.map((l) => withScales(l, x, y)),
        { data: { values: approachRows }, mark: { type: 'line', strokeWidth: 1.5, point: { size: 30, filled: true }, clip: true }, encoding: { x, y, color } },
      ],
    });
  }
  const overlapY = { field: 'overlap', type: 'quantitative', title: 'overlap |û·π̂| of the first event', scale: { domain: [0, 1] } };
  const bestY = { ...overlapY, field: 'best' };
  const panelD: VlSpec = {
    ...PANEL, title: '(d) first event · softest NQLEs',
    layer: [
      ...pointsWithBars(ctx, overlapRows, qAxis(ctx), overlapY),
      // the best overlap among the sample's softest NQLEs: the event may start at another soft spot
      ...pointsWithBars(ctx, overlapRows, qAxis(ctx), bestY, { open: true }),
      ...seriesLabel(overlapRows[overlapRows.length - 1], qAxis(ctx), bestY, '○ best of the softest', 'right'),
      ...seriesLabel(overlapRows[overlapRows.length - 1], qAxis(ctx), overlapY, '● softest', 'right'),
    ],
  };
  return {
    name: 'fig6',
    title,
    caption:
      'Athermal quasistatic simple shear of every sample (each strain step relaxed to an energy minimum). (a) Mean shear stress σ/G₀ (G₀ the linear-response shear modulus of the unstrained sample) versus strain γ, band ±1 standard error over samples. ' +
      '(b) The stress overshoot σ_max/σ_flow (σ_flow the mean stress over the last half of the path), per sample (filled; the stress fluctuations of a finite sample alone make it exceed 1) and of the ensemble-mean curve (open, dashed bars) — where the mean curve still rises through the flow range (flowRise in summary.json), the ratio measures that rise rather than an overshoot —, and the localisation index (the share f of the accumulated D²_min carried by the most strained slab, a quarter of the box across the gradient direction, as (f − ¼)/(1 − ¼): 1 when one band carries all of it; grey diamonds: the same D²_min values at random particles, what homogeneous flow gives at this N) versus the ensemble-mean Poisson’s ratio; ±1 bootstrap standard errors. ' +
      '(c) Distribution of the stress jumps |Δσ| of plastic events (drops, except for events that relax a stress of the other sign), pooled over the samples of each Q. (d) Overlap of the first plastic event’s non-affine displacement with the softest nonlinear quasilocalized excitation of the unstrained sample (filled) and the largest overlap with any of its softest NQLEs (open, dashed bars), versus Q (1: the same field, 0: unrelated). ' +
      '(e) The lowest non-zero Hessian eigenvalue of the stable states approaching the first plastic event of one sample per Q, versus the strain still to go (γ_c from the bisection bracket), relative to its value farthest from γ_c; dashed: the saddle-node law λ_min ∝ (γ_c − γ)^½, its prefactor fitted to the points.',
    spec: frame(title, { vconcat: [{ hconcat: [panelA, panelB, panelB2] }, { hconcat: [panelC, panelD, ...panelE] }], resolve: { scale: { color: 'shared' } } }),
    tables: { curve, yield: yieldRows, eventSizes: sizes, overlap: overlapRows, approach: approachRows },
    notes: [...missingFor(s.perQ, (q) => !!q.aqs, 'shear to yield'), ...missingFor(qs, (q) => isNum(q.aqs!.firstEventOverlap.value), 'first-event/NQLE overlap'), ...missingFor(qs, (q) => !!q.elastic, 'ν for panel (b)')],
  };
}

/** One system of Figure 7: a campaign's law, its control axis and its per-point summaries (QSummary.Q is the point's control value). */
export interface ControlSystem {
  /** Legend label: the law's name (with the campaign directory when two campaigns share a law). */
  label: string;
  model: string;
  axis: 'Q' | 'pressure';
  summary: EnsembleSummary;
}

/** On Figure 7's log axes, error bars reaching beyond this factor of their point are cut at the frame. */
const BAR_CUT = 3;

/** Colours of the laws in Figure 7: the Q-model as in the other figures' darkest shade, the controls apart from it. */
const SYSTEM_COLORS: Record<string, string> = { 'q-model': '#1f2f8c', 'repulsive-q': '#2a8f5a', harmonic: '#d2475a', hertzian: '#e8772e' };

/**
 * Figure 7: the unjamming analogy tested against its controls. Every point is one campaign point
 * (a Q or a target pressure) with ±1 bootstrap standard errors. (a) G/K versus p/K of soft spheres,
 * where G/K ∝ (p/K)^½ near unjamming, and repulsive-q glasses at their p/K = 3/(Q + 3); (b) G/K
 * versus Q of the Q-models against 1/√Q; (c)–(e) structure, length and NQLE anatomy versus G/K of
 * every system on the same axes.
 */
export function figure7(systems: ControlSystem[], fits: readonly ExponentFit[] = []): Figure {
  const name = 'fig7';
  const title = 'Figure 7: the Q-model against the unjamming controls';
  const labels = systems.map((x) => x.label);
  const color: VlSpec = {
    field: 'system', type: 'nominal', title: 'system',
    scale: { domain: labels, range: systems.map((x, i) => SYSTEM_COLORS[x.model] ?? PALETTE[(i + 4) % PALETTE.length]) },
    legend: { orient: 'right' },
  };
  const ctx: Context = { Qs: [] };
  const rows: Row[] = systems.flatMap((sys) => sys.summary.perQ.map((q) => ({
    system: sys.label, model: sys.model, axis: sys.axis, point: q.Q, ...(sys.axis === 'Q' ? { Q: q.Q } : { targetPressure: q.Q }),
    ...withBar('GOverK', q.elastic?.GOverK, 1e-12), ...withBar('pOverK', q.elastic?.pOverK, 1e-12),
    ...withBar('height', q.structure?.firstPeakHeight, 1e-12), ...withBar('xi', q.spectrum?.xiOverA0, 1e-12),
    ...withBar('ratio', q.nqle?.kMinusOverFMinus),
  })));
  const positive = (r: Row, f: string) => isNum(r[f]) && (r[f] as number) > 0;
  const notes: string[] = [];
  const panels: VlSpec[] = [];
  const tables: Record<string, Row[]> = { points: rows, ...(fits.length > 0 ? { fits: fits.map((f) => ({ ...f })) } : {}) };
  const gk = (pts: Row[]) => logDomain(pts.flatMap((p) => [p.GOverKLow as number, p.GOverKHigh as number]));
  // on a log axis a bar wider than a factor BAR_CUT either way sets no domain and is cut at the frame
  const barEnds = (pts: Row[], f: string) => pts.flatMap((p) => [
    Math.max(p[`${f}Low`] as number, (p[f] as number) / BAR_CUT), Math.min(p[`${f}High`] as number, (p[f] as number) * BAR_CUT),
  ]);
  const clampBars = (pts: Row[], f: string, d: [number, number]) => pts.map((p) => ({
    ...p, [`${f}Low`]: Math.max(p[`${f}Low`] as number, d[0]), [`${f}High`]: Math.min(p[`${f}High`] as number, d[1]),
  }));
  /** A log–log panel of y versus x over the rows that have both, with a fitted guide over the rows `fitTo` selects. */
  const panel = (
    label: string, pts: Row[], xf: string, xt: string, yf: string, yt: string,
    g: { power: number; text: string; fitTo: (r: Row) => boolean } | null, logY = true,
  ) => {
    const xd = logDomain(barEnds(pts, xf));
    const yd = logY ? logDomain(barEnds(pts, yf), 1.15) : linearDomain(pts.flatMap((p) => [p[`${yf}Low`] as number, p[`${yf}High`] as number]));
    const x = logChannel(xf, xt, xd);
    const y = logY ? logChannel(yf, yt, yd) : { field: yf, type: 'quantitative', title: yt, scale: { domain: yd, zero: false } };
    const shown = logY ? clampBars(clampBars(pts, xf, xd), yf, yd) : clampBars(pts, xf, xd);
    const cut = shown.filter((p, i) => ['Low', 'High'].some((end) => p[`${yf}${end}`] !== pts[i][`${yf}${end}`] || p[`${xf}${end}`] !== pts[i][`${xf}${end}`]));
    if (cut.length > 0) notes.push(`panel ${label.slice(0, 3)}: error bars cut at the frame for ${cut.map((p) => `${p.system} at ${p.point}`).join(', ')}`);
    const fit = pts.filter(g?.fitTo ?? (() => false));
    const guideLayers: VlSpec[] = [];
    if (g && fit.length >= 2) {
      const line = guide(fit.map((p) => p[xf] as number), fit.map((p) => p[yf] as number), fit.map((p) => p[`${yf}Error`] as number), g.power, g.text, xd[0], xd[1]);
      tables[`guide_${label[1]}`] = line.rows;
      guideLayers.push(...line.layers.map((l) => withScales(l, x, y)));
    }
    panels.push({ ...PANEL, title: label, layer: [...guideLayers, ...pointsWithBars(ctx, shown, x, y, { xBars: true, color })] });
  };

  const soft = (r: Row) => r.axis === 'pressure';
  const aRows = rows.filter((r) => (soft(r) || r.model === 'repulsive-q') && positive(r, 'GOverK') && positive(r, 'pOverK'));
  // the guide is fitted where the unjamming law holds (p ≤ 1e-2, docs/controls.md), or to every soft-sphere point when fewer than two lie there
  const nearJamming = (r: Row) => soft(r) && (r.point as number) <= UNJAMMING_PRESSURE;
  const fitA = aRows.filter(nearJamming).length >= 2 ? nearJamming : soft;
  if (aRows.some(soft)) panel('(a) G/K versus p/K', aRows, 'pOverK', 'p/K', 'GOverK', 'G/K', { power: 0.5, text: '∝ (p/K)^½', fitTo: fitA });
  else notes.push('panel (a) not drawn: needs a soft-sphere campaign (harmonic, hertzian) with elastic moduli');
  const bRows = rows.filter((r) => r.axis === 'Q' && positive(r, 'GOverK'));
  if (bRows.length > 0) {
    const fitModel = bRows.some((r) => r.model === 'q-model') ? 'q-model' : 'repulsive-q';
    const Qd = logDomain(bRows.map((r) => r.Q as number), 1.3);
    const yd = gk(bRows);
    const x = { field: 'Q', type: 'quantitative', title: 'stiffness Q', scale: { type: 'log', domain: Qd }, axis: { values: [...new Set(bRows.map((r) => r.Q as number))].sort((a, b) => a - b), format: 'd', grid: true } };
    const y = logChannel('GOverK', 'G/K', yd);
    const fit = bRows.filter((r) => r.model === fitModel);
    const line = guide(fit.map((r) => r.Q as number), fit.map((r) => r.GOverK as number), fit.map((r) => r.GOverKError as number), -0.5, `∝ 1/√Q (${fitModel})`, Qd[0], Qd[1]);
    tables.guide_b = line.rows;
    panels.push({ ...PANEL, title: '(b) G/K versus Q', layer: [...line.layers.map((l) => withScales(l, x, y)), ...pointsWithBars(ctx, clampBars(bRows, 'GOverK', yd), x, y, { color })] });
  } else notes.push('panel (b) not drawn: needs a q-model or repulsive-q campaign with elastic moduli');
  const versusG = (label: string, yf: string, yt: string, what: string, logY = true) => {
    const pts = rows.filter((r) => positive(r, 'GOverK') && (logY ? positive(r, yf) : isNum(r[yf])));
    if (pts.length > 0) panel(label, pts, 'GOverK', 'G/K', yf, yt, null, logY);
    else notes.push(`panel ${label.slice(0, 3)} not drawn: no ${what} with elastic moduli in any campaign`);
    const lacking = systems.filter((x) => !pts.some((r) => r.system === x.label)).map((x) => x.label);
    if (pts.length > 0 && lacking.length > 0) notes.push(`panel ${label.slice(0, 3)}: no ${what} for ${lacking.join(', ')}`);
  };
  versusG('(c) first g_LL peak versus G/K', 'height', 'first-peak height of g_LL', 'g(r)');
  versusG('(d) length ξ_g versus G/K', 'xi', 'ξ_g/a₀', 'A_g fit (modes)');
  versusG('(e) NQLE anatomy versus G/K', 'ratio', 'k₋/f₋ (softest NQLE)', 'NQLEs', false);
  if (panels.length === 0) return { name, title, missing: `none of its panels has data: ${notes.join('; ')}` };
  return {
    name,
    title,
    caption:
      'The paper explains the Q-model’s incompressibility by analogy with soft spheres near unjamming; here the analogy is tested against controls made and measured with the same code. ' +
      'Each point is the ensemble mean of one campaign point (a Q value, or a target pressure of the soft spheres) ±1 bootstrap standard error in both directions; colours are the systems (pair laws). ' +
      `(a) G/K versus p/K: soft spheres (rattlers excluded) with the unjamming law G/K ∝ (p/K)^½ (dashed, prefactor fitted to the soft spheres at p ≤ ${UNJAMMING_PRESSURE}, where the law holds), and repulsive-q glasses at their own p/K = 3/(Q + 3). ` +
      '(b) G/K versus Q for the Q-models, dashed ∝ 1/√Q fitted to the q-model points (repulsive-q when there are none). ' +
      '(c) first-peak height of g_LL, (d) ξ_g/a₀ = 2π·(A_g·ω₀⁵)^(1/5) from the low-frequency modes (Figure 4b), (e) ⟨k₋⟩/⟨f₋⟩ of the softest NQLE (Figure 5b), each versus G/K with every system on the same axes.',
    spec: frame(title, { vconcat: [{ hconcat: panels.slice(0, 3) }, ...(panels.length > 3 ? [{ hconcat: panels.slice(3) }] : [])], resolve: { scale: { color: 'shared' } } }),
    tables,
    notes,
  };
}

/** All figures of the paper for one ensemble summary, in order, then Figure 6 if any sample was sheared to yield (an opt-in measurement). */
export function buildFigures(summary: EnsembleSummary): Figure[] {
  const ctx: Context = { Qs: summary.perQ.map((q) => q.Q) };
  const sheared = summary.perQ.some((q) => q.aqs);
  return [figure1, figure2, figure3, figure4, figure5a, figure5b, ...(sheared ? [figure6] : [])].map((f) => f(summary, ctx));
}
