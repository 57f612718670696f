/**
 * `config check` refuses what the daemon cannot start with (issue 10 item
 * 7e): a QUIC listen address passed validation, then the daemon failed with
 * libp2p's "No transport was configured".
 */
import { assertEquals, assertStringIncludes } from "@std/assert";
import { runCli } from "./support/daemon_proc.ts";

Deno.test("config check rejects a /udp/…/quic-v1 listen address: only TCP is supported", async () => {
  const dir = await Deno.makeTempDir();
  try {
    await Deno.writeTextFile(`${dir}/c.toml`, 'listen = ["/ip4/0.0.0.0/udp/6881/quic-v1"]\n');
    const out = await runCli(["config", "check", `${dir}/c.toml`]);
    const err = out.stderr;
    assertEquals(out.code, 1, err);
    assertStringIncludes(err, `${dir}/c.toml:1: key "listen"`);
    assertStringIncludes(err, "only TCP listen addresses are supported");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
