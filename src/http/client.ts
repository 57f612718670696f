/**
 * A small HTTP GET client for substitute servers: bounded time to connect and
 * receive headers, a stall watchdog on the body, keep-alive (Deno's fetch
 * pools connections per host), `file://` URLs read directly, and errors that
 * name the URL.
 *
 * @example
 * ```ts
 * import { httpGet } from "./client.ts";
 * const res = await httpGet("https://ci.guix.gnu.org/nix-cache-info", { headerTimeoutMs: 5000 });
 * console.log(res.status, await new Response(res.body).text());
 * ```
 * @module
 */
import { HttpNetworkError, HttpStatusError, HttpTimeoutError } from "./errors.ts";

/** The User-Agent sent to servers. */
export const USER_AGENT = "guix-p2p (GNU Guile compatible substitute client)";

/** Options of {@linkcode httpGet}. */
export interface HttpGetOptions {
  /** Time allowed to connect and receive the response headers. */
  headerTimeoutMs?: number;
  /** The body fails if no bytes arrive for this long. */
  stallTimeoutMs?: number;
  /** Extra request headers (e.g. Range). */
  headers?: Record<string, string>;
  /** Aborts the request and the body. */
  signal?: AbortSignal | undefined;
}

/** A response: status, headers, and a watchdog-guarded body. */
export interface HttpResponse {
  /** Final URL (after redirects). */
  url: string;
  /** HTTP status (200 for file:// hits). */
  status: number;
  /** Response headers. */
  headers: Headers;
  /** The body (empty stream for HEAD-like or bodiless responses). */
  body: ReadableStream<Uint8Array>;
}

/** GETs `url`. Rejects only on network errors and timeouts; any status is returned. */
export async function httpGet(url: string, options: HttpGetOptions = {}): Promise<HttpResponse> {
  if (url.startsWith("file://")) return await fileGet(url, options);
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) controller.abort(options.signal.reason);
  const headerTimeoutMs = options.headerTimeoutMs ?? 10_000;
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    controller.abort();
  }, headerTimeoutMs);
  let res: Response;
  try {
    res = await fetch(url, {
      headers: { "user-agent": USER_AGENT, ...options.headers },
      signal: controller.signal,
      redirect: "follow",
    });
  } catch (e) {
    options.signal?.removeEventListener("abort", onAbort);
    if (timedOut) {
      throw new HttpTimeoutError(`${url}: no response headers within ${headerTimeoutMs / 1000} s`);
    }
    if (options.signal?.aborted) throw options.signal.reason;
    throw new HttpNetworkError(`${url}: ${(e as Error).message}`, { cause: e });
  } finally {
    clearTimeout(timer);
  }
  // Detach the caller's signal once the body is done or cancelled.
  const cleanup = () => options.signal?.removeEventListener("abort", onAbort);
  const body = res.body
    ? guardBody(res.body, url, options.stallTimeoutMs ?? 30_000, controller, cleanup)
    : new ReadableStream<Uint8Array>({ start: (c) => c.close() });
  if (!res.body) cleanup();
  return { url: res.url || url, status: res.status, headers: res.headers, body };
}

/** What {@linkcode httpGetSmall} returns. */
export interface SmallResponse {
  /** Final URL (after redirects). */
  url: string;
  /** HTTP status. */
  status: number;
  /** Response headers. */
  headers: Headers;
  /** The body as UTF-8 text when the status is 200 (other bodies are discarded). */
  text: string | undefined;
}

/**
 * GETs a small document (a narinfo) whole: like {@linkcode httpGet} then
 * {@linkcode readText}, without the per-chunk stall watchdog: the whole body
 * must arrive within `stallTimeoutMs` and be at most `maxBytes`. About half
 * the CPU per request of the streaming path (bench/substitute, cold `have`).
 *
 * @example
 * ```ts
 * import { httpGetSmall } from "./client.ts";
 * const res = await httpGetSmall("https://ci.guix.gnu.org/nix-cache-info", { maxBytes: 65536 });
 * if (res.status === 200) console.log(res.text);
 * ```
 */
export async function httpGetSmall(
  url: string,
  options: HttpGetOptions & { maxBytes: number },
): Promise<SmallResponse> {
  if (url.startsWith("file://")) {
    const res = await fileGet(url, options);
    if (res.status !== 200) {
      await res.body.cancel().catch(() => {});
      return { url: res.url, status: res.status, headers: res.headers, text: undefined };
    }
    const text = await readText(res.body, url, options.maxBytes);
    return { url: res.url, status: res.status, headers: res.headers, text };
  }
  const controller = new AbortController();
  const onAbort = () => controller.abort(options.signal?.reason);
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) controller.abort(options.signal.reason);
  const headerTimeoutMs = options.headerTimeoutMs ?? 10_000;
  const bodyTimeoutMs = options.stallTimeoutMs ?? 30_000;
  let phase: "headers" | "body" | undefined;
  const timeout = (ms: number, what: "headers" | "body") =>
    setTimeout(() => {
      phase = what;
      controller.abort();
    }, ms);
  let timer = timeout(headerTimeoutMs, "headers");
  try {
    const res = await fetch(url, {
      headers: { "user-agent": USER_AGENT, ...options.headers },
      signal: controller.signal,
      redirect: "follow",
    });
    clearTimeout(timer);
    const head = { url: res.url || url, status: res.status, headers: res.headers };
    if (res.status !== 200 || !res.body) {
      await res.body?.cancel().catch(() => {});
      return { ...head, text: res.status === 200 ? "" : undefined };
    }
    const declared = Number(res.headers.get("content-length") ?? NaN);
    if (declared > options.maxBytes) {
      await res.body.cancel().catch(() => {});
      throw new HttpNetworkError(`${url}: response larger than ${options.maxBytes} bytes`);
    }
    timer = timeout(bodyTimeoutMs, "body");
    if (declared >= 0) {
      // Content-Length bounds the body (the HTTP client rejects more): read it natively.
      return { ...head, text: utf8.decode(await res.arrayBuffer()) };
    }
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      total += value.length;
      if (total > options.maxBytes) {
        await reader.cancel().catch(() => {});
        throw new HttpNetworkError(`${url}: response larger than ${options.maxBytes} bytes`);
      }
      chunks.push(value);
    }
    return { ...head, text: decodeChunks(chunks, total) };
  } catch (e) {
    if (phase === "headers") {
      throw new HttpTimeoutError(`${url}: no response headers within ${headerTimeoutMs / 1000} s`);
    }
    if (phase === "body") {
      throw new HttpTimeoutError(`${url}: body not complete within ${bodyTimeoutMs / 1000} s`);
    }
    if (options.signal?.aborted) throw options.signal.reason;
    if (e instanceof HttpNetworkError) throw e;
    throw new HttpNetworkError(`${url}: ${(e as Error).message}`, { cause: e });
  } finally {
    clearTimeout(timer);
    options.signal?.removeEventListener("abort", onAbort);
  }
}

/** GETs `url` and returns the body as text if the status is 200; other statuses become {@linkcode HttpStatusError}. */
export async function httpGetText(
  url: string,
  options: HttpGetOptions & { maxBytes?: number } = {},
): Promise<string> {
  const res = await httpGet(url, options);
  if (res.status !== 200) {
    await res.body.cancel().catch(() => {});
    throw new HttpStatusError(url, res.status);
  }
  return await readText(res.body, url, options.maxBytes ?? 1024 * 1024);
}

/** Reads a body as UTF-8 text, failing beyond `maxBytes`. */
export async function readText(
  body: ReadableStream<Uint8Array>,
  url: string,
  maxBytes: number,
): Promise<string> {
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of body) {
    total += chunk.length;
    if (total > maxBytes) {
      throw new HttpNetworkError(`${url}: response larger than ${maxBytes} bytes`);
    }
    chunks.push(chunk);
  }
  return decodeChunks(chunks, total);
}

const utf8 = new TextDecoder();

function decodeChunks(chunks: Uint8Array[], total: number): string {
  if (chunks.length === 1) return utf8.decode(chunks[0]);
  const all = new Uint8Array(total);
  let off = 0;
  for (const c of chunks) {
    all.set(c, off);
    off += c.length;
  }
  return utf8.decode(all);
}

/**
 * Wraps a response body: a read that waits longer than `stallMs` for the
 * server fails (only while the consumer is actually waiting, so a slow
 * consumer does not trip it); errors are named; `cleanup` runs at the end.
 */
function guardBody(
  stream: ReadableStream<Uint8Array>,
  url: string,
  stallMs: number,
  controller: AbortController,
  cleanup: () => void,
): ReadableStream<Uint8Array> {
  const reader = stream.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      try {
        const result = await Promise.race([
          reader.read(),
          new Promise<never>((_, reject) => {
            timer = setTimeout(() => {
              const err = new HttpTimeoutError(`${url}: no data received for ${stallMs / 1000} s`);
              controller.abort(err);
              reject(err);
            }, stallMs);
          }),
        ]);
        if (result.done) {
          cleanup();
          c.close();
        } else c.enqueue(result.value);
      } catch (e) {
        cleanup();
        reader.cancel().catch(() => {});
        c.error(
          e instanceof HttpTimeoutError
            ? e
            : new HttpNetworkError(`${url}: body: ${(e as Error).message}`, { cause: e }),
        );
      } finally {
        if (timer !== undefined) clearTimeout(timer);
      }
    },
    cancel(reason) {
      cleanup();
      return reader.cancel(reason);
    },
  }, { highWaterMark: 0 });
}

async function fileGet(url: string, options: HttpGetOptions): Promise<HttpResponse> {
  const path = decodeURIComponent(new URL(url).pathname);
  let file: Deno.FsFile;
  try {
    // Regular files only: opening a FIFO would block, a device would never end.
    if (!(await Deno.stat(path)).isFile) throw new Deno.errors.NotFound("not a regular file");
    file = await Deno.open(path);
    if (!(await file.stat()).isFile) {
      file.close();
      throw new Deno.errors.NotFound("not a regular file");
    }
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) {
      return {
        url,
        status: 404,
        headers: new Headers(),
        body: new ReadableStream({ start: (c) => c.close() }),
      };
    }
    throw new HttpNetworkError(`${url}: ${(e as Error).message}`, { cause: e });
  }
  const range = options.headers?.range ?? options.headers?.Range;
  let status = 200;
  if (range) {
    const m = /^bytes=(\d+)-$/.exec(range);
    if (m) {
      await file.seek(Number(m[1]), Deno.SeekMode.Start);
      status = 206;
    }
  }
  const { size } = await file.stat();
  return {
    url,
    status,
    headers: new Headers({ "content-length": String(size) }),
    body: file.readable,
  };
}
