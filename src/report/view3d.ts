/**
 * The report's 3-D view: for each Q one finished glass with the softest NQLE's |π_i| per particle
 * and the first plastic event's non-affine field, read from the sample's artefacts and embedded in
 * the page as compact JSON (view3d-format.ts), drawn by the viewer bundle (src/report/viewer/,
 * bundled with three.js into build/viewer.js by scripts/build.mjs) inlined as a script.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { softestNqleIndex } from '../analysis/ensemble.ts';
import type { ArtefactKind, CampaignDefinition } from '../ensemble/campaign.ts';
import type { SampleRecord } from '../ensemble/export.ts';
import { readNpy } from '../io/npy.ts';
import { readExtendedXyz } from '../io/xyz.ts';
import { PAIR_LAMBDA } from '../model/q-model.ts';
import { wrapPositions } from '../space/box.ts';
import { escapeHtml } from './html.ts';
import { formatNumber } from './number-format.ts';
import { NQLE_DECADES, VIEW_IDS, type GlassView } from './view3d-format.ts';

/** Share of the particles whose event displacement is drawn (the largest |u_i|). */
export const ARROW_FRACTION = 0.15;

export interface GlassViews {
  views: GlassView[];
  /** Q values without a view, and why. */
  notes: string[];
}

const base64 = (a: Float32Array | Int32Array | Uint8Array) => Buffer.from(a.buffer, a.byteOffset, a.byteLength).toString('base64');
const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/** Notes what a sample lacks; null stands for the part not drawn. */
function lacking(missing: string[], what: string): null {
  missing.push(what);
  return null;
}

/** Per-particle lengths |v_i| of an N×3 field. */
function magnitudes(v: ArrayLike<number>, offset: number, N: number): Float64Array {
  const out = new Float64Array(N);
  for (let i = 0; i < N; i++) out[i] = Math.hypot(v[offset + 3 * i], v[offset + 3 * i + 1], v[offset + 3 * i + 2]);
  return out;
}

/**
 * One view per Q of the campaign: its first finished sample (canonical order) holding both the NQLE
 * vectors and the first-event field, else the first holding either, else the first finished one.
 */
export function glassViews(dir: string, def: CampaignDefinition, records: readonly SampleRecord[]): GlassViews {
  const views: GlassView[] = [];
  const notes: string[] = [];
  const has = (r: SampleRecord, kind: ArtefactKind) => r.artefacts[kind] !== undefined;
  for (const Q of def.Q) {
    const done = records.filter((r) => r.Q === Q && r.status === 'done' && has(r, 'glass'));
    const pick = done.find((r) => has(r, 'nqle') && has(r, 'aqs-first-event')) ?? done.find((r) => has(r, 'nqle') || has(r, 'aqs-first-event')) ?? done[0];
    if (!pick) {
      notes.push(`Q = ${Q}: no finished sample to show`);
      continue;
    }
    try {
      views.push(glassView(dir, def, pick));
    } catch (err) {
      notes.push(`Q = ${Q}: the glass of sample ${pick.index} could not be read (${message(err)})`);
    }
  }
  return { views, notes };
}

function glassView(dir: string, def: CampaignDefinition, r: SampleRecord): GlassView {
  const conf = readExtendedXyz(join(dir, r.artefacts.glass!));
  const N = conf.species.length;
  const positions = Float64Array.from(conf.positions);
  wrapPositions(conf.box, positions);
  const { lx, ly, lz, xy, xz, yz } = conf.box;
  const missing: string[] = [];
  const part = <T>(what: string, read: () => T | null): T | null => {
    try {
      return read();
    } catch (err) {
      missing.push(`${what} could not be read: ${message(err)}`);
      return null;
    }
  };
  return {
    Q: r.Q, N, index: r.index,
    box: [lx, ly, lz, xy, xz, yz],
    radii: [PAIR_LAMBDA[0] / 2, PAIR_LAMBDA[2] / 2],
    positions: base64(Float32Array.from(positions)),
    species: base64(conf.species),
    nqle: part('the NQLE vectors', () => softestNqle(dir, def, r, N, missing)),
    event: part('the first-event field', () => firstEvent(dir, def, r, N, missing)),
    missing,
  };
}

function softestNqle(dir: string, def: CampaignDefinition, r: SampleRecord, N: number, missing: string[]): GlassView['nqle'] {
  if (!def.measure.includes('nqle')) return lacking(missing, 'no NQLE colouring: the campaign does not measure nqle');
  const file = r.artefacts.nqle;
  if (!file) return lacking(missing, 'no NQLE colouring: this sample has no NQLE vectors');
  const modes = r.nqle?.modes ?? [];
  const k = softestNqleIndex(modes);
  if (k < 0) return lacking(missing, `no NQLE colouring: none of the sample's ${modes.length} NQLEs converged`);
  const a = readNpy(join(dir, file));
  if (a.shape.length !== 3 || a.shape[0] <= k || a.shape[1] !== N || a.shape[2] !== 3) {
    throw new RangeError(`${file} has shape (${a.shape.join(', ')}), expected (${modes.length}, ${N}, 3)`);
  }
  const m = magnitudes(a.data, 3 * N * k, N);
  return { magnitude: base64(Float32Array.from(m)), max: m.reduce((a, b) => Math.max(a, b), 0), omega2: modes[k].omega2, mode: k };
}

function firstEvent(dir: string, def: CampaignDefinition, r: SampleRecord, N: number, missing: string[]): GlassView['event'] {
  if (!def.aqs) return lacking(missing, 'no event arrows: the campaign does not measure aqs (shear to yield)');
  const file = r.artefacts['aqs-first-event'];
  if (!file) return lacking(missing, 'no event arrows: this sample has no first-event field');
  const a = readNpy(join(dir, file));
  if (a.shape.length !== 2 || a.shape[0] !== N || a.shape[1] !== 3) throw new RangeError(`${file} has shape (${a.shape.join(', ')}), expected (${N}, 3)`);
  const m = magnitudes(a.data, 0, N);
  // the stage stores zeros when the path had no event
  const order = Array.from(m.keys()).filter((i) => m[i] > 0).sort((i, j) => m[j] - m[i]);
  if (order.length === 0) return lacking(missing, `no event arrows: no plastic event up to γ = ${def.aqs.maxStrain}`);
  const shown = order.slice(0, Math.ceil(ARROW_FRACTION * N));
  const vectors = new Float32Array(3 * shown.length);
  shown.forEach((i, k) => vectors.set(a.data.subarray(3 * i, 3 * i + 3), 3 * k));
  const events = ((r as Record<string, unknown>).aqs as { events?: { gamma?: unknown }[] } | undefined)?.events;
  const gamma = events?.[0]?.gamma;
  return {
    gamma: typeof gamma === 'number' ? gamma : null,
    particles: base64(Int32Array.from(shown)),
    vectors: base64(vectors),
    maxDisplacement: m[shown[0]],
    threshold: m[shown[shown.length - 1]],
    fraction: shown.length / N,
  };
}

/** Where scripts/build.mjs writes the viewer bundle: build/ at the package root (above src/report/ and dist/report/). */
export function viewerBundlePath(): string {
  return join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'build', 'viewer.js');
}

/** The bundle's text, or null when it has not been built. */
export function readViewerBundle(): string | null {
  const path = viewerBundlePath();
  return existsSync(path) ? readFileSync(path, 'utf8') : null;
}

export const VIEW_STYLE = `
.view3d-controls { display: flex; flex-wrap: wrap; gap: 0.4em 1.4em; align-items: center; margin: 0.5em 0; }
#${VIEW_IDS.canvas} { width: 100%; height: 560px; display: block; border: 1px solid #ddd; cursor: grab; }
.view3d-legend { display: flex; flex-wrap: wrap; gap: 0.4em 2em; align-items: flex-start; font-size: 0.9em; margin: 0.4em 0; }
#${VIEW_IDS.colorbar} { padding: 0 1.5em; }
#${VIEW_IDS.colorbar} .bar { width: 320px; height: 14px; border: 1px solid #999; }
#${VIEW_IDS.colorbar} .ticks { position: relative; width: 320px; height: 1.3em; }
#${VIEW_IDS.colorbar} .ticks span { position: absolute; transform: translateX(-50%); white-space: nowrap; }
`;

/** The page section: controls, canvas, legend, the data and the viewer script (absent: a note says why). */
export function viewerSection({ views, notes }: GlassViews, script: string | null): string {
  const parts = ['<h2 id="view3d">3-D view: one glass per Q</h2>'];
  parts.push(
    `<p class="caption">For each Q, the first finished sample that has them: particles as spheres (radii λ_SS/2 and λ_LL/2 times the size slider), ` +
      `coloured by |π_i| of the softest converged nonlinear quasilocalized excitation π (unit norm; log scale over ${NQLE_DECADES} decades, ` +
      `darkest at and below the bar's left end); arrows: the non-affine displacement of the first plastic event under simple shear (xy), for the ` +
      `${Math.round(ARROW_FRACTION * 100)}% of particles that move most, at their positions in the unstrained glass, lengthened by the factor shown and ` +
      `drawn over the spheres; the periodic cell as a wire frame. Drag to rotate, scroll to zoom, right-drag to pan.</p>`,
  );
  const absent = [...notes, ...views.flatMap((v) => v.missing.map((m) => `Q = ${v.Q}, sample ${v.index}: ${m}`))];
  if (absent.length > 0) parts.push('<ul>', ...absent.map((m) => `<li class="note">${escapeHtml(m)}</li>`), '</ul>');
  if (views.length === 0) return parts.join('\n');
  if (script === null) {
    parts.push('<p class="note">The viewer was not built into this report (build/viewer.js is missing: run <code>npm run build</code>, then the report again).</p>');
    return parts.join('\n');
  }
  const options = views.map((v, k) => `<option value="${k}">${formatNumber(v.Q)} (sample ${v.index})</option>`).join('');
  parts.push(
    '<div class="view3d-controls">',
    `<label>Q <select id="${VIEW_IDS.select}">${options}</select></label>`,
    `<label><input type="checkbox" id="${VIEW_IDS.nqle}" checked> colour by the softest NQLE</label>`,
    `<label><input type="checkbox" id="${VIEW_IDS.arrows}" checked> first plastic event</label>`,
    `<label>size <input type="range" id="${VIEW_IDS.size}" min="0.2" max="1" step="0.05" value="0.6"></label>`,
    '</div>',
    `<canvas id="${VIEW_IDS.canvas}"></canvas>`,
    `<div class="view3d-legend"><div id="${VIEW_IDS.colorbar}"></div><div id="${VIEW_IDS.info}"></div></div>`,
    // `<` escaped so that no string in the data can close the script element
    `<script type="application/json" id="${VIEW_IDS.data}">${JSON.stringify(views).replace(/</g, '\\u003c')}</script>`,
    `<script>${script}</script>`,
  );
  return parts.join('\n');
}
