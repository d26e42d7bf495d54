/**
 * The report's 3-D view, from a tiny real campaign (N = 256, Q = 10 and 240, NQLEs and shear to
 * γ = 0.012): the embedded data against the artefacts they come from, what a sample without NQLEs
 * or shear says, and the page itself in headless Chromium (Debian's /usr/bin/chromium, software
 * WebGL): pixels drawn in several colours, arrows and colouring that follow their toggles, a redraw
 * on switching Q, no console or page errors, nothing fetched from the network.
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium, type Browser, type Page } from 'playwright-core';
import { defineCampaign, initCampaign, readCampaign, type CampaignDefinition } from '../src/ensemble/campaign.ts';
import { loadCampaignSamples, type SampleRecord } from '../src/ensemble/export.ts';
import { runCampaign } from '../src/ensemble/runner.ts';
import { readNpy } from '../src/io/npy.ts';
import { readExtendedXyz } from '../src/io/xyz.ts';
import { reportFromCampaign, sampleInputFromRecord, writeReport } from '../src/report/report.ts';
import { ARROW_FRACTION, glassViews, viewerBundlePath } from '../src/report/view3d.ts';
import { VIEW_IDS, type GlassView } from '../src/report/view3d-format.ts';
import { ensureBuilt } from './dist.ts';

const CHROMIUM = '/usr/bin/chromium';
const noChromium = existsSync(CHROMIUM) ? false : `${CHROMIUM} is absent (Debian package chromium): the page is not checked in a browser`;

const dir = mkdtempSync(join(tmpdir(), 'qglass-viewer-'));
let def: CampaignDefinition;
let records: SampleRecord[];
let page: string;

before(async () => {
  ensureBuilt(); // the viewer bundle is written by the build
  initCampaign(dir, defineCampaign({
    Q: [10, 240], N: 256, samples: 1, seed: 4, density: 'zero-pressure', measure: ['nqle', 'aqs'], nqle: 2,
    aqsMaxStrain: 0.012, aqsStep: 1e-3, protocol: { nveTime: 1 }, createdBy: 'test',
  }));
  const run = await runCampaign(dir, { workers: 1 });
  assert.equal(run.failed, 0);
  def = readCampaign(dir);
  records = loadCampaignSamples(dir);
  page = join(dir, 'report', 'index.html');
  await reportFromCampaign(dir, { bootstrap: { replicates: 20 }, png: false });
});
after(() => rmSync(dir, { recursive: true, force: true }));

const bytes = (b64: string) => new Uint8Array(Buffer.from(b64, 'base64'));
const f32 = (b64: string) => new Float32Array(bytes(b64).buffer);
const i32 = (b64: string) => new Int32Array(bytes(b64).buffer);
const norm3 = (v: ArrayLike<number>, i: number) => Math.hypot(v[3 * i], v[3 * i + 1], v[3 * i + 2]);

test('view data: each Q shows its glass, the softest converged NQLE and the largest event displacements, as stored', () => {
  const { views, notes } = glassViews(dir, def, records);
  assert.deepEqual(notes, []);
  assert.deepEqual(views.map((v) => v.Q), [10, 240]);
  let withEvent = 0;
  for (const v of views) {
    const r = records.find((x) => x.Q === v.Q)!;
    const N = v.N;
    const glass = readExtendedXyz(join(dir, r.artefacts.glass!));
    assert.equal(N, glass.species.length);
    assert.deepEqual(Array.from(bytes(v.species)), Array.from(glass.species));
    // positions wrapped into the cell: fractional coordinates in [0, 1), same points modulo the cell
    const [lx, ly, lz, xy, xz, yz] = v.box;
    const p = f32(v.positions);
    for (let i = 0; i < N; i++) {
      const sz = p[3 * i + 2] / lz, sy = (p[3 * i + 1] - sz * yz) / ly, sx = (p[3 * i] - sy * xy - sz * xz) / lx;
      for (const s of [sx, sy, sz]) assert.ok(s > -1e-6 && s < 1 + 1e-6, `particle ${i} outside the cell`);
      const d = [0, 1, 2].map((a) => p[3 * i + a] - glass.positions[3 * i + a]);
      const kz = Math.round(d[2] / lz), ky = Math.round((d[1] - kz * yz) / ly), kx = Math.round((d[0] - ky * xy - kz * xz) / lx);
      assert.ok(Math.hypot(d[0] - kx * lx - ky * xy - kz * xz, d[1] - ky * ly - kz * yz, d[2] - kz * lz) < 1e-4);
    }
    // colouring: |π_i| of the converged mode of lowest ω², π of unit norm
    const modes = r.nqle!.modes;
    const k = modes.map((_, j) => j).filter((j) => modes[j].converged).sort((a, b) => modes[a].omega2 - modes[b].omega2)[0];
    assert.equal(v.nqle!.mode, k);
    const pi = readNpy(join(dir, r.artefacts.nqle!)).data.subarray(3 * N * k, 3 * N * (k + 1));
    const mag = f32(v.nqle!.magnitude);
    let sum = 0;
    for (let i = 0; i < N; i++) {
      assert.ok(Math.abs(mag[i] - norm3(pi, i)) <= 1e-6 * norm3(pi, i) + 1e-12);
      sum += mag[i] ** 2;
    }
    assert.ok(Math.abs(sum - 1) < 1e-5, `|π|² = ${sum}`);
    // arrows: the ceil(15% N) largest |u_i| of the stored first-event field, largest first
    const u = readNpy(join(dir, r.artefacts['aqs-first-event']!)).data;
    if (v.event === null) {
      assert.ok(Array.from(u).every((x) => x === 0), 'no arrows only when the field is zero (no event)');
      assert.ok(v.missing.some((m) => /no plastic event up to γ = 0.012/.test(m)));
      continue;
    }
    withEvent++;
    const order = Array.from({ length: N }, (_, i) => i).sort((a, b) => norm3(u, b) - norm3(u, a));
    const shown = i32(v.event.particles), vec = f32(v.event.vectors);
    assert.equal(shown.length, Math.ceil(ARROW_FRACTION * N));
    assert.deepEqual(new Set(shown), new Set(order.slice(0, shown.length)));
    shown.forEach((i, j) => {
      for (let a = 0; a < 3; a++) assert.ok(Math.abs(vec[3 * j + a] - u[3 * i + a]) <= 1e-6 * norm3(u, i));
    });
    assert.equal(v.event.maxDisplacement, norm3(u, order[0]));
    assert.equal(v.event.threshold, norm3(u, order[shown.length - 1]));
    assert.equal(v.event.gamma, (r as unknown as { aqs: { events: { gamma: number }[] } }).aqs.events[0].gamma);
    assert.deepEqual(v.missing, []);
  }
  assert.ok(withEvent > 0, 'at least one glass yields before γ = 0.012');
  // compact: base64 of float32, well under a JSON array of numbers
  const perParticle = JSON.stringify(views).length / views.reduce((n, v) => n + v.N, 0);
  assert.ok(perParticle < 32, `${perParticle.toFixed(1)} bytes of page per particle`);
});

/** The campaign with the NQLE vectors and the first-event field gone from the Q = 240 sample. */
const stripped = () => records.map((r) => (r.Q === 240 ? { ...r, artefacts: { glass: r.artefacts.glass } } : r));

test('view data: a sample without NQLE vectors or a shear run says so; so does a campaign without those stages', () => {
  const { views } = glassViews(dir, def, stripped());
  const v = views.find((x) => x.Q === 240)!;
  assert.equal(v.nqle, null);
  assert.equal(v.event, null);
  assert.deepEqual(v.missing, ['no NQLE colouring: this sample has no NQLE vectors', 'no event arrows: this sample has no first-event field']);
  const { aqs: _aqs, ...withoutAqs } = def;
  const plain = glassViews(dir, { ...withoutAqs, measure: [] }, records).views[0];
  assert.equal(plain.positions, views[0].positions);
  assert.deepEqual(plain.missing, ['no NQLE colouring: the campaign does not measure nqle', 'no event arrows: the campaign does not measure aqs (shear to yield)']);
  const none = glassViews(dir, def, records.map((r) => ({ ...r, status: 'pending' as const })));
  assert.deepEqual(none, { views: [], notes: ['Q = 10: no finished sample to show', 'Q = 240: no finished sample to show'] });
});

test('report page: self-contained, with the viewer script and its data inline', () => {
  const html = readFileSync(page, 'utf8');
  assert.ok(html.includes(`id="${VIEW_IDS.canvas}"`) && html.includes(`id="${VIEW_IDS.data}"`));
  assert.ok(html.includes(readFileSync(viewerBundlePath(), 'utf8')), 'the built bundle is inlined');
  assert.ok(!/(src|href)="https?:/.test(html) && !/import\s*\(\s*["']https?:/.test(html), 'nothing loaded from the network');
  const size = statSync(page).size;
  assert.ok(size < 1.5e6, `index.html is ${size} bytes`);
});

interface Pixels { drawn: number; colours: number; red: number; hash: number }

/** The DOM members the in-page functions use (this program is type-checked without the DOM library). */
interface Canvas {
  width: number;
  height: number;
  ownerDocument: { createElement(tag: 'canvas'): Canvas };
  getContext(kind: '2d'): { drawImage(c: Canvas, x: number, y: number): void; getImageData(x: number, y: number, w: number, h: number): { data: Uint8ClampedArray } } | null;
  getContext(kind: 'webgl2'): { RENDERER: number; getParameter(p: number): unknown; getExtension(name: string): { UNMASKED_RENDERER_WEBGL: number } | null } | null;
}

const canvasOf = (p: Page) => p.locator(`#${VIEW_IDS.canvas}`);

/** The canvas's pixels (preserveDrawingBuffer keeps them after the frame): non-white, distinct colours (4-bit), arrow red, a checksum. */
async function pixels(p: Page): Promise<Pixels> {
  return canvasOf(p).evaluate((c: Canvas) => {
    const copy = c.ownerDocument.createElement('canvas');
    copy.width = c.width;
    copy.height = c.height;
    const ctx = copy.getContext('2d')!;
    ctx.drawImage(c, 0, 0);
    const d = ctx.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set<number>();
    let drawn = 0, red = 0, hash = 0;
    for (let i = 0; i < d.length; i += 4) {
      const [r, g, b] = [d[i], d[i + 1], d[i + 2]];
      hash = (hash * 31 + r * 65536 + g * 256 + b) | 0;
      if (r + g + b > 750) continue;
      drawn++;
      colours.add(((r >> 4) << 8) | ((g >> 4) << 4) | (b >> 4));
      if (r > 180 && g < 90 && b < 90) red++;
    }
    return { drawn, colours: colours.size, red, hash };
  });
}

async function launch(): Promise<{ browser: Browser; webgl: string }> {
  const base = ['--headless', '--no-sandbox', '--disable-gpu'];
  let tried = '';
  for (const extra of [[], ['--use-angle=swiftshader', '--enable-unsafe-swiftshader']]) {
    const browser = await chromium.launch({ executablePath: CHROMIUM, args: [...base, ...extra] });
    const p = await browser.newPage();
    await p.setContent('<canvas></canvas>');
    const webgl = await p.locator('canvas').evaluate((c: Canvas) => {
      const gl = c.getContext('webgl2');
      return gl ? String(gl.getParameter(gl.getExtension('WEBGL_debug_renderer_info')?.UNMASKED_RENDERER_WEBGL ?? gl.RENDERER)) : '';
    });
    await p.close();
    if (webgl) return { browser, webgl };
    tried += ` [${[...base, ...extra].join(' ')}]`;
    await browser.close();
  }
  throw new Error(`headless Chromium gave no WebGL2 context with the flags${tried}`);
}

/** Open a report page, recording console errors, page errors and any request that is not a file or data URL. */
async function open(browser: Browser, file: string) {
  const p = await browser.newPage({ viewport: { width: 1000, height: 800 } });
  const problems: string[] = [];
  p.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  p.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  p.on('request', (r) => { if (!/^(file|data|blob):/.test(r.url())) problems.push(`request: ${r.url()}`); });
  await p.goto(pathToFileURL(file).href);
  await p.waitForSelector(`#${VIEW_IDS.canvas}[data-frames]`, { timeout: 30_000 });
  return { p, problems };
}

/** Frames drawn so far, and the Q of the last (the viewer marks its canvas with both). */
const frameCount = async (p: Page) => Number(await canvasOf(p).getAttribute('data-frames'));
const shownQ = (p: Page, Q: number) => p.waitForSelector(`#${VIEW_IDS.canvas}[data-q="${Q}"]`);

test('browser: the view draws, follows its toggles and the Q selector, without errors', { skip: noChromium }, async (t) => {
  const { browser, webgl } = await launch();
  try {
    const { p, problems } = await open(browser, page);
    const views = JSON.parse(await p.locator(`#${VIEW_IDS.data}`).textContent() ?? '[]') as GlassView[];
    const seen: Record<string, Pixels> = {};
    for (let k = 0; k < views.length; k++) {
      const before = await frameCount(p);
      await p.selectOption(`#${VIEW_IDS.select}`, String(k));
      if (k > 0) await shownQ(p, views[k].Q);
      if (k > 0) assert.ok((await frameCount(p)) > before, 'switching Q draws a new frame');
      const px = await pixels(p);
      seen[`Q${views[k].Q}`] = px;
      assert.ok(px.drawn > 20_000, `Q = ${views[k].Q}: ${px.drawn} drawn pixels`);
      assert.ok(px.colours > 20, `Q = ${views[k].Q}: ${px.colours} colours`);
      assert.match(await p.locator(`#${VIEW_IDS.colorbar}`).innerText(), /softest NQLE/);
      if (views[k].event) {
        assert.ok(px.red > 200, `Q = ${views[k].Q}: ${px.red} arrow pixels`);
        await p.uncheck(`#${VIEW_IDS.arrows}`);
        const plain = await pixels(p);
        seen[`Q${views[k].Q}-no-arrows`] = plain;
        assert.ok(plain.red < px.red / 10, `arrows hidden: ${plain.red} red pixels left of ${px.red}`);
        await p.check(`#${VIEW_IDS.arrows}`);
      }
      await p.uncheck(`#${VIEW_IDS.nqle}`);
      const bySpecies = await pixels(p);
      seen[`Q${views[k].Q}-species`] = bySpecies;
      assert.notEqual(bySpecies.hash, px.hash, 'switching the NQLE colouring off repaints');
      assert.equal(await p.locator(`#${VIEW_IDS.colorbar}`).innerText(), '', 'no colour bar without the colouring');
      await p.check(`#${VIEW_IDS.nqle}`);
      assert.equal((await pixels(p)).hash, px.hash, 'switching it back gives the same picture');
    }
    assert.notEqual(seen.Q10.hash, seen.Q240.hash, 'the two glasses differ on screen');
    assert.deepEqual(problems, []);
    t.diagnostic(`WebGL renderer: ${webgl}`);
    t.diagnostic(`pixels seen (non-white / 4-bit colours / arrow red): ${Object.entries(seen).map(([k, v]) => `${k} ${v.drawn}/${v.colours}/${v.red}`).join(', ')}`);
    t.diagnostic(`index.html: ${statSync(page).size} bytes`);

    // A glass without NQLE vectors or shear run: drawn by species, no arrows, and the page says what is missing.
    const partial = join(dir, 'partial');
    await writeReport(
      { samples: records.map(sampleInputFromRecord), parameters: null, source: dir, views: glassViews(dir, def, stripped()) },
      { outDir: partial, bootstrap: { replicates: 20 }, png: false },
    );
    const second = await open(browser, join(partial, 'index.html'));
    await second.p.selectOption(`#${VIEW_IDS.select}`, String(views.findIndex((v) => v.Q === 240)));
    await shownQ(second.p, 240);
    const px = await pixels(second.p);
    assert.ok(px.drawn > 20_000 && px.colours > 5 && px.red === 0, JSON.stringify(px));
    assert.match(await second.p.locator(`#${VIEW_IDS.info}`).innerText(), /Not shown: no NQLE colouring: this sample has no NQLE vectors; no event arrows/);
    assert.ok(await second.p.locator(`#${VIEW_IDS.nqle}`).isDisabled() && await second.p.locator(`#${VIEW_IDS.arrows}`).isDisabled());
    assert.deepEqual(second.problems, []);
    t.diagnostic(`Q = 240 without NQLE and event: ${px.drawn} drawn pixels, ${px.colours} colours, ${px.red} red`);
  } finally {
    await browser.close();
  }
});

test('the report reads the localisation index from the stored D²_min field and glass as the aqs stage computed it', () => {
  const summary = JSON.parse(readFileSync(join(dir, 'report', 'summary.json'), 'utf8')) as { perQ: { Q: number; aqs: { localisationIndex: { value: number }; localisationShuffled: { value: number } } }[] };
  for (const q of summary.perQ) {
    const stage = (records.find((r) => r.Q === q.Q) as Record<string, unknown>).aqs as { localisationIndex: number; profile: { shuffled: number } };
    assert.ok(Math.abs(q.aqs.localisationIndex.value - stage.localisationIndex) < 1e-12, `Q = ${q.Q}: ${q.aqs.localisationIndex.value} vs ${stage.localisationIndex}`);
    assert.ok(Math.abs(q.aqs.localisationShuffled.value - stage.profile.shuffled) < 1e-12);
  }
});
