/**
 * A static-file HTTP server with per-request fault injection, for testing the
 * daemon's HTTP client and the Nix gateway against misbehaving servers
 * (../shared/docs/nix-binary-cache.md §6.5). Real `Deno.serve` on 127.0.0.1, HTTP/1.1
 * keep-alive, GET and HEAD.
 *
 * Fault rules match `"<METHOD> <path>"` against a regular expression:
 * - `status`: answer with that status (empty body);
 * - `slow`: wait `seconds` before sending headers;
 * - `stall`: send half the body, wait `seconds`, then cut the connection;
 * - `drop`: send half the body, then cut the connection;
 * - `corrupt`: flip one byte in the middle of the body;
 * - `trickle`: send the body at `bytesPerSecond`.
 * `count` limits how many matching requests a rule applies to.
 *
 * @module
 */

/** A fault-injection rule. */
export type FaultRule =
  & { match: RegExp; count?: number }
  & (
    | { action: "status"; status: number }
    | { action: "slow"; seconds: number }
    | { action: "stall"; seconds: number }
    | { action: "drop" }
    | { action: "corrupt" }
    | { action: "trickle"; bytesPerSecond: number }
  );

/** A logged request. */
export interface RequestLog {
  method: string;
  path: string;
  status: number;
  headers: Record<string, string>;
}

/** Options of {@linkcode startFileServer}. */
export interface FileServerOptions {
  /** Directory served. */
  root: string;
  /** Send `Accept-Ranges: bytes` and honour `Range: bytes=N-`. Default true. */
  ranges?: boolean;
  /** Omit Content-Length (like `guix publish` without --cache). Default false. */
  noContentLength?: boolean;
  /** Content-Type by file extension. */
  contentTypes?: Record<string, string>;
  /** Address to listen on. Default 127.0.0.1. */
  hostname?: string;
  /** Port. Default 0 (ephemeral). */
  port?: number;
}

/** A running server. */
export interface FileServer extends AsyncDisposable {
  /** Base URL, e.g. `http://127.0.0.1:34567`. */
  url: string;
  /** Port number. */
  port: number;
  /** Requests seen so far. */
  log: RequestLog[];
  /** Fault rules (mutable). */
  faults: FaultRule[];
  /** Stops the server. */
  close(): Promise<void>;
}

/** Starts the server on an ephemeral loopback port. */
export function startFileServer(options: FileServerOptions): Promise<FileServer> {
  const faults: FaultRule[] = [];
  const log: RequestLog[] = [];
  const ranges = options.ranges ?? true;
  const ready = Promise.withResolvers<number>();
  const abort = new AbortController();

  const take = (key: string): FaultRule | undefined => {
    for (const rule of faults) {
      if (!rule.match.test(key)) continue;
      if (rule.count !== undefined) {
        if (rule.count <= 0) continue;
        rule.count--;
      }
      return rule;
    }
    return undefined;
  };

  const server = Deno.serve({
    hostname: options.hostname ?? "127.0.0.1",
    port: options.port ?? 0,
    signal: abort.signal,
    onListen: ({ port }) => ready.resolve(port),
  }, async (req) => {
    const url = new URL(req.url);
    const path = decodeURIComponent(url.pathname);
    const method = req.method;
    const headers = Object.fromEntries(req.headers);
    const respond = (status: number, body: BodyInit | null, h: Record<string, string> = {}) => {
      log.push({ method, path, status, headers });
      return new Response(method === "HEAD" ? null : body, { status, headers: h });
    };
    if (method !== "GET" && method !== "HEAD") return respond(405, null, { "content-length": "0" });
    const rule = take(`${method} ${path}`);
    if (rule?.action === "status") return respond(rule.status, null, { "content-length": "0" });
    if (rule?.action === "slow") await delay(rule.seconds * 1000);
    if (path.includes("..")) return respond(404, null, { "content-length": "0" });
    let size: number;
    try {
      const st = await Deno.stat(`${options.root}${path}`);
      if (!st.isFile) throw new Error("not a file");
      size = st.size;
    } catch {
      return respond(404, null, { "content-length": "0" });
    }
    const ext = path.slice(path.lastIndexOf(".") + 1);
    const h: Record<string, string> = {
      "content-type": options.contentTypes?.[ext] ?? "application/octet-stream",
    };
    if (ranges) h["accept-ranges"] = "bytes";
    let status = 200;
    let start = 0;
    let end = size - 1;
    const range = req.headers.get("range");
    if (ranges && range) {
      const m = /^bytes=(\d+)-(\d*)$/.exec(range);
      start = m ? Number(m[1]) : NaN;
      end = m?.[2] ? Math.min(Number(m[2]), size - 1) : size - 1;
      if (!m || start >= size || start > end) {
        return respond(416, null, { "content-range": `bytes */${size}`, "content-length": "0" });
      }
      status = 206;
      h["content-range"] = `bytes ${start}-${end}/${size}`;
    }
    const length = end - start + 1;
    if (!options.noContentLength) h["content-length"] = String(length);
    if (method === "HEAD") return respond(status, null, h);
    const file = await Deno.open(`${options.root}${path}`);
    await file.seek(start, Deno.SeekMode.Start);
    const half = length >> 1;
    const corruptAt = rule?.action === "corrupt" ? half : -1;
    const cutAt = rule?.action === "drop" || rule?.action === "stall" ? half : -1;
    const stallMs = rule?.action === "stall" ? rule.seconds * 1000 : 0;
    const trickle = rule?.action === "trickle" ? rule.bytesPerSecond : 0;
    let sent = 0;
    const stream = new ReadableStream<Uint8Array>({
      async pull(controller) {
        if (sent >= length) {
          file.close();
          return controller.close();
        }
        if (cutAt >= 0 && sent >= cutAt) {
          if (stallMs) await delay(stallMs);
          file.close();
          return controller.error(new Error("connection cut by fault injection"));
        }
        let want = Math.min(256 * 1024, length - sent);
        if (cutAt >= 0) want = Math.min(want, cutAt - sent);
        if (trickle) {
          if (sent > 0) await delay(50);
          want = Math.min(want, Math.max(1, Math.floor(trickle / 20)));
        }
        const buf = new Uint8Array(want);
        let got = 0;
        while (got < want) {
          const n = await file.read(buf.subarray(got));
          if (n === null) break;
          got += n;
        }
        if (corruptAt >= sent && corruptAt < sent + got) buf[corruptAt - sent]! ^= 0xff;
        sent += got;
        controller.enqueue(got === want ? buf : buf.subarray(0, got));
        if (got < want) sent = length; // file shrank: end here
      },
      cancel() {
        file.close();
      },
    });
    return respond(status, stream, h);
  });

  return ready.promise.then((port) => {
    const close = async () => {
      abort.abort();
      await server.finished;
    };
    return {
      url: `http://${options.hostname ?? "127.0.0.1"}:${port}`,
      port,
      log,
      faults,
      close,
      [Symbol.asyncDispose]: close,
    };
  });
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
