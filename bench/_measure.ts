/**
 * Helpers every benchmark report shares: a bash runner, the load average and
 * a one-line description of the machine and of the tools measured.
 *
 * @example
 * ```ts
 * import { loadavg, machine, sh } from "./_measure.ts";
 * console.log(await sh("nproc"), loadavg(), await machine(["zstd --version"]));
 * ```
 * @module
 */

const decoder = new TextDecoder();

/**
 * Runs a bash script with `pipefail`; resolves to its trimmed stdout; throws
 * with its exit code and stderr when it fails.
 *
 * @example
 * ```ts
 * const cores = await sh("nproc");
 * ```
 */
export async function sh(script: string, env: Record<string, string> = {}): Promise<string> {
  const out = await new Deno.Command("bash", {
    args: ["-c", `set -o pipefail; ${script}`],
    env,
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!out.success) {
    throw new Error(
      `bash exited with ${out.code}: ${script.slice(0, 300)}\n${decoder.decode(out.stderr)}`,
    );
  }
  return decoder.decode(out.stdout).trim();
}

/**
 * The three load averages, e.g. `"1.20 0.80 0.50"`.
 *
 * @example
 * ```ts
 * console.log(loadavg()); // "1.20 0.80 0.50"
 * ```
 */
export function loadavg(): string {
  return Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3).join(" ");
}

/**
 * One line describing the machine (cores, CPU, RAM, OS, Deno) followed by
 * the first output line of each of `tools` (shell commands; `?` when one
 * fails).
 *
 * @example
 * ```ts
 * console.log(await machine(["nix-store --version", "xz --version"]));
 * ```
 */
export async function machine(tools: readonly string[]): Promise<string> {
  const cpu = /model name\s*:\s*(.*)/.exec(Deno.readTextFileSync("/proc/cpuinfo"))?.[1] ?? "?";
  const os = await sh(". /etc/os-release; echo $PRETTY_NAME").catch(() => "Linux");
  const versions = await Promise.all(
    tools.map((cmd) => sh(`${cmd} 2>/dev/null | head -n1`).catch(() => "?")),
  );
  return [
    `${navigator.hardwareConcurrency} × ${cpu}`,
    `${Math.round(Deno.systemMemoryInfo().total / 2 ** 30)} GiB RAM`,
    `${os} (Linux ${Deno.osRelease()})`,
    `Deno ${Deno.version.deno}`,
    ...versions,
  ].join(", ");
}
