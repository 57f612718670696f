/**
 * The js-libp2p runtime patches (src/p2p/runtime_patches.ts), each in a fresh
 * Deno process: without the patch the process cannot exit (so the patch is
 * still needed: these tests fail once a Deno release fixes the cause, and the
 * patch can go), with it the process exits and the patched API behaves.
 *
 * A probe tells whether something keeps the event loop alive: an unref'd
 * timer prints "alive" when it fires, which it can only do while something
 * else holds the loop open; otherwise the process exits first, silently.
 *
 * @module
 */
import { assertEquals } from "@std/assert";

const PATCHES = new URL("../src/p2p/runtime_patches.ts", import.meta.url).href;
const PROBE = `setTimeout(() => { console.log("alive"); Deno.exit(0); }, 300).unref();`;

async function run(code: string): Promise<string[]> {
  const out = await new Deno.Command(Deno.execPath(), {
    args: ["eval", "--no-check", code],
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(30_000),
  }).output();
  const err = new TextDecoder().decode(out.stderr);
  assertEquals(out.success, true, err);
  return new TextDecoder().decode(out.stdout).trim().split("\n").filter((l) => l !== "");
}

const MORTICE = `
  const channel = new BroadcastChannel("mortice");
  channel.addEventListener("message", () => {});
  channel.unref?.(); // what mortice does`;
const TIMEOUT = `
  AbortSignal.timeout(60_000).addEventListener("abort", () => {}); // what libp2p leaves behind`;

Deno.test("runtime patches: Deno's BroadcastChannel still has no unref(), so mortice's channel holds the process", async () => {
  assertEquals(
    await run(`console.log("unref" in BroadcastChannel.prototype);\n${MORTICE}\n${PROBE}`),
    ["false", "alive"],
  );
});

Deno.test("runtime patches: Deno still keeps AbortSignal.timeout's timer ref'd while listened to", async () => {
  assertEquals(await run(`${TIMEOUT}\n${PROBE}`), ["alive"]);
});

Deno.test("runtime patches: once applied (idempotently), both let the process exit; timeouts still abort", async () => {
  const lines = await run(`
    import { applyDenoLibp2pPatches } from ${JSON.stringify(PATCHES)};
    console.log(JSON.stringify(applyDenoLibp2pPatches()));
    const timeout = AbortSignal.timeout;
    applyDenoLibp2pPatches();
    console.log(AbortSignal.timeout === timeout ? "once" : "twice");
    const signal = AbortSignal.timeout(5);
    await new Promise((resolve) => signal.addEventListener("abort", resolve));
    console.log(signal.reason.name);
    ${MORTICE}
    ${TIMEOUT}
    ${PROBE}`);
  assertEquals(lines, [
    '{"broadcastChannelUnref":true,"abortSignalTimeout":true}',
    "once",
    "TimeoutError",
  ]);
});
