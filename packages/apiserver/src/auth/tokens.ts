import fs from 'fs';

export interface UserInfo {
  name: string;
  uid: string;
  groups: string[];
  /** more about the user (a service account token's pod), as TokenReview reports it */
  extra?: Record<string, string[]>;
}

export const authenticatedGroup = 'system:authenticated';

export class TokenFileError extends Error {}

/** Splits one CSV line into fields; a field may be double-quoted (with "" for a quote). */
function csvFields(line: string): string[] {
  const fields: string[] = [];
  let i = 0;
  while (i <= line.length) {
    if (line[i] === '"') {
      let value = '';
      i++;
      while (i < line.length) {
        if (line[i] === '"' && line[i + 1] === '"') {
          value += '"';
          i += 2;
        } else if (line[i] === '"') {
          i++;
          break;
        } else value += line[i++];
      }
      fields.push(value);
      i++; // the comma after the closing quote
    } else {
      const end = line.indexOf(',', i);
      fields.push((end < 0 ? line.slice(i) : line.slice(i, end)).trim());
      i = end < 0 ? line.length + 1 : end + 1;
    }
  }
  return fields;
}

/**
 * Reads a static token file as Kubernetes does (--token-auth-file):
 * `token,user,uid,"group1,group2"`, one per line; groups are optional.
 */
export function parseTokenFile(text: string, source = 'token file'): Map<string, UserInfo> {
  const users = new Map<string, UserInfo>();
  text.split(/\r?\n/).forEach((raw, n) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const [token, name, uid, groups] = csvFields(line);
    if (!token || !name || uid === undefined) {
      throw new TokenFileError(`${source}:${n + 1}: expected token,user,uid[,"group1,group2"]`);
    }
    if (users.has(token)) throw new TokenFileError(`${source}:${n + 1}: duplicate token`);
    const listed = groups ? groups.split(',').map((g) => g.trim()).filter(Boolean) : [];
    // Every authenticated user is in system:authenticated, as Kubernetes' authenticators add it.
    users.set(token, { name, uid, groups: listed.includes(authenticatedGroup) ? listed : [...listed, authenticatedGroup] });
  });
  return users;
}

export function loadTokenFile(path: string): Map<string, UserInfo> {
  return parseTokenFile(fs.readFileSync(path, 'utf8'), path);
}

/** The user a request's bearer token names, or undefined; tokens not in the file are offered to `others` (service account tokens). */
export function authenticate(header: string | undefined, users: Map<string, UserInfo>, others?: (token: string) => UserInfo | undefined): UserInfo | undefined {
  if (!header) return undefined;
  const m = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!m) return undefined;
  return users.get(m[1]) ?? others?.(m[1]);
}
