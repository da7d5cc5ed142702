import {
  escapeId,
  isValidMemcachedKey,
  keySpace,
  MAX_KEY_BYTES,
  parseKeySpace,
  toMemcachedKey,
} from '../src/keys.js';

describe('keySpace', () => {
  const products = keySpace({ prefix: 'catalog', entity: 'product', schemaVersion: 1 });

  it('builds <prefix>:<entity>:v<schema>:<id> and the namespaced form', () => {
    expect(products.key('42')).toBe('catalog:product:v1:42');
    expect(products.key(42)).toBe('catalog:product:v1:42');
    expect(products.key('abc', 7)).toBe('catalog:product:v1:n7:abc');
    expect(products.prefix).toBe('catalog:product:v1:');
  });

  it('escapes spaces, control characters, separators and non-ASCII in ids', () => {
    const key = products.key('a b\r\nc:d\u0000é');
    expect(key).toBe('catalog:product:v1:a%20b%0D%0Ac%3Ad%00%C3%A9');
    expect(isValidMemcachedKey(key)).toBe(true);
    // an id cannot pose as a namespaced key
    expect(products.key('n7:abc')).not.toBe(products.key('abc', 7));
  });

  it('hashes ids with lone surrogates instead of throwing', () => {
    const key = products.key('\ud800x');
    expect(isValidMemcachedKey(key)).toBe(true);
    expect(products.key('\ud800y')).not.toBe(key);
  });

  it('hashes keys over 250 bytes, keeping a readable prefix and distinctness', () => {
    const long1 = products.key('x'.repeat(300));
    const long2 = products.key('x'.repeat(299) + 'y');
    expect(long1.length).toBeLessThanOrEqual(MAX_KEY_BYTES);
    expect(long1.startsWith('catalog:product:v1:xxx')).toBe(true);
    expect(long1).toMatch(/#[A-Za-z0-9_-]{27}$/);
    expect(long1).not.toBe(long2);
    expect(isValidMemcachedKey(long1)).toBe(true);
    // deterministic across processes
    expect(products.key('x'.repeat(300))).toBe(long1);
  });

  it('keeps keys at exactly 250 bytes unhashed', () => {
    const id = 'z'.repeat(MAX_KEY_BYTES - products.prefix.length);
    expect(products.key(id)).toBe(products.prefix + id);
  });

  it('rejects prefixes that would break the key structure', () => {
    expect(() => keySpace({ prefix: 'cat alog', entity: 'product', schemaVersion: 1 })).toThrow(TypeError);
    expect(() => keySpace({ prefix: 'catalog', entity: 'pro:duct', schemaVersion: 1 })).toThrow(TypeError);
  });
});

describe('toMemcachedKey', () => {
  it('leaves valid keys alone and repairs invalid ones', () => {
    expect(toMemcachedKey('a:b:c')).toBe('a:b:c');
    const repaired = toMemcachedKey('has space');
    expect(isValidMemcachedKey(repaired)).toBe(true);
    expect(repaired.startsWith('has_space#')).toBe(true);
    expect(isValidMemcachedKey(toMemcachedKey(''))).toBe(true);
  });

  it('never emits # for an escaped id (it marks hashed keys)', () => {
    expect(escapeId('#1')).toBe('%231');
  });
});

describe('parseKeySpace', () => {
  it('reads the name keySpace prints, and builds the same keys', () => {
    const parsed = parseKeySpace(' order:product:v1 ');
    const built = keySpace({ prefix: 'order', entity: 'product', schemaVersion: 1 });
    expect(parsed.prefix).toBe('order:product:v1:');
    expect(parsed.key('42')).toBe(built.key('42'));
    expect(parsed.key('a b:c')).toBe(built.key('a b:c'));
    expect(parseKeySpace('svc-2:thing.x:v2026_1').prefix).toBe('svc-2:thing.x:v2026_1:');
  });

  it.each([
    '',
    'order',
    'order:product',
    'order:product:1',
    'order:product:v1:',
    'a:b:c:v1',
    'ord er:product:v1',
  ])('rejects %p', (name) => {
    expect(() => parseKeySpace(name)).toThrow(TypeError);
  });
});
