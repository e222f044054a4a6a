/**
 * A progress bar on stderr: redrawn in place on a terminal, a line per tenth of the work otherwise
 * (logs stay readable).
 * @module
 */
export class Progress {
  private lastTenth = -1;
  private readonly tty: boolean;

  constructor(
    private readonly label: string,
    readonly total: number,
    private readonly unit: [one: string, many: string] = ['batch', 'batches'],
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {
    this.tty = Boolean(out.isTTY);
  }

  /** `done` of `total` finished after `seconds`. */
  update(done: number, seconds: number): void {
    const [one, many] = this.unit;
    const frac = this.total > 0 ? done / this.total : 1;
    const rate = done > 0 ? seconds / done : 0;
    const eta = done > 0 && done < this.total ? ` eta ${fmtSeconds(rate * (this.total - done))}` : '';
    const text = `${this.label} ${done}/${this.total} ${this.total === 1 ? one : many} ${fmtSeconds(seconds)} (${fmtSeconds(rate)}/${one})${eta}`;
    if (this.tty) {
      const width = 24, fill = Math.round(frac * width);
      this.out.write(`\r[${'#'.repeat(fill)}${'.'.repeat(width - fill)}] ${text}\x1b[K${done === this.total ? '\n' : ''}`);
      return;
    }
    const tenth = Math.floor(frac * 10);
    if (tenth > this.lastTenth || done === this.total) {
      this.lastTenth = tenth;
      this.out.write(`${text}\n`);
    }
  }
}

export function fmtSeconds(s: number): string {
  if (s < 1) return `${(s * 1000).toFixed(0)} ms`;
  if (s < 120) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
  return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

export function fmtBytes(b: number): string {
  if (b < 1e3) return `${b} B`;
  if (b < 1e6) return `${(b / 1e3).toFixed(1)} kB`;
  if (b < 1e9) return `${(b / 1e6).toFixed(2)} MB`;
  return `${(b / 1e9).toFixed(3)} GB`;
}
