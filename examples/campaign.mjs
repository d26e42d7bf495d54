// A tiny ensemble: two Q values, a few samples each, elastic moduli per sample on worker threads,
// then the ensemble means with bootstrap errors. Running it again resumes (nothing is recomputed).
//   node examples/campaign.mjs [DIR]      (default: campaign-example/)
import {
  analyzeEnsemble, defineCampaign, initCampaign, loadCampaignSamples, runCampaign, sampleInputFromRecord, VERSION,
} from 'qglass';

const dir = process.argv[2] ?? 'campaign-example';
const definition = defineCampaign({
  Q: [10, 40], N: 256, samples: 3, seed: 1, density: 'zero-pressure', measure: ['elastic'], createdBy: `qglass ${VERSION}`,
});
initCampaign(dir, definition);
const run = await runCampaign(dir, { workers: 2 });
console.log(`computed ${run.computed} samples, ${run.failed} failed`);

const samples = loadCampaignSamples(dir).filter((s) => s.status === 'done');
const summary = analyzeEnsemble(samples.map(sampleInputFromRecord), { bootstrap: { replicates: 200, seed: 1 } });
for (const q of summary.perQ) {
  const { nu, GOverK } = q.elastic;
  console.log(`Q = ${q.Q}: ν = ${nu.value.toFixed(4)} ± ${nu.error.toFixed(4)}, G/K = ${GOverK.value.toFixed(4)} ± ${GOverK.error.toFixed(4)} (${nu.n} samples)`);
}
