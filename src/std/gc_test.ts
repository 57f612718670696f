import { assertEquals } from "@std/assert";
import { ByteGc } from "./gc.ts";

Deno.test("ByteGc: one minor collection per `every` bytes counted, none without gc", () => {
  const g = globalThis as { gc?: unknown };
  const saved = g.gc;
  const calls: unknown[] = [];
  try {
    g.gc = (options: unknown) => calls.push(options);
    const pace = new ByteGc(100);
    for (let i = 0; i < 9; i++) pace.add(30); // 270 bytes: crossings at 120 and 240
    assertEquals(calls, [{ type: "minor" }, { type: "minor" }]);
    delete g.gc;
    const without = new ByteGc(10);
    without.add(1000); // nothing to call: no error
    assertEquals(calls.length, 2);
  } finally {
    if (saved === undefined) delete g.gc;
    else g.gc = saved;
  }
});

Deno.test("ByteGc: under --expose-gc it runs V8's own minor collection (no error, no stall)", async () => {
  const code = `import { ByteGc } from ${JSON.stringify(new URL("./gc.ts", import.meta.url).href)};
    const before = performance.now();
    new ByteGc(1).add(1);
    console.log(typeof globalThis.gc, performance.now() - before < 1000);`;
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--v8-flags=--expose-gc", code],
  }).output();
  assertEquals(new TextDecoder().decode(out.stdout).trim(), "function true");
});
