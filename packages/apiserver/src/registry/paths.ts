/** Splits a field path such as `.spec.containers[0].name` into its steps. */
export function parsePath(path: string): (string | number)[] {
  const steps: (string | number)[] = [];
  const re = /\.([^.[\]]+)|\[(\d+)\]/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(path))) steps.push(m[1] !== undefined ? m[1] : Number(m[2]));
  return steps;
}

/** Removes the field at path from obj, if it is there. */
export function deletePath(obj: unknown, path: string): void {
  const steps = parsePath(path);
  let node: unknown = obj;
  for (let i = 0; i < steps.length - 1; i++) {
    if (typeof node !== 'object' || node === null) return;
    node = (node as Record<string | number, unknown>)[steps[i]];
  }
  const last = steps[steps.length - 1];
  if (typeof node === 'object' && node !== null && last !== undefined) {
    if (Array.isArray(node) && typeof last === 'number') node.splice(last, 1);
    else delete (node as Record<string | number, unknown>)[last];
  }
}
