/**
 * Sizes qglass accepts, checked before anything is allocated or any long loop starts, each with an
 * error naming the option and the limit. They sit far above the paper's needs (N = 10976, densities
 * 0.5–0.7 λ⁻³, 1000 samples per Q, ≤ 4·10⁴ NVE steps) and far below what would exhaust memory.
 */
export const LIMITS = {
  /** Particles per configuration (memory grows ~1 kB per particle with neighbour lists and Hessians). */
  particles: 1_000_000,
  /** Number density range (λ⁻³): below it the cell list needs ≫ N cells, above it particles sit on top of each other. */
  minDensity: 0.01,
  maxDensity: 10,
  /** Histogram bins of g(r). */
  grBins: 100_000,
  /** Samples of one campaign (all Q together). */
  campaignSamples: 1_000_000,
  /** NVE steps per glass without --force (dt ∝ 1/Q, so huge Q means huge step counts). */
  nveSteps: 1_000_000,
} as const;

export function checkParticleCount(N: number, option = '--n'): void {
  if (N > LIMITS.particles) throw new RangeError(`${option} ${N}: at most ${LIMITS.particles.toLocaleString('en-US')} particles are supported`);
}

export function checkDensity(density: number, option = '--density'): void {
  if (!(density >= LIMITS.minDensity && density <= LIMITS.maxDensity)) {
    throw new RangeError(`${option} ${density}: the density must lie between ${LIMITS.minDensity} and ${LIMITS.maxDensity} λ⁻³ (glasses of this model sit near 0.5–0.7)`);
  }
}

export function checkGrBins(rmax: number, binWidth: number, option = '--bin'): void {
  const bins = Math.ceil(rmax / binWidth);
  if (!(bins <= LIMITS.grBins)) {
    throw new RangeError(`${option} ${binWidth}: ${bins.toExponential(2)} bins up to rmax = ${rmax}; at most ${LIMITS.grBins.toLocaleString('en-US')} bins (use --bin ≥ ${(rmax / LIMITS.grBins).toPrecision(2)})`);
  }
}

export function checkCampaignSize(samplesPerQ: number, qCount: number, option = '--samples'): void {
  if (samplesPerQ * qCount > LIMITS.campaignSamples) {
    throw new RangeError(`${option} ${samplesPerQ}: ${samplesPerQ} × ${qCount} Q values exceeds the limit of ${LIMITS.campaignSamples.toLocaleString('en-US')} samples per campaign`);
  }
}

/** steps: the NVE steps one glass would take; what: which Q (and dt) makes it so. */
export function checkNveSteps(steps: number, what: string, force: boolean): void {
  if (steps > LIMITS.nveSteps && !force) {
    throw new RangeError(
      `${what}: the NVE run would take ${steps.toExponential(2)} steps, more than ${LIMITS.nveSteps.toLocaleString('en-US')}; ` +
        'lower --nve-time, raise --dt, or pass --force to run it anyway',
    );
  }
}
