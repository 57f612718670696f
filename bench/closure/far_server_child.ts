/**
 * The substitute server of the closure benchmark's far network, run inside
 * its namespace by `far.ts`: the signed cache under ROOT served on HOST, once
 * whole (PORT) and once without NARs (NARLESS_PORT, every NAR 404: the
 * p2p-only contenders). Prints READY, stops on SIGTERM.
 *
 *   deno run -A far_server_child.ts ROOT HOST PORT NARLESS_PORT
 *
 * @module
 */
import { startFileServer } from "../../tests/support/http_server.ts";

const [root, hostname, port, narlessPort] = Deno.args;
if (!root || !hostname || !port || !narlessPort) {
  throw new Error("usage: far_server_child.ts ROOT HOST PORT NARLESS_PORT");
}
const whole = await startFileServer({ root, hostname, port: Number(port) });
const narless = await startFileServer({ root, hostname, port: Number(narlessPort) });
narless.faults.push({ match: /\/nar\//, action: "status", status: 404 });
console.log("READY");
Deno.addSignalListener("SIGTERM", async () => {
  await whole.close();
  await narless.close();
  Deno.exit(0);
});
