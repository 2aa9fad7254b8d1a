// Progress reporting helpers: durations as people write them ("1m05s", never "1m60s") and a rate
// over the last few steps, so images/s and the ETA follow the current speed, not the epoch's
// average since its slow first step.

/** Formats seconds as "42s", "1m05s" or "2h03m" (rounded once, so the parts never overflow). */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '-';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  const m = Math.round(s / 60);
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

/** Items per second over a sliding window of the most recent steps. */
export class RecentRate {
  private readonly marks: [number, number][] = [];
  constructor(private readonly window = 20) {}

  /** Clears the window (e.g. at the start of an epoch, when the first step pays for warm-up). */
  reset(): void {
    this.marks.length = 0;
  }

  /** Records that `items` were done by time `nowMs`; returns the rate over the window (NaN until two marks). */
  add(items: number, nowMs: number): number {
    const total = (this.marks.at(-1)?.[1] ?? 0) + items;
    this.marks.push([nowMs, total]);
    if (this.marks.length > this.window + 1) this.marks.shift();
    const [t0, n0] = this.marks[0],
      [t1, n1] = this.marks[this.marks.length - 1];
    return t1 > t0 ? ((n1 - n0) * 1000) / (t1 - t0) : NaN;
  }
}

/**
 * Plain progress lines on stderr for work that may take a while: nothing for the first 2 seconds
 * (short work stays quiet), then a line at each further tenth of the total.
 */
export class QuietProgress {
  private readonly start = Date.now();
  private lastTenth = 0;
  constructor(
    private readonly label: string,
    private readonly total: number,
    private readonly unit: string,
    private readonly write: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
  ) {}

  /** Reports `done` of the total. */
  update(done: number): void {
    const tenth = Math.floor((10 * done) / this.total);
    if (tenth <= this.lastTenth || done >= this.total) return;
    this.lastTenth = tenth;
    const elapsed = (Date.now() - this.start) / 1000;
    if (elapsed < 2) return;
    const eta = formatDuration((elapsed * (this.total - done)) / done);
    this.write(
      `${this.label}: ${Math.round((100 * done) / this.total)}% (${done.toLocaleString('en-US')} of ${this.total.toLocaleString('en-US')} ${this.unit}), ETA ${eta}`,
    );
  }
}
