// A progress bar on stderr for long commands (studies): redrawn in place on a terminal, one line per ~10 % when
// stderr is a file or pipe, so logs stay readable. Shows done/total, the rate and the time left.
export class ProgressBar {
  private readonly t0 = performance.now();
  private lastDecile = -1;

  constructor(
    private readonly total: number,
    private readonly label: string,
    private readonly out: NodeJS.WriteStream = process.stderr,
  ) {}

  /** The bar's text for `done` items (exported for tests through render()). */
  render(done: number, nowMs = performance.now()): string {
    const width = 24;
    const frac = this.total > 0 ? Math.min(1, done / this.total) : 1;
    const filled = Math.round(frac * width);
    const elapsed = (nowMs - this.t0) / 1000;
    const left = done > 0 ? (elapsed / done) * (this.total - done) : NaN;
    const eta = Number.isFinite(left) ? `, ${left.toFixed(0)} s left` : '';
    return `${this.label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${this.total}${eta}`;
  }

  update(done: number): void {
    if (this.out.isTTY) {
      this.out.write(`\r${this.render(done)}\x1b[K`);
      return;
    }
    const decile = this.total > 0 ? Math.floor((done / this.total) * 10) : 10;
    if (decile !== this.lastDecile) {
      this.lastDecile = decile;
      this.out.write(this.render(done) + '\n');
    }
  }

  finish(): void {
    if (this.out.isTTY) this.out.write('\n');
  }
}
