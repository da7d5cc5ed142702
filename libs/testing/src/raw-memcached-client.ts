import net from 'node:net';

const TERMINATORS =
  /^(STORED|NOT_STORED|EXISTS|NOT_FOUND|END|DELETED|OK|ERROR|CLIENT_ERROR .*|SERVER_ERROR .*|VERSION .*)\r\n$/m;

/**
 * Sends one text-protocol command on a fresh connection and returns the reply. Used by the
 * harness tests to talk to memcached without any client library in between.
 */
export function memcachedCommand(port: number, command: string, timeoutMs = 2_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let reply = '';
    socket.setTimeout(timeoutMs, () => {
      socket.destroy();
      reject(new Error(`no reply from port ${port} within ${timeoutMs} ms`));
    });
    socket.once('error', reject);
    socket.once('close', () =>
      reject(new Error(`connection to port ${port} closed; got ${JSON.stringify(reply)}`)),
    );
    socket.once('connect', () => socket.write(command));
    socket.on('data', (chunk) => {
      reply += chunk.toString('utf8');
      if (TERMINATORS.test(reply)) {
        socket.destroy();
        resolve(reply);
      }
    });
  });
}
