/**
 * The P1b/P1c baselines, each run as a process of its own (`node --import tsx` this file):
 * - `BASELINE_MODE=express`: a bare Express 5 app, one route, `res.json` of the product held in
 *   memory (fetched once from the catalog), nothing else: Express's own ceiling for this answer;
 * - `BASELINE_MODE=node-http`: node:http answering with the entry's JSON bytes read from
 *   memcached on every request (CacheCluster.get, the codec's raw decode): the physical limit of
 *   a cache hit in one Node process, with no framework at all.
 * Prints `listening <port>` once it accepts connections.
 */
import http from 'node:http';
import express from 'express';
import { CacheCluster } from '../../libs/cache/src/index';
import { decodeEnvelopeRaw } from '../../libs/cache/src/advanced';

const mode = process.env['BASELINE_MODE'];
const port = Number(process.env['BASELINE_PORT']);

async function startExpress(): Promise<http.Server> {
  const source = process.env['BASELINE_SOURCE_URL'];
  if (!source) throw new Error('BASELINE_SOURCE_URL is required');
  const response = await fetch(source);
  if (!response.ok) throw new Error(`GET ${source}: ${response.status}`);
  const product: unknown = await response.json();
  const app = express();
  app.get('/products/:id', (_req, res) => {
    res.json(product);
  });
  return app.listen(port);
}

function startNodeHttp(): http.Server {
  const servers = (process.env['BASELINE_MEMCACHED'] ?? '').split(',').filter(Boolean);
  const key = process.env['BASELINE_KEY'];
  if (servers.length === 0 || !key) throw new Error('BASELINE_MEMCACHED and BASELINE_KEY are required');
  const cluster = new CacheCluster({ servers });
  return http
    .createServer((_req, res) => {
      cluster.get(key).then(
        (item) => {
          const entry = item ? decodeEnvelopeRaw(item.value) : null;
          if (!entry?.ok) {
            res.writeHead(404).end();
            return;
          }
          res.writeHead(200, {
            'Content-Type': 'application/json; charset=utf-8',
            'Content-Length': entry.envelope.data.length,
            'X-Cache': 'hit',
          });
          res.end(entry.envelope.data);
        },
        () => res.writeHead(503).end(),
      );
    })
    .listen(port);
}

async function main(): Promise<void> {
  const server = mode === 'express' ? await startExpress() : mode === 'node-http' ? startNodeHttp() : null;
  if (!server) throw new Error(`BASELINE_MODE must be express or node-http, not ${String(mode)}`);
  server.once('listening', () => process.stdout.write(`listening ${port}\n`));
  process.once('SIGTERM', () => server.close(() => process.exit(0)));
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
