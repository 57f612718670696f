/**
 * The substitute helper alone, as an entry point for `deno bundle` in the
 * start-up benchmark (`bench/substitute/_startup.ts`): one file holding only the
 * helper's code, which is what a compiled helper would load.
 *
 * @example
 * ```sh
 * deno bundle --platform deno -o /tmp/helper.js bench/substitute/helper_child.ts
 * sh -c 'exec "$@" 4>&1 1>&2' sh deno run -A /tmp/helper.js --query
 * ```
 * @module
 */
import { helperMain } from "../../src/helper/main.ts";

Deno.exit(await helperMain(Deno.args));
