import { assertEquals, assertRejects } from "@std/assert";
import { DeadlineError, fetchDeadlineMs, withDeadline } from "./deadline.ts";

Deno.test("fetchDeadlineMs: grace plus NarSize at the minimum rate", () => {
  assertEquals(
    fetchDeadlineMs(16384 * 10, { helper_min_rate: 16384, helper_deadline_grace: 600 }),
    610_000,
  );
});

Deno.test("withDeadline: an endless iterator is cut at the deadline and closed", async () => {
  const closed = Promise.withResolvers<void>();
  async function* endless() {
    try {
      for (;;) {
        await new Promise((r) => setTimeout(r, 10));
        yield 1;
      }
    } finally {
      closed.resolve();
    }
  }
  let n = 0;
  const t0 = Date.now();
  await assertRejects(async () => {
    for await (const _ of withDeadline(endless(), 200, "/s/x")) n++;
  }, DeadlineError);
  assertEquals(Date.now() - t0 < 2000, true);
  assertEquals(n > 0, true);
  await closed.promise; // the inner iterator was closed
  // A silent iterator too.
  const silent = (async function* () {
    await new Promise(() => {});
    yield 1;
  })();
  await assertRejects(() => withDeadline(silent, 100, "/s/y").next(), DeadlineError, "/s/y");
});
