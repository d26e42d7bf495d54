/**
 * Vega-Lite → Vega → SVG without a DOM (vega's headless view), and SVG → PNG with resvg.
 *
 * resvg draws text only with fonts it can find: it loads the system fonts, prefers DejaVu Sans
 * (Debian/Ubuntu package fonts-dejavu-core). `textRenders()` checks once per process that text
 * actually produces pixels, so a machine without fonts gets a clear warning instead of PNGs with
 * silently missing labels.
 *
 * Without a canvas, Vega lays text out with a crude width estimate (0.8 em per character), which
 * pushes long rotated axis titles outside their panels and misaligns panel titles; we give it the
 * advance widths of DejaVu Sans instead (the font the figures are drawn in).
 */
import type * as Vega from 'vega';
import type { TopLevelSpec } from 'vega-lite';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import type { VlSpec } from './figures.ts';

/** Scale of the PNG relative to the SVG's CSS pixels (2: sharp on high-density screens and in print). */
export const PNG_SCALE = 2;

const RESVG_FONTS: ResvgRenderOptions['font'] = {
  loadSystemFonts: true,
  defaultFontFamily: 'DejaVu Sans',
  sansSerifFamily: 'DejaVu Sans',
};

/** Advance widths of DejaVu Sans in em, by character; other characters count as DEFAULT_ADVANCE. */
const ADVANCE: Record<string, number> = {
  ' ': 0.318, '!': 0.4, '(': 0.39, ')': 0.39, ',': 0.318, '.': 0.318, ':': 0.337, ';': 0.337, '-': 0.361, '/': 0.337,
  '_': 0.5, '’': 0.318, '·': 0.318, '|': 0.337, '^': 0.838, '=': 0.838, '+': 0.838, '<': 0.838, '>': 0.838, '−': 0.838, '∝': 0.838,
  '⁻': 0.53, '²': 0.4, '⁴': 0.4, '⁵': 0.4, '₀': 0.4, '₋': 0.53, '₊': 0.53,
  A: 0.684, B: 0.686, C: 0.698, D: 0.77, E: 0.632, F: 0.575, G: 0.775, H: 0.752, I: 0.295, J: 0.295, K: 0.656, L: 0.557,
  M: 0.863, N: 0.748, O: 0.787, P: 0.603, Q: 0.787, R: 0.695, S: 0.635, T: 0.611, U: 0.732, V: 0.684, W: 0.989, X: 0.685,
  Y: 0.611, Z: 0.685, a: 0.613, b: 0.635, c: 0.55, d: 0.635, e: 0.615, f: 0.352, g: 0.635, h: 0.634, i: 0.278, j: 0.278,
  k: 0.579, l: 0.278, m: 0.974, n: 0.634, o: 0.612, p: 0.635, q: 0.635, r: 0.411, s: 0.521, t: 0.392, u: 0.634, v: 0.592,
  w: 0.818, x: 0.592, y: 0.592, z: 0.525,
};
const DIGIT_ADVANCE = 0.636;
const DEFAULT_ADVANCE = 0.62;

/** Width in pixels of a Vega text item in DejaVu Sans (bold about 10% wider). */
export function textWidth(item: { fontSize?: number; fontWeight?: string | number; text?: unknown }, text?: unknown): number {
  const s = String(text ?? item.text ?? '');
  let em = 0;
  for (const ch of s) em += ADVANCE[ch] ?? (ch >= '0' && ch <= '9' ? DIGIT_ADVANCE : DEFAULT_ADVANCE);
  const bold = item.fontWeight === 'bold' || Number(item.fontWeight) >= 600;
  return em * (item.fontSize ?? 11) * (bold ? 1.1 : 1);
}

let renderer: Promise<{ vega: typeof Vega; compile: typeof import('vega-lite').compile }> | null = null;

/** vega and vega-lite take about a second to load: loaded on the first figure, not with the CLI or the library. */
function loadRenderer() {
  renderer ??= Promise.all([import('vega'), import('vega-lite')]).then(([vega, vl]) => {
    // vega re-exports vega-scenegraph's textMetrics (not in its type declarations); a user width function is supported.
    (vega as unknown as { textMetrics: { width: typeof textWidth } }).textMetrics.width = textWidth;
    return { vega, compile: vl.compile };
  });
  return renderer;
}

export interface RenderedSvg {
  svg: string;
  /** Warnings of the Vega-Lite compiler (an empty list for a well-formed spec). */
  warnings: string[];
}

/** Compile a Vega-Lite spec and render it to an SVG string. */
export async function renderSvg(spec: VlSpec): Promise<RenderedSvg> {
  const { vega, compile } = await loadRenderer();
  const warnings: string[] = [];
  const record = (...args: unknown[]) => warnings.push(args.map(String).join(' '));
  const logger = {
    level: (_?: number) => logger,
    error: (...a: unknown[]) => (record(...a), logger),
    warn: (...a: unknown[]) => (record(...a), logger),
    info: () => logger,
    debug: () => logger,
  };
  const compiled = compile(spec as unknown as TopLevelSpec, { logger: logger as never }).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  view.logger(logger as never);
  const svg = await view.toSVG();
  view.finalize();
  return { svg, warnings };
}

/** Rasterise an SVG to PNG bytes on a white background. */
export function svgToPng(svg: string, scale = PNG_SCALE): Buffer {
  const r = new Resvg(svg, { fitTo: { mode: 'zoom', value: scale }, background: 'white', font: RESVG_FONTS });
  return r.render().asPng();
}

let textCheck: boolean | null = null;

/** Whether resvg finds a font: renders a short text and looks for dark pixels. */
export function textRenders(): boolean {
  if (textCheck === null) {
    const svg = '<svg xmlns="http://www.w3.org/2000/svg" width="80" height="30"><text x="4" y="22" font-size="20" font-family="DejaVu Sans, sans-serif">νQ10</text></svg>';
    const pixels = new Resvg(svg, { background: 'white', font: RESVG_FONTS }).render().pixels;
    let dark = 0;
    for (let i = 0; i < pixels.length; i += 4) if (pixels[i] < 128) dark++;
    textCheck = dark > 20;
  }
  return textCheck;
}

export const NO_FONT_WARNING =
  'no font found for PNG rendering: the PNG figures have no text. Install a system font (Debian/Ubuntu: apt-get install fonts-dejavu-core); the SVG figures are unaffected.';
