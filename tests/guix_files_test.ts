/**
 * The Guix package and service definitions cannot be built here (no Guix,
 * and `deno compile` needs Deno's download server), so this checks what can
 * be checked with the real Guile: every file reads as Scheme (with Guix's
 * gexp syntax), exports what the README documents, and the package installs
 * the extension where GUIX_EXTENSIONS_PATH points.
 */
import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { ROOT } from "./support/daemon_proc.ts";

Deno.test("Guix package, service and extension are valid Scheme", async () => {
  const out = await new Deno.Command("guile", {
    args: [
      "--no-auto-compile",
      `${ROOT}/tests/guile/read-all.scm`,
      "guix/guix-p2p.scm",
      "guix/services.scm",
      "extension/substitute.scm",
    ],
    cwd: ROOT,
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, text);
  assertMatch(text, /guix\/guix-p2p\.scm: \d+ forms/);
  assertMatch(text, /guix\/services\.scm: \d+ forms/);
});

Deno.test("the package installs the shim at share/guix/extensions and points it at the helper", async () => {
  const pkg = await Deno.readTextFile(`${ROOT}/guix/guix-p2p.scm`);
  assertStringIncludes(pkg, '("extension/substitute.scm" "share/guix/extensions/")');
  assertStringIncludes(pkg, '(symlink "guix-p2p" (string-append bin "/guix-p2p-substitute"))');
  assertStringIncludes(pkg, '(("@GUIX_P2P_HELPER@")');
  assertStringIncludes(pkg, '(variable "GUIX_EXTENSIONS_PATH")');
  const shim = await Deno.readTextFile(`${ROOT}/extension/substitute.scm`);
  assertStringIncludes(shim, '"@GUIX_P2P_HELPER@"');
  const service = await Deno.readTextFile(`${ROOT}/guix/services.scm`);
  for (
    const name of ["guix-p2p-service-type", "guix-p2p-configuration", "guix-p2p-guix-configuration"]
  ) {
    assertStringIncludes(service, name);
  }
  assertStringIncludes(service, '#:user "guix-p2p"');
});
