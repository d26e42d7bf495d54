/**
 * The report page: one self-contained HTML file (figures embedded as SVG data URIs, styles inline,
 * no network; the only script is the optional 3-D view's, inlined with its data), readable from disk. Figures are embedded as <img> rather than inline
 * <svg> because Vega's SVGs reuse element ids (clip paths) that would collide within one page.
 */
import type { EnsembleSummary, QSummary } from '../analysis/ensemble.ts';
import { isReady, type Figure } from './figures.ts';
import { formatEstimate, formatNumber } from './number-format.ts';
import type { ExponentFit } from '../analysis/unjamming.ts';

export interface HtmlFigure {
  figure: Figure;
  /** The rendered SVG (absent for a missing figure). */
  svg?: string;
  /** File names next to index.html. */
  files?: { svg: string; png?: string; csv: string };
}

export interface HtmlDocument {
  title: string;
  generatedAt: string;
  software: { name: string; version: string; node: string };
  /** Where the samples came from (campaign directory). */
  source: string;
  /** The campaign definition as stored (any JSON), shown as a table. */
  parameters: Record<string, unknown> | null;
  summary: EnsembleSummary;
  figures: HtmlFigure[];
  warnings: string[];
  /** Exponents of the unjamming analogy's claims over the compared systems (with Figure 7). */
  unjamming?: readonly ExponentFit[];
  /** Figure 7's systems, each with its points' summaries. */
  controls?: readonly ControlTableSystem[];
  /** The 3-D view's section and its styles (view3d.ts), placed after the figures. */
  viewer?: { html: string; style: string };
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A table of the summary as plain text: drawn into index.html, and written as Markdown into tables.md. */
export interface SummaryTable {
  title: string;
  head: string[];
  rows: string[][];
  /** What the columns mean, where the headers cannot say it. */
  note?: string;
}

function table(head: string[], rows: string[][]): Pick<SummaryTable, 'head' | 'rows'> {
  return { head, rows };
}

function htmlTable(t: SummaryTable): string {
  const th = t.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('');
  const tr = t.rows.map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('\n');
  return `<h3>${escapeHtml(t.title)}</h3>${t.note ? `<p class="caption">${escapeHtml(t.note)}</p>` : ''}<table><thead><tr>${th}</tr></thead><tbody>\n${tr}\n</tbody></table>`;
}

/** The summary's tables in Markdown (for a README or a paper's notes), each under its title. */
export function tablesMarkdown(tables: readonly SummaryTable[], source: string): string {
  const cell = (c: string) => c.replace(/\|/g, '\\|');
  const blocks = tables.map((t) => [
    `## ${t.title}`, '', ...(t.note ? [t.note, ''] : []),
    `| ${t.head.map(cell).join(' | ')} |`, `|${t.head.map(() => '---|').join('')}`, ...t.rows.map((r) => `| ${r.map(cell).join(' | ')} |`),
  ].join('\n'));
  return [`# Ensemble summary of ${source}`, '', 'Mean ± bootstrap standard error over samples; all numbers with their intervals in summary.json.', '', blocks.join('\n\n'), ''].join('\n');
}

/** One system of Figure 7 for its table: the label it has in the figure, its control axis and the summary of each point. */
export interface ControlTableSystem {
  label: string;
  axis: 'Q' | 'pressure';
  perPoint: readonly QSummary[];
}

/** The tables of the summary, in page order: elastic, structure and modes, shear to yield and cost when present, Figure 7's points and the analogy's exponents. */
export function summaryTables(summary: EnsembleSummary, unjamming?: readonly ExponentFit[], controls?: readonly ControlTableSystem[]): SummaryTable[] {
  const out: SummaryTable[] = [
    { title: 'Elastic properties and mechanical disorder', ...elasticTable(summary.perQ) },
    { title: 'Structure, low-frequency spectrum and soft excitations', ...modesTable(summary.perQ) },
  ];
  if (summary.perQ.some((q) => q.aqs)) out.push({ title: 'Shear to yield (athermal quasistatic shear)', note: AQS_NOTE, ...aqsTable(summary.perQ) });
  if (summary.perQ.some((q) => q.cost)) out.push({ title: 'Cost per sample', note: 'Wall seconds per finished sample, by stage: mean over the samples (largest). Samples computed side by side share the machine.', ...costTable(summary.perQ) });
  if (controls && controls.length > 0) out.push({ title: CONTROLS_TITLE, note: CONTROLS_NOTE, ...controlsTable(controls) });
  if (unjamming && unjamming.length > 0) out.push({ title: UNJAMMING_TITLE, note: UNJAMMING_NOTE, ...unjammingTable(unjamming) });
  return out;
}

const AQS_NOTE = 'Per sample: σ_max the largest σ_αβ on the path, σ_flow its mean over the last half of the strain range, G₀ the unstrained shear modulus of the plane; the overshoot of the mean curve is that of the ensemble-mean σ/G₀ curve, where the stress fluctuations of single samples average out; its rise over the flow range is the mean over the last quarter of the strain range minus that over the quarter before, over σ_flow (≈ 0 in steady flow; where it is clearly positive the stress still rises and σ_max/σ_flow measures that rise, not an overshoot). Localisation index: the share f of the accumulated D²_min in the most strained periodic slab a quarter of the box wide, as (f − ¼)/(1 − ¼) (1: one band, 0: homogeneous), beside its floor for the same values at random particles. |Δσ| is an event’s stress jump; the overlaps are |û·π̂| of the first event’s non-affine field with the NQLEs of the unstrained glass.';

const CONTROLS_TITLE = 'The compared systems, point by point (Figure 7)';

const CONTROLS_NOTE = 'Each system at each of its points: Q for the Q-models, the target pressure p (ε/σ³) for soft spheres. For packings the moduli, modes and NQLEs are those of the non-rattlers; Z is the number of contacts per non-rattler.';

const UNJAMMING_TITLE = 'The unjamming analogy in exponents';

const UNJAMMING_NOTE = 'Power laws fitted by least squares on log axes to the ensemble means of Figure 7’s points, per system; β ± the standard deviation of β when every point is redrawn from its own bootstrap standard error (2000 draws). Soft spheres are fitted at target pressures ≤ 1e-2, where unjamming’s laws apply; “Q a–b” rows are the local exponents between neighbouring Q.';

function elasticTable(perQ: QSummary[]): Pick<SummaryTable, 'head' | 'rows'> {
  return table(
    ['Q', 'N', 'ρ (λ⁻³)', 'density rule', 'samples done / failed / total', 'ν', 'K (ε/λ³)', 'G (ε/λ³)', 'G/K', 'p/K', 'χ, pooled planes', 'χ, plane average'],
    perQ.map((q) => [
      String(q.Q),
      String(q.N),
      formatNumber(q.density, 5),
      q.densityMode ?? '—',
      `${q.counts.done} / ${q.counts.failed} / ${q.counts.total}`,
      formatEstimate(q.elastic?.nu),
      formatEstimate(q.elastic?.K),
      formatEstimate(q.elastic?.G),
      formatEstimate(q.elastic?.GOverK),
      formatEstimate(q.elastic?.pOverK),
      formatEstimate(q.disorder?.pooledPlanes),
      formatEstimate(q.disorder?.planeAverage),
    ]),
  );
}

function modesTable(perQ: QSummary[]): Pick<SummaryTable, 'head' | 'rows'> {
  return table(
    ['Q', 'g_LL peak height', 'peak position (a₀)', 'c_s (λ/τ)', 'ω₀ (1/τ)', 'ω₁ (1/τ)', 'fit cutoff (1/τ)', 'modes in fit', 'β of C ∝ ω^β in fit', 'A_g (τ⁵)', 'A_g·ω₀⁵', 'ξ_g/a₀', 'k₋/f₋', 'NQLE samples'],
    perQ.map((q) => [
      String(q.Q),
      formatEstimate(q.structure?.firstPeakHeight),
      formatEstimate(q.structure?.firstPeakPosition),
      formatEstimate(q.spectrum?.cs),
      formatEstimate(q.spectrum?.omega0),
      formatEstimate(q.spectrum?.omega1),
      formatEstimate(q.spectrum?.cutoff),
      q.spectrum ? String(q.spectrum.modesBelowCutoff) : '—',
      formatEstimate(q.spectrum?.exponent),
      formatEstimate(q.spectrum?.Ag),
      formatEstimate(q.spectrum?.AgOmega0_5),
      formatEstimate(q.spectrum?.xiOverA0),
      formatEstimate(q.nqle?.kMinusOverFMinus),
      q.nqle ? String(q.counts.nqle) : '—',
    ]),
  );
}

function aqsTable(perQ: QSummary[]): Pick<SummaryTable, 'head' | 'rows'> {
  const sheared = perQ.filter((q) => q.aqs);
  return table(
    ['Q', 'ν', 'samples', 'σ_max/G₀', 'σ_flow/G₀', 'σ_max/σ_flow per sample', 'overshoot of the mean curve', 'rise of the mean curve over the flow range', 'localisation index (homogeneous floor)',
      'events per sample', 'mean |Δσ|/G₀', 'first event · softest NQLE', 'best of the NQLEs', 'centre distance (λ)', 'λ_min exponent'],
    sheared.map((q) => {
      const a = q.aqs!;
      return [
        String(q.Q), formatEstimate(q.elastic?.nu), String(a.samples), formatEstimate(a.sigmaMaxOverG), formatEstimate(a.flowStressOverG),
        formatEstimate(a.overshootRatio), formatEstimate(a.meanCurveOvershoot), formatEstimate(a.flowRise), `${formatEstimate(a.localisationIndex)} (${formatEstimate(a.localisationShuffled)})`,
        formatNumber(a.eventSizes.length / a.samples, 3), formatEstimate(a.meanEventSize), formatEstimate(a.firstEventOverlap),
        formatEstimate(a.firstEventBestOverlap), formatEstimate(a.firstEventDistance), formatEstimate(a.approachExponent),
      ];
    }),
  );
}

/** Wall seconds per finished sample, by stage: mean (largest). */
function costTable(perQ: QSummary[]): Pick<SummaryTable, 'head' | 'rows'> {
  const stages = [...new Set(perQ.flatMap((q) => q.cost?.stages.map((s) => s.stage) ?? []))];
  const cell = (x: { mean: number; max: number } | undefined) => (x ? `${formatNumber(x.mean, 3)} (${formatNumber(x.max, 3)})` : '—');
  return table(
    ['Q', 'samples', ...stages, 'whole sample'],
    perQ.filter((q) => q.cost).map((q) => [String(q.Q), String(q.cost!.samples), ...stages.map((st) => cell(q.cost!.stages.find((s) => s.stage === st))), cell(q.cost!.total)]),
  );
}

function controlsTable(systems: readonly ControlTableSystem[]): Pick<SummaryTable, 'head' | 'rows'> {
  return table(
    ['system', 'point', 'samples', 'p/K', 'G/K', 'ν', 'Z', 'rattlers', 'g_LL peak height', 'ξ_g/a₀', 'k₋/f₋'],
    systems.flatMap((c) => c.perPoint.map((q) => [
      c.label, c.axis === 'Q' ? `Q = ${q.Q}` : `p = ${formatNumber(q.Q)}`, String(q.counts.done),
      formatEstimate(q.elastic?.pOverK), formatEstimate(q.elastic?.GOverK), formatEstimate(q.elastic?.nu),
      formatEstimate(q.elastic?.contacts?.Z), formatEstimate(q.elastic?.contacts?.rattlerFraction),
      formatEstimate(q.structure?.firstPeakHeight), formatEstimate(q.spectrum?.xiOverA0), formatEstimate(q.nqle?.kMinusOverFMinus),
    ])),
  );
}

function unjammingTable(fits: readonly ExponentFit[]): Pick<SummaryTable, 'head' | 'rows'> {
  return table(
    ['claim', 'system', 'law fitted', 'points', 'exponent β', 'the analogy predicts'],
    fits.map((f) => [f.claim === 'jamming' ? 'near unjamming?' : `(${f.claim})`, f.model, `${f.y} ∝ (${f.x})^β`, `${f.points} (${f.range})`, formatEstimate({ value: f.exponent, error: f.error }), f.expected !== null ? formatNumber(f.expected) : f.claim === 'ii' ? 'β < 0' : '—']),
  );
}

function parameterRows(params: Record<string, unknown>): string[][] {
  return Object.entries(params).map(([k, v]) => {
    const text = typeof v === 'object' && v !== null ? JSON.stringify(v, null, 1).replace(/\n\s*/g, ' ') : String(v);
    return [`<code>${escapeHtml(k)}</code>`, escapeHtml(text)];
  });
}

function figureBlock(f: HtmlFigure): string {
  const fig = f.figure;
  if (!isReady(fig)) {
    return `<section class="figure missing"><h3>${escapeHtml(fig.title)}</h3><p class="note">Not drawn: ${escapeHtml(fig.missing)}.</p></section>`;
  }
  const img = f.svg ? `<img alt="${escapeHtml(fig.title)}" src="data:image/svg+xml;base64,${Buffer.from(f.svg, 'utf8').toString('base64')}">` : '';
  const links = f.files
    ? `<p class="files">Files: <a href="${f.files.svg}">${f.files.svg}</a>${f.files.png ? ` · <a href="${f.files.png}">${f.files.png}</a>` : ''} · data <a href="${f.files.csv}">${f.files.csv}</a></p>`
    : '';
  const notes = fig.notes.length > 0 ? `<p class="note">${fig.notes.map(escapeHtml).join('; ')}.</p>` : '';
  return `<section class="figure"><h3>${escapeHtml(fig.title)}</h3>${img}<p class="caption">${escapeHtml(fig.caption)}</p>${notes}${links}</section>`;
}

const STYLE = `
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; max-width: 1180px; margin: 2em auto; padding: 0 1em; color: #111; line-height: 1.45; }
h1 { font-size: 1.6em; margin-bottom: 0.2em; } h2 { margin-top: 1.8em; border-bottom: 1px solid #ccc; } h3 { margin-bottom: 0.4em; }
table { border-collapse: collapse; font-size: 0.88em; margin: 0.8em 0; } th, td { border: 1px solid #ccc; padding: 0.25em 0.5em; text-align: right; }
th { background: #f2f2f2; } td:first-child, th:first-child { text-align: left; }
.params td { text-align: left; } .figure img { max-width: 100%; border: 1px solid #eee; }
.caption { max-width: 60em; } .note { color: #8a4b00; } .warning { background: #fff4e0; border: 1px solid #e0b060; padding: 0.5em 0.8em; }
.meta { color: #555; } code { font-size: 0.95em; }
`;

/** The whole page. */
export function renderHtml(doc: HtmlDocument): string {
  const { summary } = doc;
  const missing = summary.perQ.flatMap((q) => q.missing.map((m) => `Q = ${q.Q}: ${m}`));
  const failures = summary.perQ.flatMap((q) => q.failures.map((f) => `Q = ${q.Q}, ${f}`));
  const figuresMissing = doc.figures.filter((f) => !isReady(f.figure)).map((f) => `${f.figure.title}: ${(f.figure as { missing: string }).missing}`);
  const norm = summary.options.normalization === 'dof' ? 'per degree of freedom (N_norm = 3N)' : 'per particle (N_norm = N)';
  const b = summary.options.bootstrap;
  const warnings = [...doc.warnings];
  const parts = [
    '<!DOCTYPE html>',
    '<html lang="en"><head><meta charset="utf-8">',
    `<title>${escapeHtml(doc.title)}</title>`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<style>${STYLE}${doc.viewer?.style ?? ''}</style></head><body>`,
    `<h1>${escapeHtml(doc.title)}</h1>`,
    `<p class="meta">Generated ${escapeHtml(doc.generatedAt)} by ${escapeHtml(doc.software.name)} ${escapeHtml(doc.software.version)} (Node ${escapeHtml(doc.software.node)}) from <code>${escapeHtml(doc.source)}</code>.</p>`,
    ...warnings.map((w) => `<p class="warning">${escapeHtml(w)}</p>`),
    '<h2>Conventions</h2><ul>',
    `<li>Units: lengths in λ (the small–small size), energies in ε, unit masses, time τ = λ·sqrt(m/ε). a₀ = (V/N)^(1/3).</li>`,
    `<li>Every ensemble number is the statistic on all finished samples of its Q ± its bootstrap standard error (${b.replicates} resamples of samples with replacement, seed ${b.seed}); figure error bars are ±1 standard error. summary.json also holds ${Math.round(b.level * 100)}% percentile intervals.</li>`,
    `<li>ν, K, G, G/K, p/K: means of the per-sample values. G is the per-sample shear modulus as measured (mean of the three simple-shear moduli μ_xy, μ_xz, μ_yz).</li>`,
    `<li>χ = √N·std(G)/mean(G), in two conventions: the three single-plane moduli of every sample pooled (used in Figure 5a), and one plane-averaged modulus per sample.</li>`,
    `<li>D(ω) and A_g are normalised ${norm} and per sample. A_g is fitted by least squares to the cumulative count C(ω) = A_g·ω⁵/5 of the pooled modes below the cutoff: at most min(${summary.options.cutoffFraction}·ω₁, ω_complete), where ω₁ = 2π·c_s/L is the lowest shear-wave band and ω_complete is the highest frequency below which every sample's computed modes are complete, and lowered to the widest range over which the count follows ω⁵ (Kolmogorov–Smirnov test of (ω/cutoff)⁵ against the uniform law at level ${summary.options.omega5Level}); the table gives the maximum-likelihood exponent β = k/Σ ln(cutoff/ω_i) ± β/√k of C ∝ ω^β over the fit range (5 for D ∝ ω⁴); c_s = sqrt(G/ρ) and ω₀ = c_s/a₀ use the ensemble-mean G and ρ. ξ_g/a₀ = 2π·(A_g·ω₀⁵)^(1/5).</li>`,
    `<li>k₋/f₋: ratio of the ensemble means of k₋ and f₋ of the softest converged NQLE of each sample.</li>`,
    '</ul>',
    '<h2>Ensemble summary</h2>',
    '<p class="meta">The same tables in Markdown: <a href="tables.md">tables.md</a>.</p>',
  ];
  const tables = summaryTables(summary, doc.unjamming, doc.controls);
  // Figure 7's tables stand with it, after the figures
  const withFigure7 = (t: SummaryTable) => t.title === UNJAMMING_TITLE || t.title === CONTROLS_TITLE;
  parts.push(...tables.filter((t) => !withFigure7(t)).map(htmlTable));
  if (missing.length + figuresMissing.length + failures.length > 0) {
    parts.push('<h2>What is missing</h2><ul>');
    for (const m of [...figuresMissing, ...missing]) parts.push(`<li class="note">${escapeHtml(m)}</li>`);
    for (const f of failures) parts.push(`<li>failed ${escapeHtml(f)}</li>`);
    parts.push('</ul>');
  }
  parts.push('<h2>Figures</h2>', ...doc.figures.map(figureBlock));
  parts.push(...tables.filter(withFigure7).map(htmlTable));
  if (doc.viewer) parts.push(doc.viewer.html);
  parts.push('<h2>Campaign parameters</h2>');
  parts.push(doc.parameters ? `<table class="params"><tbody>${parameterRows(doc.parameters).map((r) => `<tr><td>${r[0]}</td><td>${r[1]}</td></tr>`).join('\n')}</tbody></table>` : '<p class="note">No campaign definition was available.</p>');
  parts.push('<p class="meta">All numbers: <a href="summary.json">summary.json</a>.</p>', '</body></html>');
  return parts.join('\n');
}
