/**
 * Vega-Lite → Vega → SVG without a DOM (vega's headless view), and SVG → PNG with resvg.
 *
 * resvg draws text only with fonts it can find: it loads the system fonts, prefers DejaVu Sans
 * (Debian/Ubuntu package fonts-dejavu-core). `textRenders()` checks once per process that text
 * actually produces pixels, so a machine without fonts gets a clear warning instead of PNGs with
 * silently missing labels.
 */
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { Resvg, type ResvgRenderOptions } from '@resvg/resvg-js';
import type { VlSpec } from './figures.ts';

/** Scale of the PNG relative to the SVG's CSS pixels (2: sharp on high-density screens and in print). */
export const PNG_SCALE = 2;

const RESVG_FONTS: ResvgRenderOptions['font'] = {
  loadSystemFonts: true,
  defaultFontFamily: 'DejaVu Sans',
  sansSerifFamily: 'DejaVu Sans',
};

export interface RenderedSvg {
  svg: string;
  /** Warnings of the Vega-Lite compiler (an empty list for a well-formed spec). */
  warnings: string[];
}

/** Compile a Vega-Lite spec and render it to an SVG string. */
export async function renderSvg(spec: VlSpec): Promise<RenderedSvg> {
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
