import { KetamaRing } from '../src/hash-ring.js';
import { RingChanges } from '../src/ring-changes.js';

const servers = (n: number) => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}:11211`);
const keys = Array.from({ length: 2_000 }, (_, i) => `test:ring:${i}`);

describe('RingChanges', () => {
  let now: number;
  const changes = () => new RingChanges({ windowMs: 60_000, clock: () => now });
  const three = new KetamaRing(servers(3));
  const four = new KetamaRing(servers(4));
  const five = new KetamaRing(servers(5));

  beforeEach(() => {
    now = 1_000_000;
  });

  it('knows no change until one is recorded', () => {
    const history = changes();
    expect(keys.map((key) => history.ownerChangedAt(key)).every((at) => at === undefined)).toBe(true);
  });

  it('names the change that moved a key, and none for a key that stayed', () => {
    const history = changes();
    history.record(three, four);
    const moved = keys.filter((key) => three.nodeFor(key) !== four.nodeFor(key));
    const stayed = keys.filter((key) => three.nodeFor(key) === four.nodeFor(key));
    expect(moved.length).toBeGreaterThan(0);
    expect(moved.every((key) => history.ownerChangedAt(key) === 1_000_000)).toBe(true);
    expect(stayed.every((key) => history.ownerChangedAt(key) === undefined)).toBe(true);
  });

  it('keeps an earlier change for a key that a later change did not move', () => {
    const history = changes();
    history.record(three, four);
    now += 1_000;
    history.record(four, five);
    const firstOnly = keys.find(
      (key) => three.nodeFor(key) !== four.nodeFor(key) && four.nodeFor(key) === five.nodeFor(key),
    ) as string;
    const second = keys.find((key) => four.nodeFor(key) !== five.nodeFor(key)) as string;
    expect(history.ownerChangedAt(firstOnly)).toBe(1_000_000);
    expect(history.ownerChangedAt(second)).toBe(1_001_000);
  });

  it('forgets a change once every entry stored before it has expired', () => {
    const history = changes();
    history.record(three, four);
    const moved = keys.find((key) => three.nodeFor(key) !== four.nodeFor(key)) as string;
    now += 59_999;
    expect(history.ownerChangedAt(moved)).toBe(1_000_000);
    now += 1;
    expect(history.ownerChangedAt(moved)).toBeUndefined();
  });
});
