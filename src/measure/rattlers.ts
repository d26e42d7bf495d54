/**
 * Rattlers: particles of a contact packing held by too few contacts to be mechanically stable
 * (fewer than d + 1 = 4 in three dimensions). They carry no stress and add zero modes, so moduli,
 * modes and NQLEs of soft-sphere packings are measured without them. Removing one can leave a
 * neighbour with too few contacts, so the search repeats until no particle is removed.
 *
 * A contact is an interacting pair (inside the law's cutoff, non-zero force). Z is the mean number of
 * contacts per non-rattler; isostatic packings have Z_iso = 2d = 6.
 */
import { buildPairTable, type PairTable } from '../engine/pair-table.ts';
import { createSystem, type System } from '../engine/system.ts';

export const MIN_CONTACTS = 4;

export interface RattlerAnalysis {
  /** 1 for a rattler, 0 otherwise, per particle. */
  rattler: Uint8Array;
  rattlers: number;
  /** Contacts of each particle with non-rattlers (0 for rattlers). */
  contacts: Int32Array;
  /** Mean contacts per non-rattler. */
  Z: number;
  /** Removal sweeps until none was removed. */
  sweeps: number;
}

export function findRattlers(sys: System, pairs: PairTable = buildPairTable(sys), minContacts = MIN_CONTACTS): RattlerAnalysis {
  const n = sys.species.length;
  const rattler = new Uint8Array(n);
  const contacts = new Int32Array(n);
  let sweeps = 0;
  for (;;) {
    sweeps++;
    contacts.fill(0);
    for (let p = 0; p < pairs.count; p++) {
      const i = pairs.i[p], j = pairs.j[p];
      if (rattler[i] || rattler[j] || pairs.dphiOverR[p] === 0) continue;
      contacts[i]++;
      contacts[j]++;
    }
    let removed = 0;
    for (let i = 0; i < n; i++) if (!rattler[i] && contacts[i] < minContacts) { rattler[i] = 1; removed++; }
    if (removed === 0) break;
  }
  let rattlers = 0, total = 0;
  for (let i = 0; i < n; i++) { if (rattler[i]) rattlers++; else total += contacts[i]; }
  return { rattler, rattlers, contacts, Z: rattlers === n ? 0 : total / (n - rattlers), sweeps };
}

/** The system without its rattlers (same box, law and skin); returns sys itself when there are none. */
export function withoutRattlers(sys: System, analysis: RattlerAnalysis): System {
  if (analysis.rattlers === 0) return sys;
  const keep = sys.species.length - analysis.rattlers;
  const pos = new Float64Array(3 * keep), sp = new Uint8Array(keep);
  for (let i = 0, k = 0; i < sys.species.length; i++) {
    if (analysis.rattler[i]) continue;
    pos[3 * k] = sys.positions[3 * i]; pos[3 * k + 1] = sys.positions[3 * i + 1]; pos[3 * k + 2] = sys.positions[3 * i + 2];
    sp[k++] = sys.species[i];
  }
  return createSystem(sys.model, sys.box, pos, sp, sys.neighbors.skin);
}

/**
 * The system the measurements act on: for a contact law, the packing without its rattlers (with the
 * analysis); for any other law the system itself.
 */
export function mechanicalBackbone(sys: System): { system: System; rattlers: RattlerAnalysis | null } {
  if (!sys.model.contactLaw) return { system: sys, rattlers: null };
  const rattlers = findRattlers(sys);
  return { system: withoutRattlers(sys, rattlers), rattlers };
}
