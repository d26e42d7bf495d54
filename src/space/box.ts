/**
 * Periodic simulation box: an upper-triangular cell matrix (LAMMPS convention)
 *
 *   h = | lx  xy  xz |     columns are the edge vectors a = (lx,0,0), b = (xy,ly,0), c = (xz,yz,lz)
 *       | 0   ly  yz |
 *       | 0   0   lz |
 *
 * Cubic boxes have zero tilts; sheared boxes (finite-deformation checks) carry tilts.
 */
export interface Box {
  readonly lx: number;
  readonly ly: number;
  readonly lz: number;
  readonly xy: number;
  readonly xz: number;
  readonly yz: number;
}

export function cubicBox(length: number): Box {
  if (!(length > 0) || !Number.isFinite(length)) throw new RangeError(`box length must be positive and finite; got ${length}`);
  return { lx: length, ly: length, lz: length, xy: 0, xz: 0, yz: 0 };
}

export function boxVolume(box: Box): number {
  return box.lx * box.ly * box.lz;
}

export function isOrthogonal(box: Box): boolean {
  return box.xy === 0 && box.xz === 0 && box.yz === 0;
}

/** Cell matrix as 9 numbers, row-major. */
export function boxMatrix(box: Box): number[] {
  return [box.lx, box.xy, box.xz, 0, box.ly, box.yz, 0, 0, box.lz];
}

/** Distances between opposite faces: the largest cutoff that minimum image supports is half the smallest. */
export function perpendicularWidths(box: Box): [number, number, number] {
  const { lx, ly, lz, xy, xz, yz } = box;
  const v = lx * ly * lz;
  // |b × c|, |c × a|, |a × b| for a = (lx,0,0), b = (xy,ly,0), c = (xz,yz,lz)
  const bc = Math.hypot(ly * lz, -xy * lz, xy * yz - ly * xz);
  const ca = Math.hypot(0, -lx * lz, lx * yz);
  const ab = lx * ly;
  return [v / bc, v / ca, v / ab];
}

/** Minimum-image displacement, in place on d[off..off+2]. */
export function minimumImage(box: Box, d: Float64Array, off: number): void {
  let dx = d[off], dy = d[off + 1], dz = d[off + 2];
  const kz = Math.round(dz / box.lz);
  dz -= kz * box.lz; dy -= kz * box.yz; dx -= kz * box.xz;
  const ky = Math.round(dy / box.ly);
  dy -= ky * box.ly; dx -= ky * box.xy;
  dx -= Math.round(dx / box.lx) * box.lx;
  d[off] = dx; d[off + 1] = dy; d[off + 2] = dz;
}

/** Wrap all positions into the primary cell [0,1)³ in fractional coordinates. */
export function wrapPositions(box: Box, pos: Float64Array): void {
  const n = pos.length / 3;
  for (let i = 0; i < n; i++) {
    let x = pos[3 * i], y = pos[3 * i + 1], z = pos[3 * i + 2];
    const kz = Math.floor(z / box.lz);
    z -= kz * box.lz; y -= kz * box.yz; x -= kz * box.xz;
    const ky = Math.floor(y / box.ly);
    y -= ky * box.ly; x -= ky * box.xy;
    x -= Math.floor(x / box.lx) * box.lx;
    pos[3 * i] = x; pos[3 * i + 1] = y; pos[3 * i + 2] = z;
  }
}

/**
 * A homogeneous deformation x → (I + e)·x of box and positions, e a 3×3 displacement gradient
 * (row-major). The deformed cell must stay upper triangular, so e must be upper triangular
 * (e.g. e[0*3+1] = γ is simple shear x += γ·y); dilation is e = η·I.
 */
export function deform(box: Box, pos: Float64Array, e: ArrayLike<number>): { box: Box; pos: Float64Array } {
  if (e[3] !== 0 || e[6] !== 0 || e[7] !== 0) {
    throw new RangeError('deform: the displacement gradient must be upper triangular (the cell stays upper triangular)');
  }
  const F = [1 + e[0], e[1], e[2], 0, 1 + e[4], e[5], 0, 0, 1 + e[8]];
  const h = boxMatrix(box);
  const g = new Array<number>(9);
  for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) g[3 * r + c] = F[3 * r] * h[c] + F[3 * r + 1] * h[3 + c] + F[3 * r + 2] * h[6 + c];
  const out = new Float64Array(pos.length);
  for (let i = 0; i < pos.length; i += 3) {
    const x = pos[i], y = pos[i + 1], z = pos[i + 2];
    out[i] = F[0] * x + F[1] * y + F[2] * z;
    out[i + 1] = F[4] * y + F[5] * z;
    out[i + 2] = F[8] * z;
  }
  return { box: { lx: g[0], xy: g[1], xz: g[2], ly: g[4], yz: g[5], lz: g[8] }, pos: out };
}

/** Scale box and positions uniformly by the linear factor s (volume by s³). */
export function dilate(box: Box, pos: Float64Array, s: number): { box: Box; pos: Float64Array } {
  const e = s - 1;
  return deform(box, pos, [e, 0, 0, 0, e, 0, 0, 0, e]);
}
