import net from 'node:net';
import { startMemcachedCluster, waitFor, type MemcachedCluster } from '@memshop/testing';
import { type CacheClusterOptions } from '../src/cluster-options.js';
import { CacheCluster } from '../src/cluster.js';
import { CacheError, CacheTimeoutError, CacheUnavailableError } from '../src/errors.js';
import { keySpace } from '../src/keys.js';
import { noopCacheMetrics, type CacheMetrics } from '../src/metrics.js';

const space = keySpace({ prefix: 'test', entity: 'faults', schemaVersion: 1 });
let run = 0;
const freshKeys = (count: number): string[] => {
  run += 1;
  return Array.from({ length: count }, (_, i) => space.key(`${run}-${i}`));
};

// A stopped node refuses connections at once, so tests of stopped nodes need no short op timeout,
// and a long one keeps a live node's reply, delayed by a busy 2-core machine, from counting as a
// failure. A paused node never answers: there the timeout is the fault being tested, and 1 s is
// short enough for three of them and far above a live node's reply under load.
const LIVE_OP_TIMEOUT_MS = 2_000;
const PAUSED_OP_TIMEOUT_MS = 1_000;

const FAST: Partial<CacheClusterOptions> = {
  opTimeoutMs: 100,
  connectTimeoutMs: 200,
  ejectAfterFailures: 3,
  probeIntervalMs: 50,
  gutterTtlSeconds: 7,
};

/** Remaining TTL of `key` on one node, read with the meta protocol: -1 = none, null = absent. */
function remainingTtl(server: string, key: string): Promise<number | null> {
  const [host, port] = server.split(':') as [string, string];
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), host, () => socket.write(`mg ${key} t\r\n`));
    let reply = '';
    socket.setTimeout(2_000, () => socket.destroy(new Error('mg timed out')));
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      reply += chunk.toString('latin1');
      if (!reply.includes('\r\n')) return;
      socket.end();
      const ttl = / t(-?\d+)/.exec(reply);
      resolve(reply.startsWith('EN') ? null : ttl ? Number(ttl[1]) : NaN);
    });
  });
}

function recordingMetrics() {
  const events: string[] = [];
  const metrics: CacheMetrics = {
    ...noopCacheMetrics,
    recordNodeEjection: (node) => events.push(`ejected ${node}`),
    setNodeUp: (node, up) => events.push(`${up ? 'up' : 'down'} ${node}`),
  };
  return { events, metrics };
}

/** Calls `op` until it stops failing with a transport error (the node got ejected); returns the errors seen. */
async function failUntilEjected(cluster: CacheCluster, server: string, op: () => Promise<unknown>) {
  const errors: CacheError[] = [];
  for (let i = 0; i < 20 && cluster.status().find((n) => n.server === server)?.state === 'up'; i++) {
    try {
      await op();
    } catch (error) {
      errors.push(error as CacheError);
    }
  }
  return errors;
}

describe('CacheCluster when nodes fail', () => {
  let memcached: MemcachedCluster;

  beforeAll(async () => {
    memcached = await startMemcachedCluster(4);
  });

  afterAll(async () => {
    for (const node of memcached?.nodes ?? []) if (node.running) node.resume();
    await memcached?.stop();
  });

  afterEach(async () => {
    // every test leaves all nodes running
    for (const node of memcached.nodes) {
      if (!node.running) await node.start();
    }
  });

  it('a stopped node: live keys never fail, its keys fall back with a capped TTL, it rejoins after restart', async () => {
    const servers = memcached.servers.slice(0, 3);
    const [, , victim] = memcached.nodes as [unknown, unknown, (typeof memcached.nodes)[number]];
    const { events, metrics } = recordingMetrics();
    const cluster = new CacheCluster({ servers, ...FAST, opTimeoutMs: LIVE_OP_TIMEOUT_MS, metrics });
    expect(events).toEqual(servers.map((server) => `up ${server}`));
    events.length = 0;
    try {
      const keys = freshKeys(60);
      const deadKeys = keys.filter((k) => cluster.nodeFor(k) === victim.server);
      const liveKeys = keys.filter((k) => cluster.nodeFor(k) !== victim.server);
      expect(deadKeys.length).toBeGreaterThan(3);
      for (const key of keys) await cluster.set(key, Buffer.from('v'), 300);

      // steady reads of live keys while the node goes down
      let liveFailures = 0;
      let liveReads = 0;
      let loading = true;
      const load = (async () => {
        while (loading) {
          for (const key of liveKeys) {
            try {
              liveReads += (await cluster.get(key)) ? 1 : 0;
            } catch {
              liveFailures += 1;
            }
          }
          await new Promise((resolve) => setImmediate(resolve));
        }
      })();

      await victim.stop();
      // before ejection a batch fails only the dead node's keys
      const batch = await cluster.getMany(keys);
      expect([...batch.failed].sort()).toEqual([...deadKeys].sort());
      expect(batch.found.size).toBe(liveKeys.length);

      const errors = await failUntilEjected(cluster, victim.server, () => cluster.get(deadKeys[0] as string));
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.every((e) => e instanceof CacheError && !(e instanceof CacheUnavailableError))).toBe(
        true,
      );
      const status = cluster.status().find((n) => n.server === victim.server);
      expect(status).toMatchObject({ state: 'ejected', consecutiveFailures: 3 });
      expect(events).toEqual([`ejected ${victim.server}`, `down ${victim.server}`]);

      // the dead node's keys go to the next live node on the ring, TTL capped at gutterTtlSeconds
      const deadKey = deadKeys[1] as string;
      const route = cluster.routeFor(deadKey);
      expect(route?.capped).toBe(true);
      expect(route?.server).not.toBe(victim.server);
      expect(await cluster.get(deadKey)).toBeNull();
      expect(await cluster.set(deadKey, Buffer.from('fallback'), 300)).toBe(true);
      expect((await cluster.get(deadKey))?.value.toString()).toBe('fallback');
      const ttl = await remainingTtl(route!.server, deadKey);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(7);
      // deletes of its keys go to the fallback too
      expect(await cluster.delete(deadKey)).toBe(true);
      expect(await cluster.get(deadKey)).toBeNull();
      // an ejected node's keys are spread by the ring, not all dumped on one neighbour
      const fallbacks = new Set(deadKeys.map((k) => cluster.routeFor(k)?.server));
      expect(fallbacks.size).toBe(2);

      await victim.start();
      await waitFor(() => cluster.status().find((n) => n.server === victim.server)?.state === 'up', {
        timeoutMs: 10_000,
        message: 'node did not rejoin',
      });
      loading = false;
      await load;
      expect(liveFailures).toBe(0);
      expect(liveReads).toBeGreaterThan(0);
      expect(events.at(-1)).toBe(`up ${victim.server}`);
      expect(cluster.routeFor(deadKey)).toEqual({ server: victim.server, capped: false });
      expect(await cluster.set(deadKey, Buffer.from('home'), 300)).toBe(true);
      expect(await remainingTtl(victim.server, deadKey)).toBeGreaterThan(7);
    } finally {
      await cluster.close();
    }
  });

  it('a deadline that fires while our own event loop was blocked does not fail a node that answered', async () => {
    const server = memcached.servers[2] as string;
    const cluster = new CacheCluster({ servers: [server], ...FAST, opTimeoutMs: 50, ejectAfterFailures: 1 });
    try {
      const [key] = freshKeys(1) as [string];
      await cluster.set(key, Buffer.from('v'), 60);
      // both pool connections open: this is about answers, not connecting
      await Promise.all([cluster.get(key), cluster.get(key)]);
      for (let round = 0; round < 4; round += 1) {
        const pending = cluster.get(key);
        // The answer arrives while this thread sleeps, and the timer is overdue when it wakes up.
        // A second, 20 times the op timeout: memcached answers within it even on a loaded machine.
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1_000);
        expect((await pending)?.value.toString()).toBe('v');
      }
      expect(cluster.status()[0]).toMatchObject({ state: 'up', consecutiveFailures: 0 });
    } finally {
      await cluster.close();
    }
  });

  it('a paused node: ops time out after opTimeoutMs, it is ejected, and flushed when it comes back', async () => {
    const servers = memcached.servers.slice(0, 3);
    const victim = memcached.nodes[0]!;
    const cluster = new CacheCluster({ servers, ...FAST, opTimeoutMs: PAUSED_OP_TIMEOUT_MS });
    try {
      const keys = freshKeys(40).filter((k) => cluster.nodeFor(k) === victim.server);
      const [missedDelete, other] = keys as [string, string];
      await cluster.set(missedDelete, Buffer.from('old'), 300);
      await cluster.set(other, Buffer.from('old'), 300);
      // both pool connections are open, so the timeout below is the op timeout alone
      await Promise.all([cluster.get(other), cluster.get(other)]);

      victim.pause();
      try {
        const errors = await failUntilEjected(cluster, victim.server, () => cluster.get(other));
        expect(errors).toHaveLength(3);
        for (const error of errors) {
          expect(error).toBeInstanceOf(CacheTimeoutError);
          expect((error as CacheTimeoutError).timeoutMs).toBe(PAUSED_OP_TIMEOUT_MS);
        }
        expect(cluster.status().find((n) => n.server === victim.server)?.state).toBe('ejected');
        // served by the fallback now, no waiting
        expect(await cluster.get(other)).toBeNull();
        // a delete while it is out does not reach it...
        await cluster.delete(missedDelete);
        // ...and probes keep failing while it hangs
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect(cluster.status().find((n) => n.server === victim.server)?.state).toBe('ejected');
      } finally {
        victim.resume();
      }
      await waitFor(() => cluster.status().find((n) => n.server === victim.server)?.state === 'up', {
        timeoutMs: 10_000,
        message: 'node did not rejoin',
      });
      // flushOnRejoin: the entry that missed its delete is gone
      expect(await cluster.get(missedDelete)).toBeNull();
      expect(await cluster.get(other)).toBeNull();
    } finally {
      await cluster.close();
    }
  });

  it('with a gutter pool, an ejected node’s keys go to the gutter with a capped TTL', async () => {
    const servers = memcached.servers.slice(0, 3);
    const gutter = memcached.servers[3] as string;
    const victim = memcached.nodes[1]!;
    const cluster = new CacheCluster({
      servers,
      gutterServers: [gutter],
      ...FAST,
      opTimeoutMs: LIVE_OP_TIMEOUT_MS,
    });
    try {
      const keys = freshKeys(40);
      const deadKey = keys.find((k) => cluster.nodeFor(k) === victim.server) as string;
      const liveKey = keys.find((k) => cluster.nodeFor(k) !== victim.server) as string;
      await victim.stop();
      await failUntilEjected(cluster, victim.server, () => cluster.get(deadKey));
      expect(cluster.routeFor(deadKey)).toEqual({ server: gutter, capped: true });
      expect(cluster.routeFor(liveKey)).toEqual({ server: cluster.nodeFor(liveKey), capped: false });
      expect(await cluster.set(deadKey, Buffer.from('g'), 0)).toBe(true);
      const ttl = await remainingTtl(gutter, deadKey);
      expect(ttl).toBeGreaterThan(0);
      expect(ttl).toBeLessThanOrEqual(7);
      expect(cluster.status().find((n) => n.server === gutter)).toMatchObject({
        role: 'gutter',
        state: 'up',
      });
    } finally {
      await cluster.close();
    }
  });

  it('every node down: ops reject with CacheUnavailableError without touching the network', async () => {
    const nodes = memcached.nodes.slice(0, 2);
    const cluster = new CacheCluster({
      servers: nodes.map((n) => n.server),
      ...FAST,
      opTimeoutMs: LIVE_OP_TIMEOUT_MS,
      probeIntervalMs: 60_000,
    });
    try {
      const keys = freshKeys(20);
      await Promise.all(nodes.map((node) => node.stop()));
      for (const node of nodes) {
        const key = keys.find((k) => cluster.nodeFor(k) === node.server) as string;
        await failUntilEjected(cluster, node.server, () => cluster.get(key));
      }
      expect(cluster.status().map((n) => n.state)).toEqual(['ejected', 'ejected']);

      const writes = cluster.status().map((n) => n.writes);
      const key = keys[0] as string;
      const calls: Array<Promise<unknown>> = [
        cluster.get(key),
        cluster.getMany(keys),
        cluster.set(key, Buffer.from('v'), 10),
        cluster.add(key, Buffer.from('v'), 10),
        cluster.delete(key),
        cluster.incr(key, 1),
      ];
      for (const call of calls) await expect(call).rejects.toBeInstanceOf(CacheUnavailableError);
      expect(cluster.routeFor(key)).toBeNull();
      expect(cluster.status().map((n) => n.writes)).toEqual(writes);
    } finally {
      await cluster.close();
    }
  });

  it('close() closes every socket, stops probes, and makes later calls fail fast', async () => {
    const tcpSockets = () => process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
    const baseline = tcpSockets();
    const victim = memcached.nodes[0]!;
    const cluster = new CacheCluster({
      servers: memcached.servers.slice(0, 2),
      ...FAST,
      opTimeoutMs: PAUSED_OP_TIMEOUT_MS,
    });
    const keys = freshKeys(10);
    await Promise.all(keys.map((key) => cluster.set(key, Buffer.from('v'), 10)));
    expect(tcpSockets()).toBeGreaterThan(baseline);
    // one node ejected, so a probe timer is running
    victim.pause();
    try {
      await failUntilEjected(cluster, victim.server, () =>
        cluster.get(keys.find((k) => cluster.nodeFor(k) === victim.server)!),
      );
      await cluster.close();
      // baseline may hold a socket of the harness that is closing meanwhile
      expect(tcpSockets()).toBeLessThanOrEqual(baseline);
    } finally {
      victim.resume();
    }
    await expect(cluster.get('k')).rejects.toBeInstanceOf(CacheUnavailableError);
  });
});
