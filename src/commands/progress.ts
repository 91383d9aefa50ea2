// Progress for long commands: a cli-progress bar on stderr, only when stderr is a terminal,
// and only once the work has taken more than a second (short runs print nothing extra).
// Pipes, CI logs and tests never see it.
import type { SingleBar } from 'cli-progress';

export interface Progress {
  /** Report `done` units out of `total` (0 when unknown). Cheap: call it per batch. */
  update(done: number, total: number): void;
  stop(): void;
}

const DELAY_MS = 1000;

export function progress(label: string, stream: NodeJS.WriteStream = process.stderr, unit = ''): Progress {
  if (!stream.isTTY) return { update() {}, stop() {} };
  const started = Date.now();
  let bar: SingleBar | null = null;
  let loading = false;
  let stopped = false;
  let last = { done: 0, total: 0 };
  const show = async () => {
    loading = true;
    const { SingleBar, Presets } = await import('cli-progress');
    if (stopped) return;
    bar = new SingleBar({
      stream, format: `${label} [{bar}] {percentage}% | {value}/{total}${unit ? ` ${unit}` : ''} | {duration_formatted}`,
      hideCursor: true, clearOnComplete: true, barsize: 30,
    }, Presets.shades_classic);
    bar.start(last.total || 1, last.done);
  };
  return {
    update(done, total) {
      if (total <= 0) return; // nothing to measure against (a trace.dat read through trace-cmd)
      last = { done, total };
      if (bar) { if (total > 0) bar.setTotal(total); bar.update(done); return; }
      // Work that is done by the time the second has passed needs no bar at all.
      if (!loading && !stopped && done < total && Date.now() - started >= DELAY_MS) void show();
    },
    stop() { stopped = true; bar?.stop(); bar = null; },
  };
}
