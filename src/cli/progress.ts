// A one-line terminal progress bar (redrawn in place on a TTY, one line per update otherwise).

export class ProgressBar {
  private readonly t0 = Date.now();
  /** `budgetS`: a time budget; the bar then fills with time or steps, whichever runs out first. */
  constructor(private readonly total: number, private readonly write: (s: string) => void, private readonly tty: boolean, private readonly budgetS?: number) {}

  update(done: number, note: string): void {
    const width = 24;
    const elapsed = (Date.now() - this.t0) / 1000;
    const byTime = this.budgetS !== undefined ? elapsed / this.budgetS : 0;
    const frac = Math.max(byTime, this.total > 0 ? done / this.total : 1);
    const filled = Math.round(Math.min(1, frac) * width);
    const bySteps = done > 0 ? (elapsed / done) * (this.total - done) : NaN;
    const eta = this.budgetS !== undefined ? Math.min(Math.max(0, this.budgetS - elapsed), Number.isFinite(bySteps) ? bySteps : Infinity) : bySteps;
    const count = this.budgetS !== undefined ? `step ${done}` : `${String(done).padStart(String(this.total).length)}/${this.total}`;
    const line = `${count} [${"#".repeat(filled)}${"-".repeat(width - filled)}] ${fmt(elapsed)} elapsed, ETA ${Number.isFinite(eta) ? fmt(eta) : "?"} | ${note}`;
    this.write(this.tty ? `\r\x1b[2K${line}` : `${line}\n`);
  }

  done(): void {
    if (this.tty) this.write("\n");
  }
}

function fmt(s: number): string {
  if (s < 60) return `${s.toFixed(0)}s`;
  const m = Math.floor(s / 60);
  return m < 60 ? `${m}m${String(Math.round(s % 60)).padStart(2, "0")}s` : `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
