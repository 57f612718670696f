import { assertEquals, assertThrows } from "@std/assert";
import { recordingIo } from "../../tests/support/cli_io.ts";
import { UsageError } from "../std/cli.ts";
import { pickSubcommand } from "./command.ts";

const COMMAND = {
  name: "nar",
  usage: "usage: nar dump|restore|hash",
  subcommands: {
    dump: "usage: nar dump PATH",
    restore: "usage: nar restore DEST",
    hash: "usage: nar hash PATH",
  },
};

Deno.test("pickSubcommand: the subcommand and its arguments; help and bare calls answer", () => {
  const io = recordingIo();
  assertEquals(pickSubcommand(["hash", "/etc", "--size"], io, COMMAND), {
    sub: "hash",
    args: ["/etc", "--size"],
  });
  assertEquals(pickSubcommand([], io, COMMAND), 2);
  assertEquals(pickSubcommand(["--help"], io, COMMAND), 0);
  assertEquals(pickSubcommand(["restore", "x", "-h"], io, COMMAND), 0);
  assertEquals(io.outLines, [COMMAND.usage, COMMAND.usage, "usage: nar restore DEST"]);
});

Deno.test("pickSubcommand: an unknown subcommand names the known ones", () => {
  const io = recordingIo();
  assertThrows(
    () => pickSubcommand(["dumb", "--help"], io, COMMAND),
    UsageError,
    'unknown subcommand "nar dumb" (expected dump, restore or hash)',
  );
  assertThrows(
    () => pickSubcommand(["toString"], io, COMMAND),
    UsageError,
    'unknown subcommand "nar toString"',
  );
  assertEquals(io.outLines, []);
});
