import { assertEquals, assertThrows } from "@std/assert";
import { RequestError } from "./errors.ts";
import { daemonOptions } from "./options.ts";
import { failureLine, hashMismatchLine, haveReply, infoReply, successLine } from "./replies.ts";
import { parseQueryLine, parseSubstituteLine } from "./requests.ts";
import { ProgressReporter } from "./traces.ts";

const P = "/gnu/store/1jjbpdvbk68wgqw8vy5ldbkd5sd8snvw-hello-test";
const D = "/gnu/store/47mskiwc7j6mxjg9cln8zg1hi0q5f7vq-dep-test";

Deno.test("_NIX_OPTIONS: untrusted entries win, URLs are deduplicated, deduplicate=no is honoured", () => {
  const o = daemonOptions(
    "build-use-substitutes=true\nsubstitute-urls=https://a https://b/\nuntrusted-substitute-urls=https://c https://c https://d\n" +
      "untrusted-print-extended-build-trace=1\nuntrusted-terminal-columns=120\nweird\ndeduplicate=no",
  );
  assertEquals(o.substituteUrls, ["https://c", "https://d"]);
  assertEquals(o.urlsFromClient, true);
  assertEquals(o.buildTrace, true);
  assertEquals(o.terminalColumns, 119);
  assertEquals(o.deduplicate, false);
  assertEquals(o.raw.get("substitute-urls"), "https://a https://b/");
  const none = daemonOptions(undefined);
  assertEquals(none.substituteUrls, undefined);
  assertEquals(none.buildTrace, false);
  assertEquals(daemonOptions("substitute-urls=https://x\ndeduplicate=yes").deduplicate, true);
  assertEquals(daemonOptions("a=b=c").raw.get("a"), "b=c");
});

Deno.test("query lines: have/info with the daemon's trailing space, strict paths", () => {
  assertEquals(parseQueryLine(`have ${P} ${D} \n`, "/gnu/store"), { kind: "have", paths: [P, D] });
  assertEquals(parseQueryLine(`info ${P}\t${P} `, "/gnu/store"), { kind: "info", paths: [P] });
  assertEquals(parseQueryLine("info ", "/gnu/store"), { kind: "info", paths: [] });
  assertEquals(parseQueryLine("   ", "/gnu/store"), { kind: "empty" });
  assertThrows(
    () => parseQueryLine("substitute x y", "/gnu/store"),
    RequestError,
    'unknown query command "substitute"',
  );
  assertThrows(
    () => parseQueryLine(`have /etc/passwd`, "/gnu/store"),
    RequestError,
    "not in the store directory",
  );
});

Deno.test("substitute lines: DEST must be the path or <path>.tmp", () => {
  assertEquals(parseSubstituteLine(`substitute ${P} ${P}`, "/gnu/store"), {
    kind: "substitute",
    storePath: P,
    dest: P,
  });
  assertEquals(parseSubstituteLine(`substitute ${P} ${P}.tmp`, "/gnu/store").kind, "substitute");
  assertThrows(
    () => parseSubstituteLine(`substitute ${P} /etc`, "/gnu/store"),
    RequestError,
    "refusing destination",
  );
  assertThrows(
    () => parseSubstituteLine(`substitute ${P} ${D}`, "/gnu/store"),
    RequestError,
    "refusing destination",
  );
  assertThrows(
    () => parseSubstituteLine(`substitute ${P} ${P} extra`, "/gnu/store"),
    RequestError,
    "malformed",
  );
  assertThrows(() => parseSubstituteLine(`have ${P}`, "/gnu/store"), RequestError, "malformed");
});

Deno.test("replies are byte-exact (protocol doc §2.2, §2.3, §3.3)", () => {
  assertEquals(haveReply([P]), `${P}\n\n`);
  assertEquals(haveReply([]), "\n");
  assertEquals(
    infoReply([{
      path: P,
      deriver: "/gnu/store/5wvw3cipckq1sjzajspdwya9mf6w9yi4-hello-test.drv",
      references: [P, D],
      downloadSize: 1064,
      narSize: 1064,
    }]),
    `${P}\n/gnu/store/5wvw3cipckq1sjzajspdwya9mf6w9yi4-hello-test.drv\n2\n${P}\n${D}\n1064\n1064\n\n`,
  );
  assertEquals(
    infoReply([{ path: P, deriver: "", references: [], downloadSize: 0, narSize: 5 }]),
    `${P}\n\n0\n0\n5\n\n`,
  );
  assertEquals(
    successLine("sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s", 1064),
    "success sha256:0p22aw2w80cljfc2i8bgws84bqcawjp1n16fm8kvc73s172gsj2s 1064\n",
  );
  assertEquals(hashMismatchLine("aaa", "bbb").split(" ").length, 4);
  const long = failureLine("x", "a\nb".repeat(5000));
  assertEquals(long.endsWith("\n") && !long.slice(0, -1).includes("\n"), true);
  assertEquals(new TextEncoder().encode(long).length <= 4096, true);
  assertEquals(failureLine("no-substitute", "").startsWith("failed no-substitute"), true);
});

Deno.test("progress traces follow guix/progress.scm", () => {
  let t = 0;
  const out: string[] = [];
  const p = new ProgressReporter((s) => out.push(s), {
    buildTrace: true,
    columns: 80,
    now: () => t,
  });
  p.start("/gnu/store/x", "http://h/nar/x", 1000);
  p.report(10);
  t += 100;
  p.report(20); // rate-limited
  t += 150;
  p.report(30);
  p.finish();
  assertEquals(out, [
    "@ download-started /gnu/store/x http://h/nar/x 1000\n",
    "@ download-progress /gnu/store/x http://h/nar/x 1000 10\n",
    "@ download-progress /gnu/store/x http://h/nar/x 1000 30\n",
    "@ download-progress /gnu/store/x http://h/nar/x 1000 1000\n",
    "@ download-succeeded /gnu/store/x http://h/nar/x 1000\n",
  ]);
  const unknown: string[] = [];
  const q = new ProgressReporter((s) => unknown.push(s), {
    buildTrace: true,
    columns: 80,
    now: () => 0,
  });
  q.start("/d", "u", undefined);
  q.report(77);
  q.finish();
  assertEquals(unknown.at(-1), "@ download-succeeded /d u 77\n");
  assertEquals(unknown[0], "@ download-started /d u -\n");
});
