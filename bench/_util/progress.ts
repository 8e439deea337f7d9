/** A one-line progress bar on stderr (only on a terminal; plain lines otherwise, for CI logs). */
export class ProgressBar {
  readonly #total: number;
  #done = 0;
  readonly #tty = process.stderr.isTTY === true;

  constructor(total: number) {
    this.#total = total;
  }

  step(label: string): void {
    this.#done = Math.min(this.#done + 1, this.#total);
    const width = 30;
    const filled = Math.round((this.#done / this.#total) * width);
    const line = `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${this.#done}/${this.#total} ${label}`;
    if (this.#tty) process.stderr.write(`\r${line.padEnd(100).slice(0, 100)}`);
    else process.stderr.write(`${line}\n`);
  }

  end(): void {
    if (this.#tty) process.stderr.write('\n');
  }
}
