/**
 * Security: an entry read from memcached is validated (format version, shape) and a
 * corrupt one is a miss, so whoever can write to memcached cannot crash a service or make it
 * serve their bytes. Corrupt values are written under the real keys (built by the services' own
 * key builders) with a separate CacheCluster over the same server strings, as another client of
 * the unauthenticated memcached could.
 */
import { randomBytes } from 'node:crypto';
import { CacheCluster } from '@memshop/cache';
import { decodeEnvelope, encodeEnvelope, FORMAT_VERSION } from '@memshop/cache/advanced';
import { bearer } from '@memshop/testing';
import { startInProcessServices, type InProcessServices } from './observability-services';

let services: InProcessServices | undefined;
let raw: CacheCluster | undefined;

beforeAll(async () => {
  services = await startInProcessServices({ products: 20, users: 10 });
  raw = new CacheCluster({ servers: services.memcached.servers });
}, 120_000);

afterAll(async () => {
  try {
    await raw?.close();
  } finally {
    await services?.close();
  }
}, 60_000);

interface Target {
  name: string;
  url(id: number): string;
  key(id: number): string;
  drain(): Promise<void>;
}

const targets = (): Target[] => [
  {
    name: 'catalog product',
    url: (id) => `${services!.catalog.url}/products/${id}`,
    key: (id) => services!.catalog.catalogCache.productKey(id),
    drain: () => services!.catalog.cache.drain(),
  },
  {
    name: 'user',
    url: (id) => `${services!.user.url}/users/${id}`,
    key: (id) => services!.user.userCache.userKey(id),
    drain: () => services!.user.cache.drain(),
  },
];

async function read(url: string): Promise<{ status: number; cache: string | null; body: unknown }> {
  // An admin may read every entity here (user profiles are not public).
  const headers = bearer(await services!.auth.adminToken());
  const response = await fetch(url, { headers, signal: AbortSignal.timeout(10_000) });
  return { status: response.status, cache: response.headers.get('x-cache'), body: await response.json() };
}

/** A well-formed entry (the codec's own encoder, so its checksum is right) labelled format `v`. */
function envelope(data: unknown, v: number = FORMAT_VERSION): Buffer {
  const now = Date.now();
  const entry = encodeEnvelope({
    storedAt: now,
    freshUntil: now + 300_000,
    staleUntil: now + 360_000,
    graceUntil: now + 900_000,
    data,
  });
  // The format version is the header's second byte.
  entry[1] = v;
  return entry;
}

/** A copy of `valid` with one bit of byte `index` flipped (counted from the end when negative). */
function flipped(valid: Buffer, index: number): Buffer {
  const copy = Buffer.from(valid);
  const at = index < 0 ? copy.length + index : index;
  copy[at] = (copy[at] as number) ^ 0x04;
  return copy;
}

/** What each case writes, given the valid entry the service stored for that id. */
const CORRUPTIONS: Array<[string, (valid: Buffer, entity: Record<string, unknown>) => Buffer]> = [
  ['garbage bytes', () => Buffer.concat([Buffer.from([0xff, 0xfe, 0x7b]), randomBytes(200)])],
  ['an empty value', () => Buffer.alloc(0)],
  // A future (or past) format with a value that looks right: must not be served.
  [
    'a wrong format version',
    (_valid, entity) => envelope({ ...entity, name: 'poisoned' }, FORMAT_VERSION + 1),
  ],
  ['a truncated valid value', (valid) => valid.subarray(0, Math.floor(valid.length / 2))],
  ['a valid value cut by one byte', (valid) => valid.subarray(0, valid.length - 1)],
  ['JSON that is not an envelope', () => Buffer.from('[1,2,3]')],
  ['an envelope whose data has the wrong shape', () => envelope({ id: 'x', name: 42 })],
  // Damage the checksum catches without parsing: in the header's times, and inside the value.
  ['a valid value with a bit flipped in its header', (valid) => flipped(valid, 26)],
  ['a valid value with a bit flipped in its JSON', (valid) => flipped(valid, -3)],
];

describe.each(['catalog product', 'user'])('a corrupt %s entry', (targetName) => {
  const target = () => targets().find((t) => t.name === targetName)!;

  it.each(CORRUPTIONS.map(([label, make], i) => [label, make, i + 2] as const))(
    'holding %s is a miss answered from the database, then replaced by a valid entry',
    async (_label, make, id) => {
      const t = target();
      const key = t.key(id);
      // Reference: a clean read from the database, and the entry the service stored for it.
      const clean = await read(t.url(id));
      expect(clean.status).toBe(200);
      await t.drain();
      const stored = await raw!.get(key);
      expect(stored).not.toBeNull();

      const corrupt = make(stored!.value, clean.body as Record<string, unknown>);
      expect(await raw!.set(key, corrupt, 300)).toBe(true);

      const answered = await read(t.url(id));
      expect(answered).toEqual({ status: 200, cache: 'miss', body: clean.body });

      await t.drain();
      const replaced = await raw!.get(key);
      const decoded = decodeEnvelope(replaced!.value);
      expect(decoded.ok && decoded.envelope.data).toEqual(clean.body);
      expect(await read(t.url(id))).toEqual({ status: 200, cache: 'hit', body: clean.body });
    },
  );
});

describe('a corrupt entry inside a batch read', () => {
  it('GET /products?ids= answers every product from the database and replaces only the corrupt entry', async () => {
    const ids = [11, 12, 13];
    const url = `${services!.catalog.url}/products?ids=${ids.join(',')}`;
    const clean = await read(url);
    expect(clean.status).toBe(200);
    await services!.catalog.cache.drain();
    const key = services!.catalog.catalogCache.productKey(12);
    expect(await raw!.set(key, Buffer.from('{"v":1,"data":'), 300)).toBe(true);

    expect(await read(url)).toEqual({ status: 200, cache: 'miss', body: clean.body });
    await services!.catalog.cache.drain();
    expect(decodeEnvelope((await raw!.get(key))!.value).ok).toBe(true);
    expect(await read(url)).toEqual({ status: 200, cache: 'hit', body: clean.body });
  });
});

describe('after all the corrupt entries', () => {
  it('logged no request failure, and the corrupt reads rate-limited, not once per request', () => {
    const lines = services!.logs.map((line) => JSON.parse(line) as { service: string; msg?: string });
    expect(lines.filter((l) => l.msg === 'request failed')).toEqual([]);
    // 10 corrupt catalog reads above (9 single, 1 in a batch) within one rate-limit window or two.
    const corruptLines = lines.filter((l) => l.service === 'catalog' && l.msg?.startsWith('cached entry'));
    expect(corruptLines.length).toBeGreaterThanOrEqual(1);
    expect(corruptLines.length).toBeLessThan(CORRUPTIONS.length + 1);
  });

  it('builds its corrupt entries from well-formed ones', () => {
    // So the shape and version cases above test the service's checks, not a typo in this file.
    const sample = { id: 1 };
    const ours = decodeEnvelope(envelope(sample));
    expect(ours.ok && ours.envelope.data).toEqual(sample);
    expect(decodeEnvelope(envelope(sample, FORMAT_VERSION + 1))).toEqual({
      ok: false,
      reason: `format version ${FORMAT_VERSION + 1}`,
    });
  });
});
