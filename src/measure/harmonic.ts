/**
 * What the linear-response measurements of one configuration share: the pair table, the sparse
 * Hessian with its block-Jacobi preconditioner, and the largest force component, built once per
 * configuration and handed to measureElastic, measureModes and findNqles (which build their own
 * when given none). The configuration must not move while it is in use.
 */
import { computeForces, maxForceComponent } from '../engine/forces.ts';
import { buildPairTable, type PairTable } from '../engine/pair-table.ts';
import type { System } from '../engine/system.ts';
import { blockJacobiPreconditioner } from '../linalg/cg.ts';
import { hessianOperator, type BlockHessian } from '../linalg/hessian.ts';
import { assembleHessian } from './hessian.ts';
import type { LinearOperator } from '../linalg/operator.ts';

export interface Harmonic {
  pairs: PairTable;
  hessian: BlockHessian;
  operator: LinearOperator;
  preconditioner: LinearOperator;
  /** Largest force component at the configuration. */
  maxForce: number;
  /** Seconds spent building it. */
  seconds: number;
}

export function harmonicOf(sys: System): Harmonic {
  const t0 = performance.now();
  computeForces(sys);
  const maxForce = maxForceComponent(sys.forces);
  const pairs = buildPairTable(sys);
  const hessian = assembleHessian(sys, pairs);
  return {
    pairs, hessian, operator: hessianOperator(hessian), preconditioner: blockJacobiPreconditioner(hessian),
    maxForce, seconds: (performance.now() - t0) / 1000,
  };
}
