/**
 * `npm run invalidation -- parked <service> [--limit N]`: what the service's invalidation
 * pipeline gave up on, with the reason: messages in its parking queue (malformed, too large,
 * handler kept failing, broker delivery limit) and parked outbox rows (could not be published).
 * `npm run invalidation -- replay <service>`: after fixing the cause, publishes the parked
 * messages again on their original routing keys and puts parked outbox rows back in the queue.
 *
 * Works against `npm run stack` by default; RABBITMQ_URL, INVALIDATION_EXCHANGE,
 * INVALIDATION_QUEUE, DATABASE_URL (or PG_ADMIN_URL) point it elsewhere.
 */
import { Pool } from 'pg';
import { OutboxRelay, pgSqlExecutor } from '../libs/cache/src';
import {
  defaultInvalidationQueue,
  invalidationTopology,
  ParkedInvalidations,
} from '../libs/cache/src/advanced';
import { BROKER_NAME_PREFIX, OUTBOX_TABLE } from '../libs/service-kit/src/memshop-cache-names';
import { databaseUrl, DEFAULT_PG_ADMIN_URL } from './lib/stack-databases';
import { DEFAULT_DATABASES, DEFAULT_EXCHANGE, SERVICES, type ServiceName } from './stack';

const USAGE = 'usage: npm run invalidation -- parked|replay <catalog|user|order> [--limit N]';

async function main(): Promise<number> {
  const [command, service, ...rest] = process.argv.slice(2);
  if ((command !== 'parked' && command !== 'replay') || !SERVICES.includes(service as ServiceName)) {
    console.error(USAGE);
    return 2;
  }
  const limitAt = rest.indexOf('--limit');
  const limit = limitAt >= 0 ? Number(rest[limitAt + 1]) : 100;
  if (!Number.isInteger(limit) || limit < 1) {
    console.error(`--limit must be a positive integer\n${USAGE}`);
    return 2;
  }
  const name = service as ServiceName;
  const topology = invalidationTopology({
    exchange: process.env['INVALIDATION_EXCHANGE'] ?? DEFAULT_EXCHANGE,
    queue: process.env['INVALIDATION_QUEUE'] ?? defaultInvalidationQueue(name, BROKER_NAME_PREFIX),
  });
  const parking = new ParkedInvalidations({
    url: process.env['RABBITMQ_URL'] ?? 'amqp://guest:guest@127.0.0.1:5672',
    topology,
  });
  const pool = new Pool({
    connectionString:
      process.env['DATABASE_URL'] ??
      databaseUrl(process.env['PG_ADMIN_URL'] ?? DEFAULT_PG_ADMIN_URL, DEFAULT_DATABASES[name]),
    max: 1,
  });
  // Only its table queries are used: nothing is published from here, the service's relay does it.
  const relay = new OutboxRelay({
    db: pgSqlExecutor(pool),
    table: OUTBOX_TABLE,
    publisher: {
      publish: async () => {
        throw new Error('not used');
      },
    },
  });
  try {
    if (command === 'parked') {
      const messages = await parking.list(limit);
      console.log(`${topology.parkingQueue}: ${messages.length} parked message(s)`);
      for (const m of messages) {
        console.log(
          `  ${m.reason.padEnd(14)} ${String(m.routingKey ?? '?').padEnd(26)} ${String(m.bytes).padStart(8)} B  ${m.detail ?? ''}`,
        );
        console.log(`    ${JSON.stringify(m.preview.slice(0, 120))}`);
      }
      const rows = await relay.parked(limit);
      console.log(`outbox of ${name}: ${rows.length} parked row(s)`);
      for (const r of rows) {
        console.log(`  ${r.eventId} ${r.routingKey} attempts=${r.attempts} ${r.lastError ?? ''}`);
      }
      return 0;
    }
    const { replayed, kept } = await parking.replay(limit);
    console.log(`${topology.parkingQueue}: replayed ${replayed}, kept ${kept} (no routing key)`);
    const rows = await relay.replayParked();
    console.log(`outbox of ${name}: ${rows} parked row(s) back in the queue`);
    return 0;
  } finally {
    await pool.end();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`invalidation: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  },
);
