// Kubernetes name rules. Each check returns a list of problems (empty when the input is
// valid) so callers can report every problem at once. Messages read like the API server's
// so that users of kubectl see what they expect.

const dns1123LabelFmt = '[a-z0-9]([-a-z0-9]*[a-z0-9])?';
const dns1123SubdomainFmt = `${dns1123LabelFmt}(\\.${dns1123LabelFmt})*`;
const qualifiedNameFmt = '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]';
const labelValueFmt = `(${qualifiedNameFmt})?`;

const dns1035LabelFmt = '[a-z]([-a-z0-9]*[a-z0-9])?';

const dns1123LabelRe = new RegExp(`^${dns1123LabelFmt}$`);
const dns1035LabelRe = new RegExp(`^${dns1035LabelFmt}$`);
const dns1123SubdomainRe = new RegExp(`^${dns1123SubdomainFmt}$`);
const qualifiedNameRe = new RegExp(`^${qualifiedNameFmt}$`);
const labelValueRe = new RegExp(`^${labelValueFmt}$`);

export const DNS1123_LABEL_MAX_LENGTH = 63;
export const DNS1123_SUBDOMAIN_MAX_LENGTH = 253;
export const QUALIFIED_NAME_MAX_LENGTH = 63;
export const LABEL_VALUE_MAX_LENGTH = 63;

function maxLenError(n: number): string {
  return `must be no more than ${n} characters`;
}

function regexError(what: string, fmt: string, examples: string[]): string {
  const eg = examples.map((e) => `'${e}'`).join(',  or ');
  return `${what} (e.g. ${eg}, regex used for validation is '${fmt}')`;
}

/** A DNS-1123 label: at most 63 lowercase alphanumerics or '-', starting and ending alphanumeric. */
export function isDNS1123Label(s: string): string[] {
  const errs: string[] = [];
  if (s.length > DNS1123_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!dns1123LabelRe.test(s)) {
    errs.push(
      regexError(
        "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character",
        dns1123LabelFmt,
        ['my-name', '123-abc'],
      ),
    );
  }
  return errs;
}

/** A DNS-1035 label (a service name): like a DNS-1123 label, but starting with a letter. */
export function isDNS1035Label(s: string): string[] {
  const errs: string[] = [];
  if (s.length > DNS1123_LABEL_MAX_LENGTH) errs.push(maxLenError(DNS1123_LABEL_MAX_LENGTH));
  if (!dns1035LabelRe.test(s)) {
    errs.push(
      regexError(
        "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character",
        dns1035LabelFmt,
        ['my-name', 'abc-123'],
      ),
    );
  }
  return errs;
}

/** A DNS-1123 subdomain: at most 253 characters, dot-separated DNS-1123 labels. */
export function isDNS1123Subdomain(s: string): string[] {
  const errs: string[] = [];
  if (s.length > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!dns1123SubdomainRe.test(s)) {
    errs.push(
      regexError(
        "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character",
        dns1123SubdomainFmt,
        ['example.com'],
      ),
    );
  }
  return errs;
}

/**
 * A qualified name, as used for label and annotation keys: an optional DNS-1123 subdomain
 * prefix and '/', then a name of at most 63 alphanumerics, '-', '_' or '.'.
 */
export function validateLabelKey(k: string): string[] {
  const parts = k.split('/');
  let name: string;
  const errs: string[] = [];
  if (parts.length === 1) {
    name = parts[0];
  } else if (parts.length === 2) {
    const prefix = parts[0];
    name = parts[1];
    if (prefix.length === 0) errs.push('prefix part must be non-empty');
    else for (const e of isDNS1123Subdomain(prefix)) errs.push(`prefix part ${e}`);
  } else {
    return [
      regexError(
        "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        qualifiedNameFmt,
        ['MyName', 'my.name', '123-abc'],
      ) + " with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')",
    ];
  }
  if (name.length === 0) {
    errs.push('name part must be non-empty');
    return errs;
  }
  if (name.length > QUALIFIED_NAME_MAX_LENGTH) errs.push(`name part ${maxLenError(QUALIFIED_NAME_MAX_LENGTH)}`);
  if (!qualifiedNameRe.test(name)) {
    errs.push(
      regexError(
        "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        qualifiedNameFmt,
        ['MyName', 'my.name', '123-abc'],
      ),
    );
  }
  return errs;
}

/** A label value: empty, or at most 63 alphanumerics, '-', '_' or '.', starting and ending alphanumeric. */
export function validateLabelValue(v: string): string[] {
  const errs: string[] = [];
  if (v.length > LABEL_VALUE_MAX_LENGTH) errs.push(maxLenError(LABEL_VALUE_MAX_LENGTH));
  if (!labelValueRe.test(v)) {
    errs.push(
      regexError(
        "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character",
        labelValueFmt,
        ['MyValue', 'my_value', '12345'],
      ),
    );
  }
  return errs;
}

const configMapKeyFmt = '[-._a-zA-Z0-9]+';
const configMapKeyRe = new RegExp(`^${configMapKeyFmt}$`);

/** A key of a ConfigMap's or Secret's data (also a file name in their volumes): alphanumerics, '-', '_' or '.', never '.' or '..'. */
export function isConfigMapKey(key: string): string[] {
  const errs: string[] = [];
  if (key.length > DNS1123_SUBDOMAIN_MAX_LENGTH) errs.push(maxLenError(DNS1123_SUBDOMAIN_MAX_LENGTH));
  if (!configMapKeyRe.test(key)) {
    errs.push(regexError("a valid config key must consist of alphanumeric characters, '-', '_' or '.'", configMapKeyFmt, ['key.name', 'KEY_NAME', 'key-name']));
  }
  errs.push(...dotPrefixErrors(key));
  return errs;
}

/** Names that are also file names must not walk up a directory. */
function dotPrefixErrors(name: string): string[] {
  if (name === '.') return ["must not be '.'"];
  if (name === '..') return ["must not be '..'"];
  if (name.startsWith('..')) return ["must not start with '..'"];
  return [];
}

const envVarNameFmt = '[-._a-zA-Z][-._a-zA-Z0-9]*';
const envVarNameRe = new RegExp(`^${envVarNameFmt}$`);

/** An environment variable name (the keys of an env file): no leading digit, never '.' or '..'. */
export function isEnvVarName(name: string): string[] {
  const errs: string[] = [];
  if (!envVarNameRe.test(name)) {
    errs.push(
      regexError("a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit", envVarNameFmt, [
        'my.env-name',
        'MY_ENV.NAME',
        'MyEnvName1',
      ]),
    );
  }
  errs.push(...dotPrefixErrors(name));
  return errs;
}
