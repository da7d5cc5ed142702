/**
 * `npm run demo`: the seed's workflow against the running stack (or one it starts), narrated
 * with the time and X-Cache of every call:
 *   miss -> Postgres -> background populate -> hit;
 *   an order read through order-service's own cache of catalog and user;
 *   PATCH in catalog -> outbox -> RabbitMQ -> order-service purges its copy -> fresh read;
 *   and who may do what: no token is a 401, a user reading another user's orders a 403.
 * Exits 0; stops the stack only if it started it.
 */
import { bearer, readAuthKeys, type AuthKeys } from '../libs/testing/src';
import { cacheRequestCounts, countsDelta } from './lib/prometheus-text';
import {
  DEFAULT_ADMIN_PORTS,
  DEFAULT_PORTS,
  SERVICES,
  startStack,
  type ServiceName,
  type Stack,
  runningStackAuthDir,
} from './stack';

interface CallResult {
  status: number;
  cache: string;
  ms: number;
  body: unknown;
}

type Urls = Record<ServiceName, string>;

const tally = new Map<string, number>();
let step = 0;
let exchanges = 0;

async function call(
  urls: Urls,
  service: ServiceName,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
  /** A refusal the story expects (401, 403): not an error. */
  expectedStatus?: number,
): Promise<CallResult> {
  const started = performance.now();
  const response = await fetch(`${urls[service]}${path}`, {
    method,
    headers: { ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await response.text();
  const ms = performance.now() - started;
  exchanges += 1;
  const cache = response.headers.get('x-cache') ?? '-';
  if (cache !== '-') tally.set(cache, (tally.get(cache) ?? 0) + 1);
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON: keep the text
  }
  if (response.status >= 400 && response.status !== expectedStatus) {
    throw new Error(`${method} ${service} ${path} answered ${response.status}: ${text.slice(0, 300)}`);
  }
  return { status: response.status, cache, ms, body: parsed };
}

function narrate(result: CallResult, method: string, service: ServiceName, path: string, note: string): void {
  step += 1;
  const what = `${method.padEnd(5)} ${service.padEnd(7)} ${path}`;
  console.log(
    `${String(step).padStart(2)}. ${what.padEnd(40)} ${String(result.status).padEnd(4)} X-Cache: ${result.cache.padEnd(6)} ${result.ms.toFixed(1).padStart(7)} ms   ${note}`,
  );
}

async function narrated(
  urls: Urls,
  method: string,
  service: ServiceName,
  path: string,
  note: string | ((result: CallResult) => string),
  body?: unknown,
  headers?: Record<string, string>,
  expectedStatus?: number,
) {
  const result = await call(urls, service, method, path, body, headers, expectedStatus);
  narrate(result, method, service, path, typeof note === 'string' ? note : note(result));
  return result;
}

/** A first read is a miss unless an earlier demo run (same running stack) already cached it. */
const firstReadNote = (missNote: string) => (result: CallResult) =>
  result.cache === 'miss' ? missNote : `${missNote.split(',')[0]}: already cached by an earlier run`;

/**
 * Repeats a cached read until it is a hit: the populate after a miss runs in the background,
 * so the first read after it may still miss. Only the final read is narrated.
 */
async function readUntilHit(
  urls: Urls,
  service: ServiceName,
  path: string,
  note: string,
  headers: Record<string, string> = {},
): Promise<CallResult> {
  const started = performance.now();
  for (let attempt = 1; ; attempt += 1) {
    const result = await call(urls, service, 'GET', path, undefined, headers);
    if (result.cache === 'hit' || attempt >= 40) {
      const waited = performance.now() - started - result.ms;
      narrate(
        result,
        'GET',
        service,
        path,
        `${note}${attempt > 1 ? ` (after ${attempt - 1} earlier read(s), ${waited.toFixed(0)} ms)` : ''}`,
      );
      return result;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function probeRunningStack(): Promise<'running' | 'absent' | 'partial'> {
  const up = await Promise.all(
    SERVICES.map(async (s) => {
      try {
        const r = await fetch(`http://127.0.0.1:${DEFAULT_PORTS[s]}/health/ready`, {
          signal: AbortSignal.timeout(1500),
        });
        return r.status === 200;
      } catch {
        return false;
      }
    }),
  );
  if (up.every(Boolean)) return 'running';
  return up.some(Boolean) ? 'partial' : 'absent';
}

async function runWorkflow(urls: Urls, keys: AuthKeys): Promise<void> {
  const productId = 1 + Math.floor(Math.random() * 1000);
  const otherProductId = (productId % 1000) + 1;
  const userId = 1 + Math.floor(Math.random() * 100);
  const otherUserId = (userId % 100) + 1;
  // What `npm run token -- --user <id>` and `-- --admin` print, signed with the stack's dev key.
  const asUser = bearer(await keys.userToken(userId));
  const asAdmin = bearer(await keys.adminToken());
  const productPath = `/products/${productId}`;

  console.log('\n-- cache-aside in catalog: miss -> Postgres -> background populate -> hit');
  const first = await narrated(
    urls,
    'GET',
    'catalog',
    productPath,
    firstReadNote('looked up in memcached, read from Postgres'),
  );
  const product = first.body as { name: string; priceCents: number };
  await readUntilHit(urls, 'catalog', productPath, 'populated in the background, now from memcached');

  console.log(
    "\n-- an order: user and products checked through order-service's own cache of catalog and user",
  );
  const orderBody = {
    userId,
    items: [
      { productId, quantity: 1 },
      { productId: otherProductId, quantity: 2 },
    ],
  };
  const idempotencyKey = `demo-${Date.now()}`;
  await narrated(
    urls,
    'POST',
    'order',
    '/orders',
    'no token: 401 with WWW-Authenticate: Bearer (orders are placed for the user in the token)',
    orderBody,
    {},
    401,
  );
  const created = await narrated(
    urls,
    'POST',
    'order',
    '/orders',
    (r) => `saved pending, catalog reserves + confirms the stock -> ${(r.body as { status: string }).status}`,
    orderBody,
    { 'idempotency-key': idempotencyKey, ...asUser },
  );
  await narrated(
    urls,
    'POST',
    'order',
    '/orders',
    (r) => `same Idempotency-Key: the same order ${(r.body as { id: number }).id}, no stock taken twice`,
    orderBody,
    { 'idempotency-key': idempotencyKey, ...asUser },
  );
  const orderId = (created.body as { id: number }).id;
  const orderPath = `/orders/${orderId}`;
  await narrated(
    urls,
    'GET',
    'order',
    orderPath,
    'order (written through when confirmed) + current product/user summaries',
    undefined,
    asUser,
  );
  await readUntilHit(urls, 'order', orderPath, 'everything from memcached', asUser);
  await narrated(
    urls,
    'GET',
    'order',
    `/users/${otherUserId}/orders`,
    `user ${userId} asks for user ${otherUserId}'s orders: 403, checked before any cache read`,
    undefined,
    asUser,
    403,
  );

  console.log(
    '\n-- invalidation across services: PATCH in catalog -> outbox -> RabbitMQ -> order-service purges its copy',
  );
  const newPrice = product.priceCents + 100;
  const patchStarted = performance.now();
  await narrated(
    urls,
    'PATCH',
    'catalog',
    productPath,
    `price ${product.priceCents} -> ${newPrice} (write-through + event)`,
    {
      priceCents: newPrice,
    },
    asAdmin,
  );
  let polls = 0;
  let seen: CallResult | undefined;
  for (;;) {
    polls += 1;
    const result = await call(urls, 'order', 'GET', orderPath, undefined, asUser);
    const line = (
      result.body as { items: Array<{ productId: number; product: { priceCents: number } | null }> }
    ).items.find((i) => i.productId === productId);
    if (line?.product?.priceCents === newPrice) {
      seen = result;
      break;
    }
    if (performance.now() - patchStarted > 15_000)
      throw new Error('order-service never showed the new price');
    await new Promise((r) => setTimeout(r, 10));
  }
  const lagMs = performance.now() - patchStarted;
  narrate(
    seen,
    'GET',
    'order',
    orderPath,
    `new price visible ${lagMs.toFixed(0)} ms after the PATCH began (${polls} poll(s)): copy was purged`,
  );
  await readUntilHit(urls, 'order', orderPath, 'fresh copy cached again', asUser);
  await readUntilHit(urls, 'catalog', productPath, 'catalog serves the written-through new price');
}

async function main(): Promise<void> {
  const started = performance.now();
  let stack: Stack | undefined;
  let urls: Urls;
  let keys: AuthKeys;
  /** Where each service's /metrics is (its admin port). */
  let adminUrls: Urls;
  const state = await probeRunningStack();
  if (state === 'partial') {
    throw new Error('some of ports 3001-3003 answer and some do not: stop the half-running stack first');
  }
  if (state === 'running') {
    console.log('using the stack already running on 127.0.0.1:3001-3003');
    urls = Object.fromEntries(SERVICES.map((s) => [s, `http://127.0.0.1:${DEFAULT_PORTS[s]}`])) as Urls;
    adminUrls = Object.fromEntries(
      SERVICES.map((s) => [s, `http://127.0.0.1:${DEFAULT_ADMIN_PORTS[s]}`]),
    ) as Urls;
    keys = await readAuthKeys(runningStackAuthDir());
  } else {
    console.log('no stack on 3001-3003: starting one (npm run stack keeps one running)');
    const stackStarted = performance.now();
    stack = await startStack({ onProgress: (m) => console.log(`  stack: ${m}`) });
    console.log(`  stack up in ${((performance.now() - stackStarted) / 1000).toFixed(1)} s`);
    urls = stack.urls;
    adminUrls = stack.adminUrls;
    keys = stack.auth;
  }

  try {
    const before = await Promise.all(SERVICES.map((s) => cacheRequestCounts(adminUrls[s])));
    await runWorkflow(urls, keys);
    const after = await Promise.all(SERVICES.map((s) => cacheRequestCounts(adminUrls[s])));

    console.log('\n-- hit ratio');
    const cached = [...tally.values()].reduce((a, b) => a + b, 0);
    const hits = tally.get('hit') ?? 0;
    console.log(
      `X-Cache of all ${cached} cached reads the demo made (narrated ones and polls): ${[...tally].map(([k, v]) => `${k} ${v}`).join(', ')} -> hit ratio ${((hits / cached) * 100).toFixed(0)}%`,
    );
    SERVICES.forEach((s, i) => {
      const delta = countsDelta(before[i]!, after[i]!);
      const total = [...delta.values()].reduce((a, b) => a + b, 0);
      const h = delta.get('hit') ?? 0;
      const parts = [...delta].filter(([, v]) => v > 0).map(([k, v]) => `${k} ${v}`);
      console.log(
        `${s.padEnd(8)} memshop_cache_requests_total during the demo: ${parts.join(', ') || 'none'}${total > 0 ? ` -> ${((h / total) * 100).toFixed(0)}% hits` : ''}`,
      );
    });
    console.log(
      `\n${exchanges} HTTP calls, demo done in ${((performance.now() - started) / 1000).toFixed(1)} s`,
    );
  } finally {
    if (stack) {
      console.log('stopping the stack the demo started');
      await stack.stop();
    }
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error('demo failed:', err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
