import cliProgress from 'cli-progress';

/** What long work reports to; a no-op when nobody is watching. */
export interface Progress {
  /** Set the amount done so far (same unit as `total`). */
  update(done: number): void;
  /** Close the bar (idempotent). */
  stop(): void;
}

const silent: Progress = { update() {}, stop() {} };

/** True when a progress bar may be drawn: stderr is a terminal and CI is not set. */
export function progressAllowed(): boolean {
  return Boolean(process.stderr.isTTY) && !process.env.CI;
}

/**
 * A progress bar on stderr for `total` units, shown only on a terminal (never when
 * output is piped or CI is set), so library calls and tests stay quiet.
 */
export function startProgress(label: string, total: number, unit = ''): Progress {
  if (!progressAllowed() || total <= 0) return silent;
  const bar = new cliProgress.SingleBar(
    {
      format: `${label.padEnd(18)} [{bar}] {percentage}% | {value}/{total}${unit ? ' ' + unit : ''} | ETA {eta_formatted}`,
      stream: process.stderr,
      hideCursor: true,
      clearOnComplete: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0);
  let stopped = false;
  return {
    update(done) {
      if (!stopped) bar.update(Math.min(done, total));
    },
    stop() {
      if (!stopped) {
        stopped = true;
        bar.stop();
      }
    },
  };
}

/** A Progress that reports `done` and forwards to an optional callback (library form). */
export type ProgressCallback = (done: number, total: number) => void;
