// A watch event's JSON text without its object's metadata.managedFields, cut out before the
// text is parsed. managedFields is about a third of a pod's JSON and most of its small
// objects: parsing it only to drop it (as informers of components that never read it do)
// costs a component watching every pod a good share of its CPU.

const quote = 0x22;
const backslash = 0x5c;
const colon = 0x3a;
const comma = 0x2c;
const openBrace = 0x7b;
const closeBrace = 0x7d;
const openBracket = 0x5b;
const closeBracket = 0x5d;

const member = '"managedFields":';

/** The index just past the string literal whose opening quote is at `start`; -1 if it never ends. */
function stringEnd(text: string, start: number): number {
  for (let i = text.indexOf('"', start + 1); i >= 0; i = text.indexOf('"', i + 1)) {
    let backslashes = 0;
    while (text.charCodeAt(i - 1 - backslashes) === backslash) backslashes++;
    if (backslashes % 2 === 0) return i + 1;
  }
  return -1;
}

/**
 * Whether the member starting at `at` belongs to the event's object's metadata: the keys of
 * the containers open there, outermost first, are (none), "object", "metadata".
 */
function inObjectMetadata(text: string, at: number): boolean {
  const keys: (string | undefined)[] = [];
  // The last string literal, and the key of the member being read (-1: none), as positions.
  let stringStart = -1;
  let stringStop = -1;
  let keyStart = -1;
  let keyStop = -1;
  for (let i = 0; i < at; ) {
    const c = text.charCodeAt(i);
    if (c === quote) {
      const end = stringEnd(text, i);
      if (end < 0 || end > at) return false;
      stringStart = i + 1;
      stringStop = end - 1;
      i = end;
      continue;
    }
    if (c === colon) {
      keyStart = stringStart;
      keyStop = stringStop;
    } else if (c === comma) {
      keyStart = -1;
    } else if (c === openBrace || c === openBracket) {
      keys.push(keyStart < 0 ? undefined : text.slice(keyStart, keyStop));
      keyStart = -1;
    } else if (c === closeBrace || c === closeBracket) {
      keys.pop();
    }
    i++;
  }
  return keys.length === 3 && keys[0] === undefined && keys[1] === 'object' && keys[2] === 'metadata';
}

/** The index just past the array whose '[' is at `start`; -1 if it never ends. */
function arrayEnd(text: string, start: number): number {
  let depth = 0;
  for (let i = start; i < text.length; ) {
    const c = text.charCodeAt(i);
    if (c === quote) {
      i = stringEnd(text, i);
      if (i < 0) return -1;
      continue;
    }
    if (c === openBrace || c === openBracket) depth++;
    else if ((c === closeBrace || c === closeBracket) && --depth === 0) return i + 1;
    i++;
  }
  return -1;
}

/**
 * The event's text (compact JSON, as API servers write it) without `object.metadata.managedFields`;
 * the text itself when it has none there, or not as an array right after its key.
 */
export function withoutManagedFields(text: string): string {
  const at = text.indexOf(member);
  if (at < 0) return text;
  const open = at + member.length;
  if (text.charCodeAt(open) !== openBracket || !inObjectMetadata(text, at)) return text;
  const end = arrayEnd(text, open);
  if (end < 0) return text;
  // The member goes with the comma before it, or (when it comes first) the one after it.
  if (text.charCodeAt(at - 1) === comma) return text.slice(0, at - 1) + text.slice(end);
  return text.slice(0, at) + text.slice(text.charCodeAt(end) === comma ? end + 1 : end);
}
