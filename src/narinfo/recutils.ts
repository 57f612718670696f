/**
 * The recutils record reader Guix uses for narinfos (`recutils->alist`,
 * ../shared/docs/guix-substitute-protocol.md §4.1): leading empty lines are skipped, an empty
 * line after a field ends the record, `#` lines are comments, `+` lines
 * continue the previous field, and a field line starts with a letter or `%`
 * and has a `:`; its value is trimmed. Any other line is an error naming its
 * line number.
 *
 * @example
 * ```ts
 * import { parseRecutils } from "./recutils.ts";
 * parseRecutils("StorePath: /gnu/store/x\n+ more\n").fields[0]!.value; // "/gnu/store/x\nmore"
 * ```
 * @module
 */
import { quote } from "./_quote.ts";
import { NarinfoError } from "./errors.ts";

/** One field of a record. */
export interface RecutilsField {
  /** The name (text before the first `:`). */
  readonly name: string;
  /** The value, trimmed, with continuation lines joined by `\n`. */
  readonly value: string;
  /** 1-based line number of the field line. */
  readonly line: number;
}

/** A parsed record. */
export interface RecutilsRecord {
  /** The fields in order (duplicates kept). */
  readonly fields: readonly RecutilsField[];
  /** Number of lines consumed, including the empty line that ended the record. */
  readonly lineCount: number;
}

const FIELD_START = /^[A-Za-z%]/;

/**
 * Reads the first record of `text`.
 *
 * @throws {NarinfoError} naming the line number of a line that is neither a
 * field, a continuation, a comment nor an empty line.
 */
export function parseRecutils(text: string): RecutilsRecord {
  const fields: { name: string; value: string; line: number }[] = [];
  const lines = text.split("\n");
  // A final "\n" leaves an empty string after the split that is not a line.
  const count = text.endsWith("\n") ? lines.length - 1 : lines.length;
  let i = 0;
  for (; i < count; i++) {
    const line = lines[i]!;
    const number = i + 1;
    if (line === "") {
      if (fields.length === 0) continue;
      i++;
      break;
    }
    if (line.startsWith("#")) continue;
    if (line.startsWith("+")) {
      const last = fields[fields.length - 1];
      if (!last) {
        throw new NarinfoError(`continuation line before any field: ${quote(line)}`, {
          line: number,
        });
      }
      last.value += "\n" + line.slice(line.startsWith("+ ") ? 2 : 1);
      continue;
    }
    const colon = line.indexOf(":");
    if (!FIELD_START.test(line) || colon < 0) {
      throw new NarinfoError(
        `expected "Name: value", a "+" continuation, a "#" comment or an empty line, found ${
          quote(line)
        }`,
        { line: number },
      );
    }
    fields.push({ name: line.slice(0, colon), value: line.slice(colon + 1).trim(), line: number });
  }
  return { fields, lineCount: i };
}
