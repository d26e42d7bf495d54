/**
 * The qglass library: everything the `qglass` command does, callable from JavaScript or TypeScript.
 * Data flows one way — configuration → system → measurements → campaign → analysis → report — and
 * each stage is a function over plain records and typed arrays. docs/api.md walks through it;
 * docs/methods.md states the formulas and conventions.
 *
 *   import { DEFAULT_PREPARE, prepareGlass, measureElastic, resolveDensity } from 'qglass';
 *   const { density } = resolveDensity('zero-pressure', 240);
 *   const { system } = prepareGlass({ ...DEFAULT_PREPARE, Q: 240, N: 500, density, seed: 7 });
 *   const { K, G, nu } = measureElastic(system);
 *
 * Units: λ (small–small size), ε, m = 1, τ = λ·sqrt(m/ε). Iterative results carry `converged`.
 */

// Model: pair laws (the Q-model, its repulsive variant, soft spheres), densities, configurations.
export {
  SPECIES_LABELS, PAIR_TYPES, phiAt, type PairLaw, type PairLawKernel, type KernelFamily,
} from './model/pair-law.ts';
export { PAIR_LAWS, LAW_NAMES, makePairLaw, lawMetadata, lawFromMetadata, lawLabel, isQModel } from './model/laws.ts';
export {
  qModel, repulsiveQ, validateQ, smoothingCoefficients, potentialMinimum, X_CUTOFF, PAIR_LAMBDA,
} from './model/q-model.ts';
export { harmonicSpheres, hertzianSpheres, softSpheres, SPHERE_DIAMETERS, PAIR_SIGMA } from './model/soft-sphere.ts';
export { resolveDensity, PAPER_DENSITY, type DensityMode, type DensityChoice, type CalibratedDensity } from './model/presets.ts';
export { ZERO_PRESSURE_TABLE } from './model/zero-pressure-table.ts';
export type { Configuration, MetaValue } from './model/configuration.ts';

// Space: boxes, lattices, neighbor lists.
export {
  cubicBox, boxVolume, boxMatrix, isOrthogonal, perpendicularWidths, minimumImage, wrapPositions, deform, dilate, type Box,
} from './space/box.ts';
export { fccCellsFor, fccPositions } from './space/lattice.ts';

// Files: extended XYZ, LAMMPS data, .npy, Matrix Market; atomic writes.
export { readExtendedXyz, writeExtendedXyz, parseExtendedXyz, formatExtendedXyz } from './io/xyz.ts';
export { formatLammpsData, writeLammpsData, readLammpsData, parseLammpsData, formatPairTable, type PairTableSection } from './io/lammps-data.ts';
export { readNpy, writeNpy, parseNpy, formatNpy, type NpyArray, type NpyData } from './io/npy.ts';
export { writeHessianMatrixMarket, readMatrixMarket, type CoordinateMatrix } from './io/matrix-market.ts';
export { writeFileAtomic } from './io/atomic-write.ts';
export { FileFormatError } from './io/format-error.ts';

// Engine: systems, forces and energy, minimisers, dynamics, the preparation protocol.
export {
  createSystem, systemFromConfiguration, systemToConfiguration, particleCount, virialPressure, type System,
} from './engine/system.ts';
export { computeForces, maxForceComponent } from './engine/forces.ts';
export { buildPairTable, type PairTable } from './engine/pair-table.ts';
export { minimize, minimizeFire, type MinimizeOptions, type DescentMethod, type FireOptions, type MinimizeResult } from './engine/minimize.ts';
export {
  runNve, timeStepFor, maxwellBoltzmannVelocities, kineticEnergy, kineticTemperature, type NveOptions, type NveResult,
} from './engine/dynamics.ts';
export {
  prepareGlass, prepareSummary, validatePrepareOptions, cloneSystem, finiteDilationBulkModulus, DEFAULT_PREPARE,
  type PrepareOptions, type PrepareResult, type PrepareProgress, type Stage as PrepareStage,
} from './engine/prepare.ts';
export { preparePacking, packingFraction, packingSummary, DEFAULT_PACKING, type PackingOptions, type PackingResult } from './engine/packing.ts';

// Measurements of one configuration.
export { stressTensor, VOIGT_LABELS, VOIGT_PAIRS } from './measure/stress.ts';
export { findRattlers, withoutRattlers, mechanicalBackbone, MIN_CONTACTS, type RattlerAnalysis } from './measure/rattlers.ts';
export {
  measureElastic, stressResponse, finiteStrainStressResponse, simpleShear, voigtStrain, UnrelaxedConfigurationError,
  DEFAULT_FORCE_TOLERANCE, type ElasticOptions, type ElasticResult,
} from './measure/elastic.ts';
export {
  measureModes, participationRatio, soundScales, DEFAULT_MODE_COUNT, type ModesOptions, type ModesResult, type SoundScales,
} from './measure/modes.ts';
export {
  pairCorrelation, firstPeak, averagePairCorrelations, DEFAULT_PAIR_CORRELATION,
  type PairCorrelation, type PairCorrelationOptions, type FirstPeak,
} from './measure/pair-correlation.ts';
export {
  findNqles, refineNqle, DEFAULT_NQLE, type Nqle, type NqleOptions, type NqleResult, type NqleProgress,
} from './measure/nqle.ts';
export {
  buildContractionTable, modeContractions, decomposeMode, type ContractionTable, type ModeContractions,
} from './measure/contractions.ts';

// Linear algebra the measurements use, for custom analyses (the Hessian, CG, Lanczos).
export { hessianMultiply, hessianToDense, type BlockHessian } from './linalg/hessian.ts';
export { assembleHessian, hessianMatrixFree } from './measure/hessian.ts';
export { solveCg, DEFAULT_CG_TOL, type CgResult } from './linalg/cg.ts';
export { lanczosSmallest, type LanczosOptions, type EigenResult } from './linalg/lanczos.ts';
export type { LinearOperator } from './linalg/operator.ts';
export { projectOutTranslations } from './linalg/vectors.ts';

// Campaigns: ensembles of samples on disk, run on worker threads, resumable and shardable.
export {
  defineCampaign, initCampaign, readCampaign, MEASUREMENTS, campaignModel, controlAxis, controlValues, lawAt,
  type CampaignDefinition, type CampaignInput, type ControlAxis, type MeasurementName, type Protocol,
} from './ensemble/campaign.ts';
export { runCampaign, type RunOptions, type RunEvent, type RunSummary } from './ensemble/runner.ts';
export {
  campaignStatus, loadCampaignSamples, exportedRecords, samplesToCsv, samplesToHdf5Tree, writeSamplesHdf5, writeSamplesParquet, type CampaignStatus, type SampleRecord,
} from './ensemble/export.ts';
export { mergeShards, type MergeSummary } from './ensemble/merge.ts';
export { parseShard, type Shard } from './ensemble/shard.ts';
export { slurmScript, type SlurmOptions } from './ensemble/slurm.ts';
export { calibrateDensity, type CalibrationOptions, type CalibrationResult } from './ensemble/calibrate.ts';
export { plannedSamples, sampleSeed, type PlannedSample } from './ensemble/seeds.ts';

// Analysis: ensemble statistics with bootstrap errors, D(ω) and A_g, disorder χ.
export { analyzeEnsemble, type SampleInput, type AnalysisOptions, type EnsembleSummary, type QSummary } from './analysis/ensemble.ts';
export { analyzeSpectrum, fitCumulative, dosHistogram, xiOverA0, waveScales, type DosNormalization, type SpectrumSummary } from './analysis/dos.ts';
export { analyzeDisorder, chi, type ChiConvention, type DisorderSummary } from './analysis/disorder.ts';
export { bootstrap, bootstrapMean, mean, std, type Estimate, type BootstrapOptions } from './analysis/statistics.ts';

// Report: figures (SVG, PNG, CSV, Vega-Lite), summary.json and index.html of a campaign.
export { reportFromCampaign, reportFromCampaigns, writeReport, sampleInputFromRecord, type ReportOptions, type ReportResult } from './report/report.ts';

// Utilities: seeded random streams, threads for one large sample, errors, exit codes, version.
export { createRandom, deriveSeed, type Random } from './util/random.ts';
export { setThreads, threadCount } from './util/threads.ts';
export { UserError } from './util/errors.ts';
export { EXIT } from './util/exit-codes.ts';
export { VERSION } from './util/version.ts';
