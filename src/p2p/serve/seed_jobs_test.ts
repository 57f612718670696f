import { assertEquals, assertGreater } from "@std/assert";
import { Fifo, type IndexOutcome, type SeedJob, SeedJobs } from "./seed_jobs.ts";

function waitEnd(jobs: SeedJobs, id: number): Promise<SeedJob> {
  return new Promise((resolve) => {
    const t = setInterval(() => {
      const j = jobs.get(id);
      if (j && j.finishedAt !== null) {
        clearInterval(t);
        resolve(j);
      }
    }, 5);
  });
}

Deno.test("SeedJobs: items one at a time, counted per job, urgent ones first", async () => {
  const order: string[] = [];
  let active = 0;
  let maxActive = 0;
  const jobs = new SeedJobs({
    rate: 0,
    index: async (path, _origin, throttle) => {
      active++;
      maxActive = Math.max(maxActive, active);
      await throttle(1000);
      await new Promise((r) => setTimeout(r, 2));
      order.push(path);
      active--;
      if (path === "/s/bad") throw new Error("unreadable");
      return path === "/s/old" ? { kind: "already" } : { kind: "seeded", narSize: 1000 };
    },
  });
  const job = jobs.submit(
    "three",
    () => Promise.resolve({ items: ["/s/a", "/s/old", "/s/bad"], rule: "test" }),
    "explicit",
  );
  const urgent = jobs.urgent("/s/auto", async (throttle): Promise<IndexOutcome> => {
    await throttle(10);
    order.push("/s/auto");
    return { kind: "seeded", narSize: 10 };
  });
  assertEquals(await urgent, { kind: "seeded", narSize: 10 });
  const done = await waitEnd(jobs, job.id);
  assertEquals(maxActive, 1);
  assertEquals(order[0], "/s/auto", "the substituted item goes before the job's items");
  assertEquals(
    [done.state, done.total, done.done, done.seeded, done.already, done.failed, done.bytes],
    ["done", 3, 3, 1, 1, 1, 3000],
  );
  assertEquals(done.errors, ["/s/bad: unreadable"]);
  const failed = jobs.submit("x", () => Promise.reject(new Error("no guix-daemon")), "explicit");
  const f = await waitEnd(jobs, failed.id);
  assertEquals([f.state, f.errors], ["failed", ["no guix-daemon"]]);
  assertEquals(jobs.list().map((j) => j.id), [failed.id, job.id]);
});

Deno.test("SeedJobs: the read rate is bounded", async () => {
  const jobs = new SeedJobs({
    rate: 4 << 20, // 4 MiB/s, burst 4 MiB
    index: async (_p, _o, throttle) => {
      for (let i = 0; i < 12; i++) await throttle(1 << 20);
      return { kind: "seeded", narSize: 12 << 20 };
    },
  });
  const t0 = performance.now();
  const job = jobs.submit(
    "12 MiB",
    () => Promise.resolve({ items: ["/s/a"], rule: "test" }),
    "explicit",
  );
  const done = await waitEnd(jobs, job.id);
  const seconds = (performance.now() - t0) / 1000;
  assertEquals(done.bytes, 12 << 20);
  // 4 MiB come from the burst, the other 8 MiB at 4 MiB/s: about 2 s.
  assertGreater(seconds, 1.7);
});

Deno.test("Fifo: order kept across compactions", () => {
  const q = new Fifo<number>();
  for (let i = 0; i < 5000; i++) q.push(i);
  for (let i = 0; i < 3000; i++) assertEquals(q.shift(), i);
  q.push(5000);
  assertEquals(q.length, 2001);
  assertEquals(q.toArray()[0], 3000);
  const rest = [];
  for (let x = q.shift(); x !== undefined; x = q.shift()) rest.push(x);
  assertEquals(rest.length, 2001);
  assertEquals(rest.at(-1), 5000);
});
