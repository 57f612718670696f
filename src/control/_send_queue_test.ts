import { assertEquals, assertRejects } from "@std/assert";
import { SendBudget, SendQueue } from "./_send_queue.ts";

/**
 * A connection whose writes complete, in order, only when the test releases
 * them; each completion is recorded in `timeline` as `wrote WHAT`.
 */
function gatedConn(timeline: string[] = []) {
  const written: string[] = [];
  const pending: { what: string; done: () => void; fail: (e: Error) => void }[] = [];
  const waiters: (() => void)[] = [];
  let chain = Promise.resolve();
  const write = (what: string) => {
    const run = chain.then(() =>
      new Promise<void>((resolve, reject) => {
        pending.push({
          what,
          done: () => {
            written.push(what);
            timeline.push(`wrote ${what}`);
            resolve();
          },
          fail: reject,
        });
        waiters.splice(0).forEach((w) => w());
      })
    );
    chain = run.catch(() => {});
    return run;
  };
  return {
    conn: {
      sendData: (bytes: Uint8Array) => write(`data:${bytes.length}`),
      sendMessage: (m: unknown) => write(`msg:${(m as { kind: string }).kind}`),
    },
    written,
    /** The write now in progress (waits, bounded, for one to start). */
    async next() {
      const deadline = Date.now() + 2000;
      while (pending.length === 0) {
        if (Date.now() > deadline) throw new Error("no write started within 2 s");
        await new Promise<void>((r) => {
          waiters.push(r);
          setTimeout(r, 50);
        });
      }
      return pending.shift()!;
    },
  };
}

/** Records `name` in `timeline` when `p` settles; returns `p`. */
function track<T>(timeline: string[], name: string, p: Promise<T>): Promise<T> {
  p.then(() => timeline.push(name), () => timeline.push(`${name} (rejected)`));
  return p;
}

/** `p`, which must settle while no write is released (bounded: fails after 2 s). */
async function settles<T>(p: Promise<T>, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: still waiting after 2 s`)), 2000);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

// Each test records, in one timeline, the writes the connection completes and the
// moments the queue's promises settle: a call that must wait for a write shows up
// after that write, whatever the scheduling.

Deno.test("data runs ahead up to the per-queue bound, in order with messages", async () => {
  const timeline: string[] = [];
  const c = gatedConn(timeline);
  const q = new SendQueue(c.conn, { perQueue: 100, minAhead: 10, budget: new SendBudget(1000) });
  await settles(q.message({ kind: "source" }), "a message");
  await settles(q.data(new Uint8Array(60)), "data within the bound");
  const third = track(timeline, "third data accepted", q.data(new Uint8Array(60))); // 120 > 100
  await settles(q.message({ kind: "progress" }), "messages never wait");
  (await c.next()).done(); // source
  (await c.next()).done(); // first data: 60 queued
  await settles(third, "the third data once 60 bytes left");
  const drained = track(timeline, "drained", q.drain());
  (await c.next()).done();
  (await c.next()).done();
  await drained;
  assertEquals(timeline, [
    "wrote msg:source",
    "wrote data:60",
    "third data accepted",
    "wrote data:60",
    "wrote msg:progress",
    "drained",
  ]);
  assertEquals(c.written, ["msg:source", "data:60", "data:60", "msg:progress"]);
  assertEquals(q.queued, 0);
});

Deno.test("queues share a budget beyond their minimum", async () => {
  const timeline: string[] = [];
  const budget = new SendBudget(100);
  const a = gatedConn(timeline);
  const b = gatedConn(timeline);
  const qa = new SendQueue(a.conn, { perQueue: 1000, minAhead: 50, budget });
  const qb = new SendQueue(b.conn, { perQueue: 1000, minAhead: 50, budget });
  const aData = track(timeline, "a accepted", qa.data(new Uint8Array(120))); // over budget and minimum
  // b may still hold its minimum, but not more while the budget is exhausted.
  await settles(qb.data(new Uint8Array(40)), "b within its minimum");
  const bMore = track(timeline, "b's second accepted", qb.data(new Uint8Array(40)));
  assertEquals(budget.used, 200);
  (await a.next()).done(); // a's 120 bytes leave the budget
  await settles(bMore, "b once the budget has room");
  await settles(aData, "a once its bytes left");
  (await b.next()).done();
  (await b.next()).done();
  await qa.drain();
  await qb.drain();
  assertEquals(budget.used, 0);
  assertEquals(timeline.slice(0, 3).sort(), [
    "a accepted",
    "b's second accepted",
    "wrote data:120",
  ]);
  assertEquals(timeline[0], "wrote data:120", "nothing over the budget was accepted before");
});

Deno.test("a failed write is reported by the next call and by drain", async () => {
  const c = gatedConn();
  const q = new SendQueue(c.conn, { perQueue: 10, minAhead: 10, budget: new SendBudget(10) });
  const blocked = q.data(new Uint8Array(20));
  (await c.next()).fail(new Error("broken pipe"));
  await assertRejects(() => blocked, Error, "broken pipe");
  await assertRejects(() => q.data(new Uint8Array(1)), Error, "broken pipe");
  await assertRejects(() => q.message({ kind: "progress" }), Error, "broken pipe");
  await assertRejects(() => q.drain(), Error, "broken pipe");
});
