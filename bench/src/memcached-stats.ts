import net from 'node:net';

/** `stats` of one memcached node over the text protocol (what `memcstat` prints). */
export async function memcachedStats(server: string, timeoutMs = 2000): Promise<Record<string, string>> {
  const [host, port] = splitServer(server);
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`stats from ${server} timed out`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('stats\r\n'));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (!buffer.endsWith('END\r\n')) return;
      clearTimeout(timer);
      socket.end();
      const stats: Record<string, string> = {};
      for (const line of buffer.split('\r\n')) {
        const [tag, name, ...value] = line.split(' ');
        if (tag === 'STAT' && name) stats[name] = value.join(' ');
      }
      resolve(stats);
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export function splitServer(server: string): [string, number] {
  const i = server.lastIndexOf(':');
  return [server.slice(0, i), Number(server.slice(i + 1))];
}

/** Numeric counters of interest on every node, so a case can take after - before per node. */
export async function getCounters(
  servers: readonly string[],
): Promise<Map<string, { cmdGet: number; getHits: number }>> {
  const out = new Map<string, { cmdGet: number; getHits: number }>();
  for (const server of servers) {
    const s = await memcachedStats(server);
    out.set(server, { cmdGet: Number(s.cmd_get ?? 0), getHits: Number(s.get_hits ?? 0) });
  }
  return out;
}
