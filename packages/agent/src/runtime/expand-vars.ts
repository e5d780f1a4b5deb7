/**
 * Expands $(VAR) from `lookup`, as Kubernetes does: `$$` is a literal `$`, an unknown
 * variable and an unclosed `$(` stay as written.
 */
export function expandVars(text: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c !== '$' || i + 1 >= text.length) {
      out += c;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '(') {
      const close = text.indexOf(')', i + 2);
      if (close < 0) return out + text.slice(i);
      const name = text.slice(i + 2, close);
      out += lookup(name) ?? `$(${name})`;
      i = close + 1;
    } else {
      out += c + next;
      i += 2;
    }
  }
  return out;
}
