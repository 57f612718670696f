/**
 * The text of `guix-p2p seed`'s progress display and summaries.
 *
 * @example
 * ```ts
 * import { progressLine } from "./_progress.ts";
 * progressLine({ what: "the store /gnu/store", state: "indexing", total: 10, done: 5, bytes: 1024,
 *   seeded: 4, already: 1, failed: 0 }, 60);
 * // "[##########..........]  5/10  1.0 KiB read  the store /gnu/store"
 * ```
 * @module
 */
import { humanBytes } from "./_daemon.ts";

/** The fields of a seeding job the display uses. */
export interface JobProgress {
  what: string;
  state: string;
  total: number | null;
  done: number;
  seeded: number;
  already: number;
  failed: number;
  bytes: number;
}

/** One line of at most `columns` characters: a bar, counts, bytes read, what. */
export function progressLine(job: JobProgress, columns: number): string {
  const width = 20;
  const fraction = job.total ? job.done / job.total : 0;
  const filled = Math.round(fraction * width);
  const bar = job.total === null
    ? "[listing...          ]"
    : `[${"#".repeat(filled)}${".".repeat(width - filled)}]`;
  const counts = job.total === null
    ? ""
    : `  ${String(job.done).padStart(String(job.total).length)}/${job.total}`;
  const failed = job.failed > 0 ? `  ${job.failed} failed` : "";
  const line = `${bar}${counts}  ${humanBytes(job.bytes)} read${failed}  ${job.what}`;
  return line.length > columns ? line.slice(0, Math.max(0, columns - 1)) + "…" : line;
}

/** The summary line of an ended job. */
export function summaryLine(job: JobProgress): string {
  const parts = [
    `${job.seeded} item(s) newly seeded`,
    `${job.already} already seeded`,
    ...(job.failed > 0 ? [`${job.failed} failed`] : []),
  ];
  return `${job.what}: ${parts.join(", ")} (${humanBytes(job.bytes)} read)${
    job.state === "failed" ? " — FAILED" : ""
  }`;
}
