import { assertEquals, assertInstanceOf, assertRejects, assertStringIncludes } from "@std/assert";
import { engineStream } from "./_engine_stream.ts";
import { processEngine } from "./_process_engine.ts";
import { DecompressionError } from "./errors.ts";
import type { ChildProcess, ProcessRunner, ProcessStatus } from "./process.ts";

/** An in-memory child: echoes stdin to stdout, then exits with `code` and `stderr`. */
function fakeRunner(code: number, stderr: string) {
  const spawned: { path: string; args: readonly string[]; killed: boolean }[] = [];
  const runner: ProcessRunner = {
    which: (name) => `/usr/bin/${name}`,
    spawn(path, args): ChildProcess {
      const record = { path, args, killed: false };
      spawned.push(record);
      const { promise: status, resolve } = Promise.withResolvers<ProcessStatus>();
      const echo = new TransformStream<Uint8Array, Uint8Array>({
        flush: () => resolve({ code, signal: null }),
      });
      return {
        stdin: echo.writable,
        stdout: echo.readable,
        stderr: new Blob([stderr]).stream(),
        status,
        kill() {
          record.killed = true;
          resolve({ code: -1, signal: "SIGKILL" });
        },
      };
    },
  };
  return { runner, spawned };
}

const command = { format: "xz", path: "/usr/bin/xz", args: ["-dcq"] };

Deno.test("processEngine: output passes through; nothing is spawned until used", async () => {
  const { runner, spawned } = fakeRunner(0, "");
  const pair = engineStream(processEngine(runner, command), { format: "xz" });
  assertEquals(spawned.length, 0);
  const out = await new Response(
    new Blob([new Uint8Array([1, 2, 3])]).stream().pipeThrough(pair),
  ).arrayBuffer();
  assertEquals(Array.from(new Uint8Array(out)), [1, 2, 3]);
  assertEquals(spawned.map((s) => [s.path, s.args]), [["/usr/bin/xz", ["-dcq"]]]);
});

Deno.test("processEngine: a non-zero exit names the command, the status and stderr", async () => {
  const { runner } = fakeRunner(1, "xz: (stdin): File format not recognized\n");
  const error = await assertRejects(() =>
    new Blob(["junk"]).stream().pipeThrough(engineStream(processEngine(runner, command), {
      format: "xz",
    })).pipeTo(new WritableStream())
  );
  assertInstanceOf(error, DecompressionError);
  assertEquals(
    error.message,
    "xz decompression failed: `xz -dcq` exited with status 1: xz: (stdin): File format not recognized",
  );
});

Deno.test("processEngine: a warning on stderr can fail a zero exit", async () => {
  const { runner } = fakeRunner(0, "bzip2: (stdin): trailing garbage after EOF ignored\n");
  const engine = processEngine(runner, {
    format: "bzip2",
    path: "/bin/bzip2",
    args: ["-dc"],
    failOnStderr: /trailing garbage after EOF/,
  });
  const error = await assertRejects(() =>
    new Blob(["x"]).stream().pipeThrough(engineStream(engine, { format: "bzip2" }))
      .pipeTo(new WritableStream())
  );
  assertInstanceOf(error, DecompressionError);
  assertStringIncludes(error.message, "`bzip2 -dc` exited with status 0: bzip2: (stdin): trailing");
});

Deno.test("processEngine: cancelling kills the child", async () => {
  const { runner, spawned } = fakeRunner(0, "");
  const pair = engineStream(processEngine(runner, command), { format: "xz" });
  const writer = pair.writable.getWriter();
  const reader = pair.readable.getReader();
  void writer.write(new Uint8Array([1])).catch(() => {});
  assertEquals((await reader.read()).value, new Uint8Array([1]));
  await reader.cancel(new Error("enough"));
  assertEquals(spawned[0]!.killed, true);
  await assertRejects(() => writer.write(new Uint8Array([2])), Error, "enough");
});
