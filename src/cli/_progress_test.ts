import { assertEquals } from "@std/assert";
import { progressLine, summaryLine } from "./_progress.ts";

const job = {
  what: "closure of /gnu/store/x-profile",
  state: "indexing",
  total: 40,
  done: 10,
  seeded: 8,
  already: 1,
  failed: 1,
  bytes: 3 * 1024 * 1024,
};

Deno.test("progress line and summary", () => {
  assertEquals(
    progressLine(job, 100),
    "[#####...............]  10/40  3.0 MiB read  1 failed  closure of /gnu/store/x-profile",
  );
  assertEquals(progressLine({ ...job, total: null }, 30), "[listing...          ]  3.0 M…");
  assertEquals(
    summaryLine({ ...job, state: "done", done: 40 }),
    "closure of /gnu/store/x-profile: 8 item(s) newly seeded, 1 already seeded, 1 failed (3.0 MiB read)",
  );
});
