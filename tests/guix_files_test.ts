/**
 * Every Scheme file of the channel, its stand-ins and the extension reads as
 * Scheme (with Guix's gexp syntax), and the extension keeps the placeholder
 * the package replaces. tests/guix_channel_test.ts loads and runs the
 * channel's modules; this catches a syntax error with its location first.
 */
import { assertEquals, assertMatch, assertStringIncludes } from "@std/assert";
import { ROOT } from "./support/daemon_proc.ts";

const FILES = [
  "guix/guix-p2p/packages.scm",
  "guix/guix-p2p/services.scm",
  "guix.scm",
  "extension/substitute.scm",
  "tests/guile/channel-check.scm",
];

Deno.test("the channel, guix.scm and the extension are valid Scheme", async () => {
  const out = await new Deno.Command("guile", {
    args: ["--no-auto-compile", `${ROOT}/tests/guile/read-all.scm`, ...FILES],
    cwd: ROOT,
  }).output();
  const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
  assertEquals(out.code, 0, text);
  for (const file of FILES) assertMatch(text, new RegExp(`${file}: \\d+ forms`));
});

Deno.test("the extension keeps the placeholder the package replaces with the helper", async () => {
  const shim = await Deno.readTextFile(`${ROOT}/extension/substitute.scm`);
  assertStringIncludes(shim, '(define %installed-helper "@GUIX_P2P_HELPER@")');
  const pkg = await Deno.readTextFile(`${ROOT}/guix/guix-p2p/packages.scm`);
  assertStringIncludes(pkg, '(("@GUIX_P2P_HELPER@")');
  assertStringIncludes(pkg, '"/share/guix/extensions/substitute.scm"');
});
