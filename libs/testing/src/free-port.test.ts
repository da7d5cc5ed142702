import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { findFreePort } from './free-port';

const lowestEphemeral = Number(
  fs.readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').split(/\s+/)[0],
);

describe('findFreePort', () => {
  it('hands out distinct ports below the ephemeral range, each claimed for this process and bindable', async () => {
    const ports = await Promise.all(Array.from({ length: 50 }, () => findFreePort()));
    expect(new Set(ports).size).toBe(ports.length);
    for (const port of ports) {
      expect(port).toBeGreaterThanOrEqual(20_000);
      expect(port).toBeLessThan(lowestEphemeral);
      const claim = path.join(os.tmpdir(), 'memshop-port-claims', String(port));
      expect(fs.readFileSync(claim, 'utf8')).toBe(String(process.pid));
    }
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen({ host: '0.0.0.0', port: ports[0] }, resolve));
    await new Promise((resolve) => server.close(resolve));
  });

  it('releases its claims when its process exits', () => {
    const script = `
      const { findFreePort } = require(${JSON.stringify(path.join(__dirname, 'free-port.ts'))});
      Promise.all(Array.from({ length: 20 }, () => findFreePort())).then((ports) => console.log(JSON.stringify(ports)));`;
    const theirs: number[] = JSON.parse(
      execFileSync(process.execPath, ['--import', 'tsx', '-e', script], { encoding: 'utf8' }),
    );
    expect(theirs).toHaveLength(20);
    for (const port of theirs) {
      expect(fs.existsSync(path.join(os.tmpdir(), 'memshop-port-claims', String(port)))).toBe(false);
    }
  });
});
