// JSON from files, parsed strictly: duplicate object keys are refused (JSON.parse keeps the last
// silently, other readers the first) and objects come back without a prototype, so a key such as
// `__proto__` is an ordinary key. The syntax tree comes from @humanwhocodes/momoa (ESLint's JSON
// parser), which reports positions.
import { parse, type AnyNode } from '@humanwhocodes/momoa';
import { FileFormatError } from './errors';

/** A JSON object read from a file: a prototype-less record, safe for any key. */
export type JsonObject = { [key: string]: unknown };

function evaluate(node: AnyNode, source: string): unknown {
  switch (node.type) {
    case 'Document':
      return evaluate(node.body, source);
    case 'Object': {
      const out: JsonObject = Object.create(null);
      for (const member of node.members) {
        const key = member.name.type === 'String' ? member.name.value : member.name.name;
        if (Object.hasOwn(out, key)) {
          const at = member.name.loc.start;
          throw new FileFormatError(
            source,
            `duplicate key ${JSON.stringify(key)} at line ${at.line}, column ${at.column}`,
          );
        }
        out[key] = evaluate(member.value, source);
      }
      return out;
    }
    case 'Array':
      return node.elements.map((e) => evaluate(e.value, source));
    case 'String':
    case 'Number':
    case 'Boolean':
      return node.value;
    case 'Null':
      return null;
    default:
      throw new FileFormatError(source, `unexpected JSON element ${node.type}`);
  }
}

/** Parses JSON text, refusing duplicate keys; `source` names the file (and part) in errors. */
export function parseJsonStrict(text: string, source: string): unknown {
  let doc: AnyNode;
  try {
    doc = parse(text, { mode: 'json' });
  } catch (e) {
    throw new FileFormatError(source, `not valid JSON (${(e as Error).message})`);
  }
  return evaluate(doc, source);
}

/** True for a JSON object (not an array or null). */
export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** True for a JSON number that is a non-negative safe integer (a count, an index, a step). */
export function isCount(v: unknown): v is number {
  return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
}
