/**
 * Start-up breakdown of the substitute helper (`bench/substitute/substitute.ts`): a
 * `--query` substituter that performs the helper's start-up steps one after
 * the other with the helper's own modules, time-stamping each, then answers
 * one `have` exactly as the helper does (daemon lookup, signature check
 * against the ACL, reply on fd 4). The real helper overlaps the ACL load with
 * the daemon round trip; here the steps run in sequence so each can be timed.
 *
 * It prints one log line `PHASES {"name": epochMs, ...}` (epoch milliseconds,
 * `performance.timeOrigin + performance.now()`, comparable with the parent's
 * spawn time) after each reply.
 *
 * @example
 * ```sh
 * GUIX_P2P_CONFIG=config.toml sh -c 'exec "$@" 4>&1 1>&2' sh deno run -A bench/substitute/phases_child.ts --query
 * ```
 * @module
 */
const now = () => performance.timeOrigin + performance.now();
const marks: Record<string, number> = { start: now() };
const mark = (name: string) => marks[name] = now();

// No static imports: module loading is timed here.
const helperMain = await import("../../src/helper/main.ts");
void helperMain;
mark("modules-helper");
const [{ answerQuery }, { haveReply }, { NarinfoAuthorizer }, { loadAcl }, { denoTrustFiles }] =
  await Promise.all([
    import("../../src/helper/query.ts"),
    import("../../src/helper/replies.ts"),
    import("../../src/trust/authorize.ts"),
    import("../../src/trust/files.ts"),
    import("../../src/fs/deno_trust_files.ts"),
  ]);
mark("modules-query-trust");
const [{ loadConfig }, { daemonOptions }, { openReplyChannel }, { DaemonLink }, { readLines }, {
  parseQueryLine,
}] = await Promise.all([
  import("../../src/config/deno_config.ts"),
  import("../../src/helper/options.ts"),
  import("../../src/helper/deno_fd4.ts"),
  import("../../src/helper/session.ts"),
  import("../../src/helper/_lines.ts"),
  import("../../src/helper/requests.ts"),
]);
const { config } = await loadConfig({ env: Deno.env });
const options = daemonOptions(Deno.env.get("_NIX_OPTIONS"));
mark("config");
const fd4 = openReplyChannel();
mark("fd4");
const acl = await loadAcl(config.acl_path, denoTrustFiles, { precompute: false });
const authorizer = new NarinfoAuthorizer({ flavour: "guix", storeDir: config.store_dir, acl });
mark("acl");
const daemon = new DaemonLink(config.socket_path);
await daemon.client();
mark("socket");
const session = {
  config,
  storeDir: config.store_dir,
  options,
  authorizer: () => Promise.resolve(authorizer),
  routing: "p2p-first" as const,
  policy: undefined,
  urls: options.substituteUrls,
  daemon,
  log: (text: string) => void Deno.stderr.writeSync(new TextEncoder().encode(text)),
};
let first = true;
for await (const line of readLines(Deno.stdin.readable)) {
  const request = parseQueryLine(line, config.store_dir);
  if (request.kind === "empty") continue;
  if (first) mark("request-read");
  if (first && request.kind === "have") {
    // The lookup round trip alone, then the signature checks alone.
    const client = await daemon.client();
    const items = await client.lookup(request.paths, session.urls ? { urls: session.urls } : {});
    mark("lookup");
    const ok = new Set<string>();
    for (const item of items) {
      if (
        item.kind === "found" &&
        authorizer.check(item.narinfo, item.storePath).kind === "authorized"
      ) {
        ok.add(item.storePath);
      }
    }
    mark("verify");
    fd4.write(haveReply(request.paths.filter((p) => ok.has(p))));
    mark("reply");
  } else fd4.write(await answerQuery(request, session));
  first = false;
  console.error(`PHASES ${JSON.stringify(marks)}`);
}
