/**
 * Progress output on stderr in Guix's own formats (guix/progress.scm):
 * `@ download-started/progress/succeeded` build-trace lines when
 * `print-extended-build-trace` is set, else "Downloading URL..." and a
 * progress bar redrawn with `\r\x1b[K`. Rate-limited to one update per 200 ms.
 *
 * @example
 * ```ts
 * import { ProgressReporter } from "./traces.ts";
 * const p = new ProgressReporter((s) => console.error(s), { buildTrace: true, columns: 80 });
 * p.start("/gnu/store/…-hello", "https://ci/nar/zstd/…", 1234);
 * p.report(600);
 * p.finish();
 * ```
 * @module
 */

/** Options of {@linkcode ProgressReporter}. */
export interface ProgressOptions {
  /** Trace lines (true) or a human progress bar (false). */
  buildTrace: boolean;
  /** Terminal width for the bar. */
  columns: number;
  /** Clock in ms (tests). */
  now?: () => number;
}

const INTERVAL_MS = 200;

/** Reports one download. */
export class ProgressReporter {
  #write: (text: string) => void;
  #options: ProgressOptions;
  #now: () => number;
  #dest = "";
  #url = "";
  #size: number | undefined;
  #transferred = 0;
  #last = -Infinity;
  #started = 0;
  #active = false;

  /** `write` receives complete text chunks for stderr. */
  constructor(write: (text: string) => void, options: ProgressOptions) {
    this.#write = write;
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** A download of `url` into `dest` starts; `size` is the download size when known. */
  start(dest: string, url: string, size: number | undefined): void {
    if (this.#active) this.finish();
    this.#dest = dest;
    this.#url = url;
    this.#size = size;
    this.#transferred = 0;
    this.#last = -Infinity;
    this.#started = this.#now();
    this.#active = true;
    if (this.#options.buildTrace) {
      this.#write(`@ download-started ${dest} ${url} ${size ?? "-"}\n`);
    } else {
      this.#write(`Downloading ${url}...\n`);
    }
  }

  /** `transferred` bytes (of the download, i.e. compressed for HTTP) have arrived. */
  report(transferred: number): void {
    if (!this.#active) return;
    this.#transferred = transferred;
    const now = this.#now();
    if (now - this.#last < INTERVAL_MS) return;
    this.#last = now;
    this.#emit();
  }

  /** The download completed. */
  finish(): void {
    if (!this.#active) return;
    this.#active = false;
    const size = this.#size ?? this.#transferred;
    if (this.#options.buildTrace) {
      this.#write(`@ download-progress ${this.#dest} ${this.#url} ${this.#size ?? "-"} ${size}\n`);
      this.#write(`@ download-succeeded ${this.#dest} ${this.#url} ${size}\n`);
    } else {
      this.#transferred = size;
      this.#emit();
      this.#write("\n\n");
    }
  }

  /** The download was abandoned (no success line is printed). */
  abandon(): void {
    if (!this.#active) return;
    this.#active = false;
    if (!this.#options.buildTrace) this.#write("\n");
  }

  #emit(): void {
    if (this.#options.buildTrace) {
      this.#write(
        `@ download-progress ${this.#dest} ${this.#url} ${
          this.#size ?? "-"
        } ${this.#transferred}\n`,
      );
      return;
    }
    const elapsed = Math.max(0.001, (this.#now() - this.#started) / 1000);
    const rate = `${human(this.#transferred / elapsed)}/s`;
    const name = this.#dest.slice(this.#dest.lastIndexOf("/") + 1);
    const amount = human(this.#transferred);
    let line: string;
    if (this.#size) {
      const pct = Math.min(100, (100 * this.#transferred) / this.#size);
      const barWidth = Math.max(10, this.#options.columns - name.length - 40);
      const filled = Math.round((barWidth * pct) / 100);
      line = `${name}  ${amount}  ${rate} [${"#".repeat(filled)}${" ".repeat(barWidth - filled)}] ${
        pct.toFixed(1)
      }%`;
    } else {
      line = `${name}  ${amount}  ${rate}`;
    }
    this.#write(`\r\x1b[K${line.slice(0, this.#options.columns)}`);
  }
}

function human(bytes: number): string {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let n = bytes;
  let i = 0;
  while (n >= 1024 && i < units.length - 1) {
    n /= 1024;
    i++;
  }
  return `${n.toFixed(i === 0 ? 0 : 1)}${units[i]}`;
}
