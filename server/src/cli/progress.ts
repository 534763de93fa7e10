/**
 * A one-line progress bar on stderr. On a terminal it redraws in place (at most ten times a second);
 * anywhere else (a pipe, a log file, CI) it stays silent and only the final line is written.
 */

export interface ProgressOptions {
  /** What is being counted, e.g. "Importing". */
  label: string;
  /** The unit after the counts, e.g. "rows". */
  unit: string;
  total?: number | null | undefined;
  stream?: NodeJS.WriteStream;
  /** Redraws no more often than this, in ms. */
  intervalMs?: number;
}

const fmt = (value: number) => value.toLocaleString('en-US');

export class ProgressBar {
  private readonly stream: NodeJS.WriteStream;
  private readonly live: boolean;
  private readonly intervalMs: number;
  private readonly started = Date.now();
  private total: number | null;
  private done = 0;
  private lastDraw = 0;
  private drawn = false;
  private ended = false;

  constructor(private readonly options: ProgressOptions) {
    this.stream = options.stream ?? process.stderr;
    this.live = Boolean(this.stream.isTTY);
    this.total = options.total ?? null;
    this.intervalMs = options.intervalMs ?? 100;
  }

  /** Records progress; redraws when on a terminal and the last redraw is old enough. */
  update(done: number, total?: number | null): void {
    if (this.ended) return;
    this.done = done;
    if (total !== undefined && total !== null) this.total = total;
    if (!this.live) return;
    const now = Date.now();
    if (now - this.lastDraw < this.intervalMs && done !== this.total) return;
    this.lastDraw = now;
    this.draw();
  }

  /** Ends the bar with one final line (written on a terminal or not). */
  finish(line?: string): void {
    if (this.ended) return;
    this.clear();
    this.ended = true;
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    const counts = this.total === null ? fmt(this.done) : `${fmt(this.done)}/${fmt(this.total)}`;
    this.stream.write(`${line ?? `${this.options.label}: ${counts} ${this.options.unit}`} (${seconds} s)\n`);
  }

  /** Ends the bar without a final line (an error message follows). */
  stop(): void {
    if (this.ended) return;
    this.clear();
    this.ended = true;
  }

  /** The line a terminal shows, for a given width. */
  render(width: number): string {
    const { label, unit } = this.options;
    if (this.total === null || this.total <= 0) return `${label} ${fmt(this.done)} ${unit}`.slice(0, width);
    const ratio = Math.min(1, this.done / this.total);
    const text = `${String(Math.floor(ratio * 100)).padStart(3)}% ${fmt(this.done)}/${fmt(this.total)} ${unit}`;
    const barWidth = Math.max(0, Math.min(30, width - label.length - text.length - 4));
    const filled = Math.round(ratio * barWidth);
    const bar = barWidth ? ` [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]` : '';
    return `${label}${bar} ${text}`.slice(0, width);
  }

  private draw(): void {
    const width = Math.max(20, (this.stream.columns || 80) - 1);
    this.stream.write(`\r${this.render(width)}\x1b[K`);
    this.drawn = true;
  }

  private clear(): void {
    if (this.live && this.drawn) this.stream.write('\r\x1b[K');
    this.drawn = false;
  }
}
