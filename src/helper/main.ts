/**
 * The substitute helper entry point (work in progress: see issue 3).
 * @module
 */

/** Runs the helper; resolves to the exit status. */
export function helperMain(_args: string[]): Promise<number> {
  console.error("guix-p2p-substitute: the substitute helper is not built yet");
  return Promise.resolve(1);
}
