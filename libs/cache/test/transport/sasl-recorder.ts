import net from 'node:net';
import tls from 'node:tls';

/**
 * A stand-in for `memcached -S` that records the frames it gets: SASL LIST_MECHS (0x20) and
 * AUTH (0x21) must come first, carrying our credentials, and nothing else may start SASL.
 * With `tlsIdentity` (a server certificate and key) it speaks TLS, as `memcached -S -Z` does.
 */
export async function startSaslRecorder(password: string, tlsIdentity?: { cert: string; key: string }) {
  const frames: Array<{ opcode: number; body: string }> = [];
  const onConnection = (socket: net.Socket) => {
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      while (buffer.length >= 24 && buffer.length >= 24 + buffer.readUInt32BE(8)) {
        const opcode = buffer.readUInt8(1);
        const bodyLength = buffer.readUInt32BE(8);
        const opaque = buffer.readUInt32BE(12);
        const body = buffer.subarray(24, 24 + bodyLength);
        buffer = buffer.subarray(24 + bodyLength);
        frames.push({ opcode, body: body.toString('latin1') });
        let status = 0;
        let value = Buffer.alloc(0);
        if (opcode === 0x20) value = Buffer.from('PLAIN');
        else if (opcode === 0x21) status = body.toString('latin1').endsWith(`\u0000${password}`) ? 0 : 0x20;
        else if (opcode === 0x00) status = 1;
        const header = Buffer.alloc(24);
        header.writeUInt8(0x81, 0);
        header.writeUInt8(opcode, 1);
        header.writeUInt16BE(status, 6);
        header.writeUInt32BE(value.length, 8);
        header.writeUInt32BE(opaque, 12);
        socket.write(Buffer.concat([header, value]));
      }
    });
  };
  const server = tlsIdentity ? tls.createServer(tlsIdentity, onConnection) : net.createServer(onConnection);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    server: `127.0.0.1:${port}`,
    frames,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
