import { assertEquals, assertThrows } from "@std/assert";
import { hexEncode } from "../../encoding/hex.ts";
import { sha256 } from "../../hash/sha256.ts";
import { narinfoCid } from "./key.ts";

Deno.test('narinfoCid: CIDv1 raw over sha256("guix-p2p-narinfo:" + hash part), as docs/protocol.md §6.4 says', () => {
  const hashPart = "0ad3jr1jlg1p2sfxbqcyvgmr3bf5mcrc";
  const cid = narinfoCid(hashPart);
  const digest = sha256(new TextEncoder().encode(`guix-p2p-narinfo:${hashPart}`));
  assertEquals(hexEncode(cid.bytes), `01551220${hexEncode(digest)}`);
  assertEquals(cid.toString(), "bafkreiegjll6ofn6ljjqkf2chfyxm3zcbkswlvctumgaapyjmk3upismay");
  assertThrows(
    () => narinfoCid("0ad3jr1jlg1p2sfxbqcyvgmr3bf5mcre"),
    Error,
    "not a store-path hash part",
  );
});
