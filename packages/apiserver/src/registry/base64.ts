// Base64 as Go's encoding/json reads a []byte field (what a Secret's data and a ConfigMap's
// binaryData are in Kubernetes): the standard alphabet, padding required, line breaks
// skipped. Kubernetes refuses anything else while decoding the body, with the offset of
// the first byte it could not read.

const alphabet = /[A-Za-z0-9+/]/;

/** The offset of the first byte Go's decoder would refuse, or -1 when the text is valid base64. */
export function base64ErrorOffset(text: string): number {
  let inQuantum = 0;
  let quantumStart = 0;
  let padded = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === '\r' || c === '\n') continue;
    if (padded) {
      // After the padding only line breaks may follow, and a third '=' completes "xx==".
      if (c === '=' && inQuantum === 3) {
        inQuantum = 0;
        continue;
      }
      return i;
    }
    if (inQuantum === 0) quantumStart = i;
    if (c === '=') {
      if (inQuantum < 2) return i;
      padded = true;
      inQuantum = inQuantum === 2 ? 3 : 0;
      continue;
    }
    if (!alphabet.test(c)) return i;
    inQuantum = (inQuantum + 1) % 4;
  }
  return inQuantum === 0 ? -1 : quantumStart;
}

/** The canonical form of valid base64 (line breaks dropped), or the offset of the first bad byte. */
export function canonicalBase64(text: string): { value: string } | { errorOffset: number } {
  const errorOffset = base64ErrorOffset(text);
  if (errorOffset >= 0) return { errorOffset };
  return { value: Buffer.from(text, 'base64').toString('base64') };
}
