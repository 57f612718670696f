/**
 * Newline-separated lines from a byte stream (guix-daemon's request pipe).
 * @module
 */

const MAX_LINE = 16 * 1024 * 1024;

/** Yields lines without their `\n`; a final unterminated line is yielded too. */
export async function* readLines(stream: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const decoder = new TextDecoder();
  let buffer = "";
  for await (const chunk of stream) {
    buffer += decoder.decode(chunk, { stream: true });
    let nl: number;
    while ((nl = buffer.indexOf("\n")) >= 0) {
      yield buffer.slice(0, nl);
      buffer = buffer.slice(nl + 1);
    }
    if (buffer.length > MAX_LINE) throw new Error(`request line longer than ${MAX_LINE} bytes`);
  }
  buffer += decoder.decode();
  if (buffer !== "") yield buffer;
}
