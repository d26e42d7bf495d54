// Worker-thread entry point. Node 20 cannot load .ts in a Worker by itself (not even under tsx's
// --import), so this plain module loads the pipeline through tsx's API and serves tasks.
import { parentPort } from 'node:worker_threads';
import { tsImport } from 'tsx/esm/api';

const { serveSamples } = await tsImport('./pipeline.ts', import.meta.url);
serveSamples(parentPort);
