import { KetamaRing } from '../src/hash-ring.js';

const servers = (n: number) => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}:11211`);
const keys = Array.from({ length: 10_000 }, (_, i) => `catalog:product:v1:${i}`);

function moved(a: KetamaRing, b: KetamaRing): number {
  return keys.filter((key) => a.nodeFor(key) !== b.nodeFor(key)).length;
}

describe('KetamaRing', () => {
  it('places keys the same way in every instance, whatever the order servers are given in', () => {
    const a = new KetamaRing(servers(4));
    const b = new KetamaRing([...servers(4)].reverse());
    expect(moved(a, b)).toBe(0);
  });

  it('pins placements (a change here would move keys between deployed clients)', () => {
    const ring = new KetamaRing(servers(3));
    expect(keys.slice(0, 6).map((key) => ring.nodeFor(key))).toEqual([
      '10.0.0.3:11211',
      '10.0.0.1:11211',
      '10.0.0.2:11211',
      '10.0.0.2:11211',
      '10.0.0.3:11211',
      '10.0.0.1:11211',
    ]);
  });

  it('spreads keys evenly enough', () => {
    const ring = new KetamaRing(servers(4));
    const counts = new Map<string, number>();
    for (const key of keys) counts.set(ring.nodeFor(key), (counts.get(ring.nodeFor(key)) ?? 0) + 1);
    for (const count of counts.values()) {
      expect(count).toBeGreaterThan(10_000 / 4 / 2);
      expect(count).toBeLessThan((10_000 / 4) * 1.6);
    }
  });

  it.each([3, 5, 7, 8])('adding or removing one of %i nodes moves about 1/N of 10k keys', (n) => {
    const base = new KetamaRing(servers(n));
    const grown = new KetamaRing(servers(n + 1));
    const shrunk = new KetamaRing(servers(n).slice(1));
    for (const [ring, nodes] of [
      [grown, n + 1],
      [shrunk, n],
    ] as const) {
      const count = moved(base, ring);
      expect(count).toBeGreaterThan((0.5 / nodes) * keys.length);
      expect(count).toBeLessThan((1.6 / nodes) * keys.length);
    }
    // keys that moved on removal all belonged to the removed node
    const removed = servers(n)[0];
    expect(
      keys.filter((k) => base.nodeFor(k) !== shrunk.nodeFor(k)).every((k) => base.nodeFor(k) === removed),
    ).toBe(true);
  });

  it('lists the fallback order starting at the owner, each server once', () => {
    const ring = new KetamaRing(servers(5));
    const candidates = ring.candidates('some-key');
    expect(candidates[0]).toBe(ring.nodeFor('some-key'));
    expect(new Set(candidates).size).toBe(5);
  });
});
