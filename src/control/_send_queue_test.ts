import { assertEquals, assertRejects } from "@std/assert";
import { SendBudget, SendQueue } from "./_send_queue.ts";

/** A connection whose writes complete, in order, only when the test releases them. */
function gatedConn() {
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

/** Resolves to "resolved" or "pending" once the microtask queue has run. */
async function state(p: Promise<unknown>): Promise<"resolved" | "pending"> {
  let done = false;
  p.then(() => done = true, () => done = true);
  for (let i = 0; i < 10; i++) await Promise.resolve();
  return done ? "resolved" : "pending";
}

Deno.test("data runs ahead up to the per-queue bound, in order with messages", async () => {
  const c = gatedConn();
  const q = new SendQueue(c.conn, { perQueue: 100, minAhead: 10, budget: new SendBudget(1000) });
  assertEquals(await state(q.message({ kind: "source" })), "resolved");
  assertEquals(await state(q.data(new Uint8Array(60))), "resolved");
  const third = q.data(new Uint8Array(60)); // 120 queued > 100
  assertEquals(await state(third), "pending");
  assertEquals(await state(q.message({ kind: "progress" })), "resolved", "messages never wait");
  (await c.next()).done(); // source
  assertEquals(await state(third), "pending");
  (await c.next()).done(); // first data: 60 queued
  assertEquals(await state(third), "resolved");
  const drained = q.drain();
  assertEquals(await state(drained), "pending");
  (await c.next()).done();
  (await c.next()).done();
  await drained;
  assertEquals(c.written, ["msg:source", "data:60", "data:60", "msg:progress"]);
  assertEquals(q.queued, 0);
});

Deno.test("queues share a budget beyond their minimum", async () => {
  const budget = new SendBudget(100);
  const a = gatedConn();
  const b = gatedConn();
  const qa = new SendQueue(a.conn, { perQueue: 1000, minAhead: 50, budget });
  const qb = new SendQueue(b.conn, { perQueue: 1000, minAhead: 50, budget });
  assertEquals(await state(qa.data(new Uint8Array(120))), "pending", "over budget and minimum");
  // b may still hold its minimum, but not more while the budget is exhausted.
  assertEquals(await state(qb.data(new Uint8Array(40))), "resolved");
  const bMore = qb.data(new Uint8Array(40));
  assertEquals(await state(bMore), "pending");
  assertEquals(budget.used, 200);
  (await a.next()).done(); // a's 120 bytes leave the budget
  assertEquals(await state(bMore), "resolved");
  (await b.next()).done();
  (await b.next()).done();
  await qa.drain();
  await qb.drain();
  assertEquals(budget.used, 0);
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
