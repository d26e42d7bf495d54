/**
 * Progress display for long work: a bar with rate and ETA on an interactive terminal (stderr),
 * nothing at all when stderr is not a terminal (pipes, CI) or when quiet.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  /** Start or switch to a named phase measured in `total` units. */
  phase(name: string, total: number): void;
  update(done: number): void;
  stop(): void;
}

const SILENT: Progress = { phase() {}, update() {}, stop() {} };

export function createProgress(opts: { quiet?: boolean } = {}): Progress {
  if (opts.quiet || !process.stderr.isTTY || process.env.CI) return SILENT;
  const bar = new cliProgress.SingleBar(
    {
      format: ' {phase} |{bar}| {percentage}% | {value}/{total} | {speed}/s | ETA {eta_formatted}',
      stream: process.stderr, hideCursor: true, clearOnComplete: true, etaBuffer: 50,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  let t0 = 0;
  return {
    phase(name, total) {
      t0 = performance.now();
      if (started) bar.setTotal(total);
      else { bar.start(total, 0, { phase: name, speed: '0' }); started = true; }
      bar.update(0, { phase: name.padEnd(8), speed: '0' });
    },
    update(done) {
      const secs = (performance.now() - t0) / 1000;
      bar.update(done, { speed: secs > 0 ? (done / secs).toPrecision(3) : '0' });
    },
    stop() { if (started) bar.stop(); },
  };
}
