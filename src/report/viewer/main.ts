/**
 * The report's 3-D view, run in the browser from the page's inline script (bundled with three.js by
 * scripts/build.mjs into build/viewer.js; never imported by the Node library). Reads the glasses
 * embedded by src/report/view3d.ts and draws one at a time, only when something changed (orbit,
 * Q, toggles), into a canvas that keeps its pixels (preserveDrawingBuffer) so it can be read back.
 */
import {
  AmbientLight, BufferGeometry, Color, ConeGeometry, CylinderGeometry, DirectionalLight, Float32BufferAttribute, Group,
  InstancedMesh, LineBasicMaterial, LineSegments, Matrix4, MeshBasicMaterial, MeshLambertMaterial, PerspectiveCamera,
  Quaternion, Scene, SphereGeometry, Vector3, WebGLRenderer,
} from 'three';
import { OrbitControls } from 'three/addons/controls/OrbitControls.js';
import { formatNumber as number } from '../number-format.ts';
import { NQLE_DECADES, VIEW_IDS, type GlassView } from '../view3d-format.ts';

/** Viridis at tenths (perceptually uniform, readable in grey). */
const VIRIDIS = ['#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c', '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725'];
const STOPS = VIRIDIS.map((c) => new Color(c));
const SPECIES_COLOURS = ['#9db4d0', '#d8c3a5'];
const ARROW_COLOUR = '#d62728';
/** The longest arrow, as a share of the shortest cell edge. */
const ARROW_LENGTH = 0.15;

function decode(b64: string): ArrayBuffer {
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out.buffer;
}

function viridis(t: number, out: Color): Color {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const k = Math.min(STOPS.length - 2, Math.floor(x));
  return out.copy(STOPS[k]).lerp(STOPS[k + 1], x - k);
}

/** Position of |π_i| on the log colour scale: 0 at max·10^-NQLE_DECADES and below, 1 at the maximum. */
const nqleScale = (v: number, max: number) => (v > 0 ? 1 + Math.log10(v / max) / NQLE_DECADES : 0);

const element = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

/** A decoded glass and its meshes. */
interface Shown {
  view: GlassView;
  group: Group;
  particles: InstancedMesh;
  arrows: Group | null;
  positions: Float32Array;
  species: Uint8Array;
  magnitude: Float32Array | null;
  arrowScale: number;
}

function start(): void {
  const views = JSON.parse(element(VIEW_IDS.data).textContent ?? '[]') as GlassView[];
  const canvas = element<HTMLCanvasElement>(VIEW_IDS.canvas);
  const select = element<HTMLSelectElement>(VIEW_IDS.select);
  const nqleBox = element<HTMLInputElement>(VIEW_IDS.nqle);
  const arrowBox = element<HTMLInputElement>(VIEW_IDS.arrows);
  const size = element<HTMLInputElement>(VIEW_IDS.size);
  const colorbar = element(VIEW_IDS.colorbar);
  const info = element(VIEW_IDS.info);

  let renderer: WebGLRenderer;
  try {
    renderer = new WebGLRenderer({ canvas, antialias: true, preserveDrawingBuffer: true });
  } catch (err) {
    info.textContent = `The 3-D view needs WebGL, which this browser did not provide (${(err as Error).message}).`;
    return;
  }
  renderer.setPixelRatio(window.devicePixelRatio);
  renderer.setClearColor(0xffffff);
  const scene = new Scene();
  const camera = new PerspectiveCamera(35, 1, 0.1, 1000);
  scene.add(camera, new AmbientLight(0xffffff, 1.2));
  const light = new DirectionalLight(0xffffff, 2.2);
  light.position.set(1, 2, 3); // relative to the camera: the lit side turns with the view
  camera.add(light);
  const controls = new OrbitControls(camera, canvas);
  const sphere = new SphereGeometry(1, 16, 12);
  const shaft = new CylinderGeometry(1, 1, 1, 8);
  const head = new ConeGeometry(1, 1, 12);
  const matrix = new Matrix4(), colour = new Color();

  let frames = 0;
  let shown: Shown | null = null;
  const render = () => {
    renderer.render(scene, camera);
    canvas.dataset.frames = String(++frames);
    if (shown) canvas.dataset.q = String(shown.view.Q);
  };
  const resize = () => {
    const w = canvas.clientWidth, h = canvas.clientHeight;
    renderer.setSize(w, h, false);
    camera.aspect = w / Math.max(1, h);
    camera.updateProjectionMatrix();
    render();
  };
  controls.addEventListener('change', render);
  window.addEventListener('resize', resize);

  const placeParticles = (s: Shown) => {
    const scale = Number(size.value);
    const p = s.positions;
    for (let i = 0; i < s.view.N; i++) {
      const r = s.view.radii[s.species[i]] * scale;
      s.particles.setMatrixAt(i, matrix.makeScale(r, r, r).setPosition(p[3 * i], p[3 * i + 1], p[3 * i + 2]));
    }
    s.particles.instanceMatrix.needsUpdate = true;
  };

  const paintParticles = (s: Shown) => {
    const byNqle = nqleBox.checked && s.magnitude !== null && s.view.nqle !== null;
    for (let i = 0; i < s.view.N; i++) {
      s.particles.setColorAt(i, byNqle ? viridis(nqleScale(s.magnitude![i], s.view.nqle!.max), colour) : colour.set(SPECIES_COLOURS[s.species[i]]));
    }
    s.particles.instanceColor!.needsUpdate = true;
    colorbar.replaceChildren();
    if (!byNqle) return;
    const { max, omega2, mode } = s.view.nqle!;
    const bar = document.createElement('div');
    bar.className = 'bar';
    bar.style.background = `linear-gradient(to right, ${VIRIDIS.join(', ')})`;
    const ticks = document.createElement('div');
    ticks.className = 'ticks';
    for (let d = NQLE_DECADES; d >= 0; d--) {
      const t = document.createElement('span');
      t.style.left = `${100 * (1 - d / NQLE_DECADES)}%`;
      t.textContent = number(max * 10 ** -d, 2);
      ticks.append(t);
    }
    const title = document.createElement('div');
    title.textContent = `|π_i| of the softest NQLE (mode ${mode}, ω² = ${number(omega2)}), log scale`;
    colorbar.append(title, bar, ticks);
  };

  /** Arrows from each listed particle along its displacement, lengthened by arrowScale. */
  const buildArrows = (s: Shown): Group | null => {
    const e = s.view.event;
    if (!e) return null;
    const particles = new Int32Array(decode(e.particles));
    const u = new Float32Array(decode(e.vectors));
    const material = new MeshBasicMaterial({ color: ARROW_COLOUR, depthTest: false });
    const shafts = new InstancedMesh(shaft, material, particles.length);
    const heads = new InstancedMesh(head, material, particles.length);
    const up = new Vector3(0, 1, 0), dir = new Vector3(), at = new Vector3(), q = new Quaternion(), scale = new Vector3();
    const width = 0.1 * s.view.radii[0];
    particles.forEach((i, k) => {
      dir.set(u[3 * k], u[3 * k + 1], u[3 * k + 2]);
      const length = dir.length() * s.arrowScale;
      dir.normalize();
      q.setFromUnitVectors(up, dir);
      const headLength = Math.min(0.4 * length, 6 * width);
      const shaftLength = length - headLength;
      at.set(s.positions[3 * i], s.positions[3 * i + 1], s.positions[3 * i + 2]);
      shafts.setMatrixAt(k, matrix.compose(at.clone().addScaledVector(dir, shaftLength / 2), q, scale.set(width, shaftLength, width)));
      heads.setMatrixAt(k, matrix.compose(at.clone().addScaledVector(dir, shaftLength + headLength / 2), q, scale.set(2.5 * width, headLength, 2.5 * width)));
    });
    const group = new Group();
    group.add(shafts, heads);
    shafts.renderOrder = heads.renderOrder = 1; // over the spheres, which would otherwise hide the short ones
    return group;
  };

  const cellEdges = (box: GlassView['box']) => {
    const [lx, ly, lz, xy, xz, yz] = box;
    const a = new Vector3(lx, 0, 0), b = new Vector3(xy, ly, 0), c = new Vector3(xz, yz, lz);
    const corner = (i: number, j: number, k: number) => new Vector3().addScaledVector(a, i).addScaledVector(b, j).addScaledVector(c, k);
    const points: number[] = [];
    for (const [i, j, k, di, dj, dk] of [
      [0, 0, 0, 1, 0, 0], [0, 1, 0, 1, 0, 0], [0, 0, 1, 1, 0, 0], [0, 1, 1, 1, 0, 0],
      [0, 0, 0, 0, 1, 0], [1, 0, 0, 0, 1, 0], [0, 0, 1, 0, 1, 0], [1, 0, 1, 0, 1, 0],
      [0, 0, 0, 0, 0, 1], [1, 0, 0, 0, 0, 1], [0, 1, 0, 0, 0, 1], [1, 1, 0, 0, 0, 1],
    ]) points.push(...corner(i, j, k).toArray(), ...corner(i + di, j + dj, k + dk).toArray());
    const geometry = new BufferGeometry();
    geometry.setAttribute('position', new Float32BufferAttribute(points, 3));
    return { lines: new LineSegments(geometry, new LineBasicMaterial({ color: 0x333333 })), centre: corner(0.5, 0.5, 0.5), size: a.length() + b.length() + c.length() };
  };

  const describe = (s: Shown) => {
    const v = s.view, e = v.event;
    const lines = [`Q = ${number(v.Q)}, sample ${v.index}, N = ${v.N}.`];
    if (e && arrowBox.checked) {
      lines.push(
        `First plastic event${e.gamma === null ? '' : ` at γ = ${number(e.gamma, 4)}`}: arrows on the ${Math.round(100 * e.fraction)}% of particles with ` +
          `|u_i| ≥ ${number(e.threshold)} λ (largest ${number(e.maxDisplacement)} λ), lengthened ×${number(s.arrowScale)}.`,
      );
    }
    if (v.missing.length > 0) lines.push(`Not shown: ${v.missing.join('; ')}.`);
    info.replaceChildren(...lines.map((l) => Object.assign(document.createElement('div'), { textContent: l })));
  };

  const dispose = (s: Shown) => {
    scene.remove(s.group);
    s.group.traverse((o) => {
      if (o instanceof InstancedMesh) o.dispose();
      if (o instanceof LineSegments) o.geometry.dispose();
      if ('material' in o) (o.material as { dispose(): void }).dispose();
    });
  };

  const show = (k: number, first: boolean) => {
    if (shown) dispose(shown);
    const view = views[k];
    const positions = new Float32Array(decode(view.positions));
    const species = new Uint8Array(decode(view.species));
    const particles = new InstancedMesh(sphere, new MeshLambertMaterial(), view.N);
    const group = new Group();
    const cell = cellEdges(view.box);
    const arrowScale = view.event ? (ARROW_LENGTH * Math.min(view.box[0], view.box[1], view.box[2])) / view.event.maxDisplacement : 1;
    const s: Shown = {
      view, group, particles, positions, species, arrows: null, arrowScale,
      magnitude: view.nqle ? new Float32Array(decode(view.nqle.magnitude)) : null,
    };
    s.arrows = buildArrows(s);
    group.add(particles, cell.lines);
    if (s.arrows) group.add(s.arrows);
    scene.add(group);
    shown = s;
    nqleBox.disabled = view.nqle === null;
    arrowBox.disabled = view.event === null;
    placeParticles(s);
    paintParticles(s);
    if (s.arrows) s.arrows.visible = arrowBox.checked;
    describe(s);
    controls.target.copy(cell.centre);
    if (first) camera.position.copy(cell.centre).add(new Vector3(0.9, 0.6, 1.4).multiplyScalar(cell.size / 2.2));
    controls.update();
    render();
  };

  select.addEventListener('change', () => show(Number(select.value), false));
  nqleBox.addEventListener('change', () => {
    if (shown) paintParticles(shown);
    render();
  });
  arrowBox.addEventListener('change', () => {
    if (shown?.arrows) shown.arrows.visible = arrowBox.checked;
    if (shown) describe(shown);
    render();
  });
  size.addEventListener('input', () => {
    if (shown) placeParticles(shown);
    render();
  });
  show(Number(select.value), true);
  resize();
}

start();
