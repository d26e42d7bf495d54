/**
 * A campaign's report directory: fig1 … fig6 as SVG and PNG with their data as CSV, summary.json
 * with every ensemble number, and a self-contained index.html (with a 3-D view of one glass per Q
 * of the q-model campaign). A figure whose measurements are missing is replaced by a note (in
 * summary.json and the page) instead of failing the report. Several campaigns (the Q-model and its
 * controls: repulsive-q, soft spheres) give one report: figures 1–6 of the q-model campaign and
 * Figure 7 comparing all of them.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic-write.ts';
import { checkOutputDirectory } from '../io/output-path.ts';
import { join } from 'node:path';
import { analyzeEnsemble, type AnalysisOptions, type AqsInput, type EnsembleSummary, type NqleModeInput, type SampleInput } from '../analysis/ensemble.ts';
import { isShearPlane, parseAqsPathCsv, shearLocalisation, type ShearPlane } from '../measure/aqs.ts';
import { readNpy } from '../io/npy.ts';
import { readExtendedXyz } from '../io/xyz.ts';
import { VERSION } from '../util/version.ts';
import { campaignModel, controlAxis, controlValues, readCampaign, type CampaignDefinition, type ControlAxis } from '../ensemble/campaign.ts';
import { loadCampaignSamples, type SampleRecord } from '../ensemble/export.ts';
import { damagedSamples, damageWarning, type ArtefactVerify } from '../ensemble/verify.ts';
import { controlPoints, unjammingFits } from '../analysis/unjamming.ts';
import { makePairLaw } from '../model/laws.ts';
import { buildFigures, figure7, isReady, type ControlSystem, type Row } from './figures.ts';
import { renderHtml, summaryTables, tablesMarkdown, type HtmlFigure } from './html.ts';
import { NO_FONT_WARNING, renderSvg, svgToPng, textRenders } from './render.ts';
import { glassViews, readViewerBundle, VIEW_STYLE, viewerSection, type GlassViews } from './view3d.ts';

export interface ReportInput {
  samples: SampleInput[];
  /** The campaign definition, shown on the page and stored in summary.json. */
  parameters: Record<string, unknown> | null;
  /** Where the samples came from (shown on the page). */
  source: string;
  /** Problems found while reading the samples (damaged artefacts), reported with the others. */
  warnings?: string[];
  /** Glasses for the page's 3-D view (from the campaign's artefacts); no view section without. */
  views?: GlassViews;
  /**
   * The campaigns Figure 7 compares (absent: no Figure 7). `samples` above are the q-model
   * campaign's, for figures 1–6; a control's `samples` are keyed by its point (Q, or target pressure, in `Q`).
   */
  controls?: ControlInput[];
}

export interface ControlInput {
  label: string;
  model: string;
  axis: ControlAxis;
  source: string;
  samples: SampleInput[];
}

export interface ReportOptions extends AnalysisOptions {
  outDir: string;
  /** Write PNGs next to the SVGs (default true). */
  png?: boolean;
  title?: string;
}

export interface FigureStatus {
  name: string;
  title: string;
  status: 'drawn' | 'missing';
  files?: string[];
  caption?: string;
  notes?: string[];
  missing?: string;
}

export interface ReportResult {
  outDir: string;
  summary: EnsembleSummary;
  figures: FigureStatus[];
  warnings: string[];
  /** Every file written, relative to outDir. */
  files: string[];
}

/** Long-format CSV of a figure's tables: a `table` column, then the union of the tables' columns. */
export function tablesToCsv(tables: Record<string, Row[]>): string {
  const columns: string[] = [];
  for (const rows of Object.values(tables)) for (const r of rows) for (const k of Object.keys(r)) if (!columns.includes(k)) columns.push(k);
  const cell = (v: unknown) => {
    if (v === null || v === undefined || (typeof v === 'number' && !Number.isFinite(v))) return '';
    const s = String(v);
    return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const lines = [['table', ...columns].join(',')];
  for (const [name, rows] of Object.entries(tables)) for (const r of rows) lines.push([name, ...columns.map((c) => cell(r[c]))].join(','));
  return lines.join('\n') + '\n';
}

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);
/** A numeric array as stored in JSON (NaN was written as null). */
const numbers = (v: unknown): number[] | null =>
  Array.isArray(v) && v.every((x) => typeof x === 'number' || x === null) ? v.map((x) => (x === null ? NaN : (x as number))) : null;

/**
 * The analysis view of one campaign record. The density is the glass's own (finalDensity after a
 * box relaxation, else the prepared one); nested measurements keep their `measure … --json` names.
 */
export function sampleInputFromRecord(r: SampleRecord): SampleInput {
  const modes = r.modes as Record<string, unknown> | undefined;
  const gr = r.gr as Record<string, unknown> | undefined;
  const nqle = r.nqle as Record<string, unknown> | undefined;
  const peak = gr?.firstPeak as Record<string, unknown> | null | undefined;
  const grR = numbers(gr?.r);
  const grLL = numbers(gr?.gLL);
  return {
    Q: r.Q,
    N: r.N,
    index: r.index,
    density: num(r.finalDensity) ?? r.density,
    densityMode: r.densityMode,
    status: r.status,
    error: r.error ?? (r.failedStage ? `failed in ${r.failedStage}` : null),
    energyPerParticle: num(r.energyPerParticle),
    pressure: num(r.pressure),
    K: num(r.K),
    G: num(r.G),
    nu: num(r.nu),
    GOverK: num(r.GOverK),
    pOverK: num(r.pOverK),
    Z: num(r.Z),
    rattlerFraction: num(r.rattlerFraction),
    shear: r.shear ?? null,
    modes: modes ? { omega: numbers(modes.omega), omega2: numbers(modes.omega2), converged: typeof modes.converged === 'boolean' ? modes.converged : null } : null,
    gr: grR && grLL ? { r: grR, gLL: grLL, firstPeak: peak && num(peak.height) !== null ? { height: peak.height as number, position: num(peak.position) ?? NaN } : null } : null,
    nqle: nqle && Array.isArray(nqle.modes) ? { modes: nqle.modes as NqleModeInput[] } : null,
    aqs: aqsInputFromRecord(r),
    stageSeconds: r.status === 'done' ? Object.fromEntries(Object.entries(r.stages).map(([k, v]) => [k, v.seconds])) : null,
  };
}

/**
 * The aqs stage's numbers of a record. When dir is given, the σ(γ) curve is read from the path
 * artefact, and the localisation index is computed from the stored D²_min field and glass, so that
 * every sample's index has the same definition whatever version of the stage wrote its record.
 */
function aqsInputFromRecord(r: SampleRecord, dir?: string): AqsInput | null {
  const a = (r as Record<string, unknown>).aqs as Record<string, unknown> | undefined;
  if (!a || num(a.G0) === null) return null;
  const first = a.firstEvent as {
    softSpots?: { nqle?: number[]; nqleDistance?: number[] } | null;
    approach?: { gamma?: number[]; lambdaMin?: number[]; gammaC?: number; exponent?: number } | null;
  } | null | undefined;
  const gammas = numbers(first?.approach?.gamma), lambdas = numbers(first?.approach?.lambdaMin), gammaC = num(first?.approach?.gammaC);
  const events = Array.isArray(a.events) ? (a.events as { stressDrop: number; energyDrop: number }[]) : [];
  const pathFile = r.artefacts?.['aqs-path'];
  const plane = typeof a.plane === 'string' && isShearPlane(a.plane) ? a.plane : 'xy';
  const profile = a.profile as Record<string, unknown> | undefined;
  return {
    G0: a.G0 as number, sigmaMax: num(a.sigmaMax) ?? NaN, flowStress: num(a.flowStress) ?? NaN,
    overshootRatio: num(a.overshootRatio) ?? NaN,
    ...((dir ? localisationFromArtefacts(dir, r, plane) : null) ?? { localisationIndex: num(a.localisationIndex) ?? NaN, localisationShuffled: num(profile?.shuffled) ?? NaN }),
    events, firstEventNqleOverlap: numbers(first?.softSpots?.nqle) ?? null, firstEventNqleDistance: numbers(first?.softSpots?.nqleDistance) ?? null,
    approach: gammas && lambdas && gammaC !== null && gammas.length === lambdas.length
      ? { distance: gammas.map((g) => gammaC - g), lambdaMin: lambdas, exponent: num(first?.approach?.exponent) ?? NaN }
      : null,
    curve: dir && pathFile && existsSync(join(dir, pathFile)) ? parseAqsPathCsv(readFileSync(join(dir, pathFile), 'utf8'), plane) : null,
  };
}

function localisationFromArtefacts(dir: string, r: SampleRecord, plane: ShearPlane): Pick<AqsInput, 'localisationIndex' | 'localisationShuffled'> | null {
  const d2minFile = r.artefacts?.['aqs-d2min'], glassFile = r.artefacts?.glass;
  if (!d2minFile || !glassFile || !existsSync(join(dir, d2minFile)) || !existsSync(join(dir, glassFile))) return null;
  const glass = readExtendedXyz(join(dir, glassFile));
  const d2min = readNpy(join(dir, d2minFile));
  if (d2min.data.length !== glass.positions.length / 3) throw new RangeError(`${d2minFile} has ${d2min.data.length} values for the ${glass.positions.length / 3} particles of ${glassFile}`);
  const l = shearLocalisation(Float64Array.from(d2min.data), glass, plane);
  return { localisationIndex: l.localisation, localisationShuffled: l.shuffled };
}

type CampaignReportOptions = Omit<ReportOptions, 'outDir'> & { outDir?: string; verify?: ArtefactVerify };

/** Report of the campaign in DIR (default output: DIR/report). */
export async function reportFromCampaign(dir: string, options: CampaignReportOptions): Promise<ReportResult> {
  return reportFromCampaigns([dir], options);
}

/**
 * Report of one or several campaigns. One q-model campaign gives the paper's figures as always;
 * with a campaign of another law, or several campaigns, Figure 7 compares them (figures 1–6 come
 * from the first q-model campaign, if any). Output: --out (required for several campaigns), else DIR/report.
 */
export async function reportFromCampaigns(dirs: readonly string[], options: CampaignReportOptions): Promise<ReportResult> {
  if (dirs.length === 0) throw new RangeError('give at least one campaign directory');
  if (dirs.length > 1 && options.outDir === undefined) throw new RangeError(`a report over ${dirs.length} campaigns needs its own directory: give it with --out DIR`);
  const outDir = options.outDir ?? join(dirs[0], 'report');
  checkOutputDirectory(outDir, '--out');
  const campaigns = dirs.map((dir) => {
    const def = readCampaign(dir);
    const records = loadCampaignSamples(dir);
    const samples = records.map((r) => ({ ...sampleInputFromRecord(r), aqs: aqsInputFromRecord(r, dir) }));
    return { dir, def, records, model: campaignModel(def), axis: controlAxis(def), samples, warnings: damagedSamples(dir, options.verify ?? 'size').map(damageWarning) };
  });
  const primary = campaigns.find((c) => c.model === 'q-model');
  const warnings = campaigns.flatMap((c) => c.warnings.map((w) => (campaigns.length > 1 ? `${c.dir}: ${w}` : w)));
  const compare = campaigns.length > 1 || !primary;
  if (compare && !primary) warnings.push('no q-model campaign among the inputs: figures 1–6 (of the Q-model) are not drawn');
  const shared = (model: string) => campaigns.filter((c) => c.model === model).length > 1;
  return writeReport({
    samples: primary?.samples ?? [],
    parameters: campaigns.length === 1 ? (campaigns[0].def as unknown as Record<string, unknown>) : Object.fromEntries(campaigns.map((c) => [c.dir, c.def])),
    source: dirs.join(', '),
    warnings,
    views: primary ? glassViews(primary.dir, primary.def, primary.records) : undefined,
    controls: compare ? campaigns.map((c) => ({ label: shared(c.model) ? `${c.model} (${pointRange(c.def)})` : c.model, model: c.model, axis: c.axis, source: c.dir, samples: c.samples })) : undefined,
  }, { ...options, outDir });
}

/** A campaign's points in a few characters, to tell apart two campaigns of one law in a legend: "Q 480–1000", "p 1e-4–0.1". */
function pointRange(def: CampaignDefinition): string {
  const v = controlValues(def);
  const lo = Math.min(...v), hi = Math.max(...v);
  return `${controlAxis(def) === 'Q' ? 'Q' : 'p'} ${lo === hi ? `${lo}` : `${lo}–${hi}`}`;
}

export async function writeReport(input: ReportInput, options: ReportOptions): Promise<ReportResult> {
  const { outDir } = options;
  const png = options.png ?? true;
  checkOutputDirectory(outDir, '--out');
  mkdirSync(outDir, { recursive: true });
  const summary = analyzeEnsemble(input.samples, options);
  const warnings: string[] = [...(input.warnings ?? [])];
  const controls = input.controls ?? [];
  if (input.samples.length === 0 && controls.every((c) => c.samples.length === 0)) warnings.push('the campaign has no samples yet: nothing to analyse');
  if (png && !textRenders()) warnings.push(NO_FONT_WARNING);
  const files: string[] = [];
  const write = (name: string, data: string | Buffer) => {
    writeFileAtomic(join(outDir, name), data);
    files.push(name);
  };

  const figures = summary.perQ.length > 0 ? buildFigures(summary) : [];
  const systems: Array<ControlSystem & { source: string }> = controls.map((c) => ({
    label: c.label, model: c.model, axis: c.axis, source: c.source, summary: c.samples === input.samples ? summary : analyzeEnsemble(c.samples, options),
  }));
  const fits = unjammingFits(systems.flatMap((x) => controlPoints(x.model, x.axis, x.summary.perQ, x.axis === 'pressure' ? makePairLaw(x.model).parameters.alpha : undefined)));
  if (systems.length > 0) figures.push(figure7(systems, fits));
  const htmlFigures: HtmlFigure[] = [];
  const statuses: FigureStatus[] = [];
  for (const fig of figures) {
    if (!isReady(fig)) {
      htmlFigures.push({ figure: fig });
      statuses.push({ name: fig.name, title: fig.title, status: 'missing', missing: fig.missing });
      continue;
    }
    const { svg, warnings: w } = await renderSvg(fig.spec);
    warnings.push(...w.map((m) => `${fig.name}: ${m}`));
    const names = { svg: `${fig.name}.svg`, png: png ? `${fig.name}.png` : undefined, csv: `${fig.name}.csv` };
    write(names.svg, svg);
    if (names.png) write(names.png, svgToPng(svg));
    write(names.csv, tablesToCsv(fig.tables));
    write(`${fig.name}.vl.json`, JSON.stringify(fig.spec, null, 1) + '\n');
    htmlFigures.push({ figure: fig, svg, files: names });
    statuses.push({ name: fig.name, title: fig.title, status: 'drawn', files: [names.svg, names.png, names.csv].filter((f): f is string => !!f), caption: fig.caption, notes: fig.notes });
  }

  let viewer: { html: string; style: string } | undefined;
  if (input.views) {
    const script = input.views.views.length > 0 ? readViewerBundle() : null;
    if (input.views.views.length > 0 && script === null) warnings.push('the 3-D view is left out: its script build/viewer.js has not been built (npm run build)');
    viewer = { html: viewerSection(input.views, script), style: VIEW_STYLE };
  }

  const generatedAt = new Date().toISOString();
  const software = { name: 'qglass', version: VERSION, node: process.versions.node };
  write(
    'summary.json',
    JSON.stringify({
      software, generatedAt, source: input.source, campaign: input.parameters, options: summary.options, perQ: summary.perQ,
      // Figure 7's systems: per point (perPoint[].Q is the control value: Q, or the target pressure)
      ...(systems.length > 0 ? { controls: systems.map((x) => ({ label: x.label, model: x.model, axis: x.axis, source: x.source, perPoint: x.summary.perQ })) } : {}),
      // claims (i)–(iii) of the analogy as exponents fitted over the points of each law
      ...(systems.length > 0 ? { unjamming: fits } : {}),
      figures: statuses, warnings,
    }, null, 1) + '\n',
  );
  const controlTables = systems.map((x) => ({ label: x.label, axis: x.axis, perPoint: x.summary.perQ }));
  write('tables.md', tablesMarkdown(summaryTables(summary, fits, controlTables), input.source));
  write(
    'index.html',
    renderHtml({
      title: options.title ?? 'qglass: incompressibility of glasses with stiff repulsion',
      generatedAt,
      software,
      source: input.source,
      parameters: input.parameters,
      summary,
      figures: htmlFigures,
      warnings,
      unjamming: fits,
      controls: controlTables,
      viewer,
    }),
  );
  return { outDir, summary, figures: statuses, warnings, files };
}
