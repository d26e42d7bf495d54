/**
 * What the report's 3-D view receives: one glass per Q as JSON inside the page, arrays as base64 of
 * little-endian float32/int32/uint8. Shared by the report writer (Node) and the viewer bundle
 * (browser), so it holds only types and constants.
 */

/** Element ids of the view's section; the viewer looks them up. */
export const VIEW_IDS = {
  data: 'qglass-view-data',
  canvas: 'qglass-view-canvas',
  select: 'qglass-view-q',
  nqle: 'qglass-view-nqle',
  arrows: 'qglass-view-arrows',
  size: 'qglass-view-size',
  colorbar: 'qglass-view-colorbar',
  info: 'qglass-view-info',
} as const;

/** Decades of |π_i| the colour scale spans below its maximum (log scale). */
export const NQLE_DECADES = 3;

export interface GlassView {
  Q: number;
  N: number;
  /** Sample index within its Q. */
  index: number;
  /** Cell: lx, ly, lz, xy, xz, yz (λ); edge vectors a = (lx,0,0), b = (xy,ly,0), c = (xz,yz,lz). */
  box: [number, number, number, number, number, number];
  /** Sphere radius per species (small, large), λ: half the like-pair length. */
  radii: [number, number];
  /** float32 N×3, wrapped into the cell. */
  positions: string;
  /** uint8 N, 0 = small, 1 = large. */
  species: string;
  /** The softest converged NQLE π (unit norm): |π_i| per particle. */
  nqle: { magnitude: string; max: number; omega2: number; mode: number } | null;
  /** The first plastic event's non-affine displacement, the largest |u_i| only. */
  event: {
    gamma: number | null;
    /** int32 particle indices and float32 k×3 displacements (λ), largest first. */
    particles: string;
    vectors: string;
    maxDisplacement: number;
    /** Smallest |u_i| drawn, and the share of particles drawn. */
    threshold: number;
    fraction: number;
  } | null;
  /** What this sample lacks, one sentence each. */
  missing: string[];
}
