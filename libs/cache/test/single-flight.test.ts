import { SingleFlight } from '../src/single-flight.js';

describe('SingleFlight', () => {
  it('shares one run among concurrent callers and starts a new one after it settles', async () => {
    const flights = new SingleFlight<number>();
    let runs = 0;
    let release!: () => void;
    const blocked = new Promise<void>((r) => (release = r));
    const fn = async () => {
      runs += 1;
      await blocked;
      return runs;
    };
    const joined = Array.from({ length: 100 }, () => flights.run('k', fn));
    release();
    expect(await Promise.all(joined)).toEqual(Array(100).fill(1));
    expect(flights.size).toBe(0);
    expect(await flights.run('k', async () => 42)).toBe(42);
  });

  it('shares a rejection too, and forgets the key afterwards', async () => {
    const flights = new SingleFlight<number>();
    const failing = async (): Promise<number> => {
      throw new Error('nope');
    };
    const results = await Promise.allSettled([flights.run('k', failing), flights.run('k', failing)]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected']);
    expect(flights.size).toBe(0);
  });

  it('starts a new flight after forget(), and the old one finishing does not remove it', async () => {
    const flights = new SingleFlight<string>();
    let releaseOld!: () => void;
    const old = flights.run('k', () => new Promise<string>((r) => (releaseOld = () => r('old'))));
    await Promise.resolve();
    flights.forget('k');
    let releaseNew!: () => void;
    const fresh = flights.run('k', () => new Promise<string>((r) => (releaseNew = () => r('new'))));
    await Promise.resolve();
    releaseOld();
    expect(await old).toBe('old');
    // Still the new flight for later callers.
    const joined = flights.run('k', async () => 'third');
    releaseNew();
    expect(await fresh).toBe('new');
    expect(await joined).toBe('new');
  });
});
