import fc from 'fast-check';
import { isConfigMapKey, isDNS1123Label, isDNS1123Subdomain, isEnvVarName, validateLabelKey, validateLabelValue } from './names';

describe('isDNS1123Subdomain', () => {
  it.each(['a', 'example.com', 'a-b.c-d', '0', '1.2.3', 'a'.repeat(253)])('accepts %s', (s) => {
    expect(isDNS1123Subdomain(s)).toEqual([]);
  });

  it.each(['', 'A', 'a_b', '-a', 'a-', '.a', 'a.', 'a..b', 'a.-b', 'my name'])('rejects %j', (s) => {
    const errs = isDNS1123Subdomain(s);
    expect(errs).toHaveLength(1);
    expect(errs[0]).toMatch(/^a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters/);
    expect(errs[0]).toContain("e.g. 'example.com'");
    expect(errs[0]).toContain('regex used for validation is');
  });

  it('rejects more than 253 characters', () => {
    expect(isDNS1123Subdomain('a'.repeat(254))).toEqual(['must be no more than 253 characters']);
  });

  it('agrees with the spec on random strings', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', 'z', '0', '-', '.', 'A', '_'), maxLength: 12 }), (s) => {
        const labelsOk = s.split('.').every((l) => /^[a-z0-9]/.test(l) && /[a-z0-9]$/.test(l) && /^[a-z0-9-]*$/.test(l));
        expect(isDNS1123Subdomain(s).length === 0).toBe(labelsOk);
      }),
    );
  });
});

describe('isDNS1123Label', () => {
  it('accepts labels up to 63 characters', () => {
    expect(isDNS1123Label('my-name')).toEqual([]);
    expect(isDNS1123Label('a'.repeat(63))).toEqual([]);
  });

  it('rejects dots, uppercase and long names', () => {
    expect(isDNS1123Label('a.b')[0]).toMatch(/^a lowercase RFC 1123 label must consist/);
    expect(isDNS1123Label('Abc')).toHaveLength(1);
    expect(isDNS1123Label('a'.repeat(64))).toEqual(['must be no more than 63 characters']);
  });
});

describe('validateLabelKey', () => {
  it.each(['app', 'App_1.x', 'example.com/app', 'kubernetes.io/hostname', 'a/b', 'x'.repeat(63)])('accepts %s', (k) => {
    expect(validateLabelKey(k)).toEqual([]);
  });

  it('rejects an empty name part', () => {
    expect(validateLabelKey('')).toEqual(['name part must be non-empty']);
    expect(validateLabelKey('example.com/')).toEqual(['name part must be non-empty']);
  });

  it('rejects a bad prefix', () => {
    expect(validateLabelKey('/a')).toEqual(['prefix part must be non-empty']);
    expect(validateLabelKey('Example.com/a')[0]).toMatch(/^prefix part a lowercase RFC 1123 subdomain/);
  });

  it('rejects a bad or long name part', () => {
    expect(validateLabelKey('-a')[0]).toMatch(/^name part must consist of alphanumeric characters/);
    expect(validateLabelKey('x'.repeat(64))).toEqual(['name part must be no more than 63 characters']);
  });

  it('rejects more than one slash', () => {
    expect(validateLabelKey('a/b/c')[0]).toMatch(/^a qualified name must consist/);
  });
});

describe('validateLabelValue', () => {
  it.each(['', 'v', 'My_Value-1.2', 'x'.repeat(63)])('accepts %j', (v) => {
    expect(validateLabelValue(v)).toEqual([]);
  });

  it.each(['-v', 'v-', 'a/b', 'a b', 'ä'])('rejects %j', (v) => {
    expect(validateLabelValue(v)[0]).toMatch(/^a valid label must be an empty string or consist/);
  });

  it('rejects long values', () => {
    expect(validateLabelValue('x'.repeat(64))).toEqual(['must be no more than 63 characters']);
  });
});

describe('isConfigMapKey', () => {
  it.each(['a', 'app.properties', '.hidden', 'KEY_NAME', 'tls.crt', '.dockerconfigjson', 'a-b'])('accepts %s', (k) => {
    expect(isConfigMapKey(k)).toEqual([]);
  });

  it('rejects other characters, "." and "..", and more than 253 characters, in Kubernetes\' words', () => {
    expect(isConfigMapKey('a b')).toEqual([
      "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')",
    ]);
    expect(isConfigMapKey('.')).toEqual(["must not be '.'"]);
    expect(isConfigMapKey('..')).toEqual(["must not be '..'"]);
    expect(isConfigMapKey('..data')).toEqual(["must not start with '..'"]);
    expect(isConfigMapKey('a/b')).toHaveLength(1);
    expect(isConfigMapKey('k'.repeat(254))).toEqual(['must be no more than 253 characters']);
  });
});

describe('isEnvVarName', () => {
  it('accepts names that do not start with a digit, and refuses the others', () => {
    for (const n of ['A', 'my.env-name', 'MY_ENV.NAME', '_x']) expect(isEnvVarName(n)).toEqual([]);
    expect(isEnvVarName('1A')[0]).toMatch(/^a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit/);
    expect(isEnvVarName('..')).toEqual(["must not be '..'"]);
  });
});
