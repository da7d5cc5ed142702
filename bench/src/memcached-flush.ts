import net from 'node:net';

/** `flush_all` on one memcached node over the text protocol: every item it holds is gone. */
export async function flushAll(server: string, timeoutMs = 2000): Promise<void> {
  const colon = server.lastIndexOf(':');
  const host = server.slice(0, colon);
  const port = Number(server.slice(colon + 1));
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect({ host, port });
    let buffer = '';
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`flush_all on ${server} timed out`));
    }, timeoutMs);
    socket.setEncoding('utf8');
    socket.on('connect', () => socket.write('flush_all\r\n'));
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (!buffer.endsWith('\r\n')) return;
      clearTimeout(timer);
      socket.end();
      if (buffer.startsWith('OK')) resolve();
      else reject(new Error(`flush_all on ${server}: ${buffer.trim()}`));
    });
    socket.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}
