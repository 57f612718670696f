/**
 * The benchmark closure as a signed binary cache: the generated trees
 * (`generate.ts`) made into store items that refer to each other, each
 * published with a zstd NAR and a signed narinfo under `<root>/cache`.
 *
 * @example
 * ```ts
 * const { generated, items } = await publishClosure(root, store, key, { n: 150, seed: 1 });
 * ```
 * @module
 */
import {
  type FixtureItem,
  makeItem,
  publishItem,
  type PublishOptions,
} from "../../tests/support/guix_cache.ts";
import { generateClosure, type GeneratedItem } from "./generate.ts";

/**
 * Generates the closure under `<root>/src` and publishes it; `each` runs for every item after
 * it is published (e.g. to place it in a store).
 */
export async function publishClosure(
  root: string,
  storeDir: string,
  key: PublishOptions["key"],
  options: { n: number; seed: number },
  each?: (item: FixtureItem, generated: GeneratedItem) => Promise<void>,
): Promise<{ generated: GeneratedItem[]; items: FixtureItem[] }> {
  const generated = await generateClosure(`${root}/src`, options);
  const items: FixtureItem[] = [];
  for (const g of generated) {
    const item = await makeItem(g.source, {
      storeDir,
      name: g.name,
      references: g.refs.map((j) => items[j]!.baseName),
    });
    await publishItem(`${root}/cache`, item, { key, compressions: ["zstd"] });
    await each?.(item, g);
    items.push(item);
  }
  return { generated, items };
}
