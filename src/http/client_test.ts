import { assertEquals, assertRejects } from "@std/assert";
import { startFileServer } from "../../tests/support/http_server.ts";
import { httpGet, httpGetSmall } from "./client.ts";
import { HttpNetworkError, HttpTimeoutError } from "./errors.ts";

const T = { sanitizeOps: false, sanitizeResources: false };

Deno.test(
  "httpGetSmall: text for 200, none for other statuses, size and time bounds",
  T,
  async () => {
    const dir = await Deno.makeTempDir();
    await Deno.writeTextFile(`${dir}/a.narinfo`, "StorePath: /gnu/store/x\n");
    await Deno.writeTextFile(`${dir}/big.narinfo`, "x".repeat(5000));
    await using server = await startFileServer({ root: dir });
    try {
      const ok = await httpGetSmall(`${server.url}/a.narinfo`, { maxBytes: 1000 });
      assertEquals([ok.status, ok.text], [200, "StorePath: /gnu/store/x\n"]);
      const missing = await httpGetSmall(`${server.url}/none.narinfo`, { maxBytes: 1000 });
      assertEquals([missing.status, missing.text], [404, undefined]);
      server.faults.push({ match: /a\.narinfo$/, action: "status", status: 500, count: 1 });
      assertEquals((await httpGetSmall(`${server.url}/a.narinfo`, { maxBytes: 1000 })).status, 500);

      await assertRejects(
        () => httpGetSmall(`${server.url}/big.narinfo`, { maxBytes: 1000 }),
        HttpNetworkError,
        "big.narinfo: response larger than 1000 bytes",
      );
      // The same without Content-Length: the cap applies while reading.
      await using chunked = await startFileServer({ root: dir, noContentLength: true });
      await assertRejects(
        () => httpGetSmall(`${chunked.url}/big.narinfo`, { maxBytes: 1000 }),
        HttpNetworkError,
        "response larger than 1000 bytes",
      );

      server.faults.push({ match: /a\.narinfo$/, action: "slow", seconds: 2, count: 1 });
      await assertRejects(
        () => httpGetSmall(`${server.url}/a.narinfo`, { maxBytes: 1000, headerTimeoutMs: 200 }),
        HttpTimeoutError,
        "no response headers within 0.2 s",
      );
      server.faults.push({ match: /big\.narinfo$/, action: "stall", seconds: 2, count: 1 });
      await assertRejects(
        () => httpGetSmall(`${server.url}/big.narinfo`, { maxBytes: 10_000, stallTimeoutMs: 200 }),
        HttpTimeoutError,
        "body not complete within 0.2 s",
      );
      const file = await httpGetSmall(`file://${dir}/a.narinfo`, { maxBytes: 1000 });
      assertEquals([file.status, file.text], [200, "StorePath: /gnu/store/x\n"]);
      assertEquals((await httpGetSmall(`file://${dir}/none`, { maxBytes: 1000 })).status, 404);
    } finally {
      await Deno.remove(dir, { recursive: true });
    }
  },
);

Deno.test("httpGetSmall: an aborted signal rejects with its reason", T, async () => {
  const dir = await Deno.makeTempDir();
  await Deno.writeTextFile(`${dir}/a.narinfo`, "x");
  await using server = await startFileServer({ root: dir });
  try {
    server.faults.push({ match: /a\.narinfo$/, action: "slow", seconds: 2, count: 1 });
    const controller = new AbortController();
    const request = httpGetSmall(`${server.url}/a.narinfo`, {
      maxBytes: 10,
      signal: controller.signal,
    });
    controller.abort(new Error("client went away"));
    await assertRejects(() => request, Error, "client went away");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("file:// opens regular files only: a FIFO, a device or a link to them is a 404", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const mk = await new Deno.Command("mkfifo", { args: [`${dir}/fifo`] }).output();
    assertEquals(mk.success, true);
    await Deno.symlink(`${dir}/fifo`, `${dir}/fifo-link`);
    await Deno.symlink("/dev/zero", `${dir}/zero-link`);
    await Deno.writeTextFile(`${dir}/file`, "bytes");
    for (const p of ["fifo", "fifo-link", "zero-link"]) {
      const res = await httpGet(`file://${dir}/${p}`, { signal: AbortSignal.timeout(5000) });
      assertEquals(res.status, 404, p);
      await res.body.cancel();
    }
    assertEquals((await httpGet("file:///dev/zero")).status, 404);
    const ok = await httpGetSmall(`file://${dir}/file`, { maxBytes: 100 });
    assertEquals([ok.status, ok.text], [200, "bytes"]);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
