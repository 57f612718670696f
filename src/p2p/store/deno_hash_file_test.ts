import { assertEquals, assertRejects } from "@std/assert";
import { hexEncode } from "../../encoding/hex.ts";
import { sha256 } from "../../hash/sha256.ts";
import { hashFile } from "./deno_hash_file.ts";

Deno.test("hashFile hashes the first length bytes on a worker, and names a short file", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const bytes = new Uint8Array(5 << 20).map((_, i) => (i * 2654435761) >>> 24);
    await Deno.writeFile(`${dir}/data`, bytes);
    assertEquals(hexEncode(await hashFile(`${dir}/data`, bytes.length)), hexEncode(sha256(bytes)));
    assertEquals(
      hexEncode(await hashFile(`${dir}/data`, 1000)),
      hexEncode(sha256(bytes.subarray(0, 1000))),
    );
    await assertRejects(() => hashFile(`${dir}/data`, bytes.length + 1), Error, "ends at byte");
    await assertRejects(() => hashFile(`${dir}/missing`, 1), Error);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
