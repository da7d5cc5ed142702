/**
 * The authorization matrix, through HTTP against the three real services: every API route x
 * every kind of caller, each with the status it must get. Users A (3) and B (4); A owns the
 * order the routes name. No answer may be a 5xx, and the services are still ready afterwards.
 */
import { startInProcessServices, type InProcessServices } from './observability-services';

type Caller = 'none' | 'forged' | 'expired' | 'wrongAudience' | 'userA' | 'userB' | 'admin' | 'orderService';
type Service = 'catalog' | 'user' | 'order';
const CALLERS: Caller[] = [
  'none',
  'forged',
  'expired',
  'wrongAudience',
  'userA',
  'userB',
  'admin',
  'orderService',
];
const USER_A = 3;
const USER_B = 4;

let services: InProcessServices | undefined;
const headers = {} as Record<Caller, (service: Service) => Promise<Record<string, string>>>;
let orderOfA = 0;

beforeAll(async () => {
  services = await startInProcessServices({ products: 30, users: 20 });
  const { auth } = services;
  const fixed = (token: Promise<string>) => {
    const header = token.then((t) => ({ authorization: `Bearer ${t}` }));
    return () => header;
  };
  headers.none = async () => ({});
  headers.forged = fixed(auth.adminToken(1, { forged: true }));
  headers.expired = fixed(auth.adminToken(1, { expiresInSeconds: -600 }));
  headers.wrongAudience = fixed(auth.adminToken(1, { audience: 'another-system' }));
  headers.userA = fixed(auth.userToken(USER_A));
  headers.userB = fixed(auth.userToken(USER_B));
  headers.admin = fixed(auth.adminToken(1));
  headers.orderService = async (service) => ({ authorization: `Bearer ${await auth.serviceToken(service)}` });
  const placed = await call('order', 'POST', '/orders', 'userA', { items: [{ productId: 5, quantity: 1 }] });
  if (placed.status !== 201) throw new Error(`placing A's order answered ${placed.status}`);
  orderOfA = ((await placed.json()) as { id: number }).id;
}, 180_000);

afterAll(async () => {
  await services?.close();
}, 60_000);

async function call(service: Service, method: string, path: string, caller: Caller, body?: unknown) {
  return fetch(`${services![service].url}${path}`, {
    method,
    headers: { ...(await headers[caller](service)), ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
    signal: AbortSignal.timeout(20_000),
  });
}

const BAD = { none: 401, forged: 401, expired: 401, wrongAudience: 401 };
const PUBLIC = { none: 200, forged: 401, expired: 401, wrongAudience: 401 };

/** [service, method, path, body, expected status by caller] */
type Row = [Service, string, () => string, unknown, Record<Caller, number>];
const ROWS: Row[] = [
  [
    'catalog',
    'GET',
    () => '/products/1',
    undefined,
    { ...PUBLIC, userA: 200, userB: 200, admin: 200, orderService: 200 },
  ],
  [
    'catalog',
    'GET',
    () => '/products?ids=1,2',
    undefined,
    { ...PUBLIC, userA: 200, userB: 200, admin: 200, orderService: 200 },
  ],
  [
    'catalog',
    'GET',
    () => '/categories/1/products',
    undefined,
    { ...PUBLIC, userA: 200, userB: 200, admin: 200, orderService: 200 },
  ],
  [
    'catalog',
    'PATCH',
    () => '/products/2',
    { priceCents: 1234 },
    { ...BAD, userA: 403, userB: 403, admin: 200, orderService: 403 },
  ],
  [
    'catalog',
    'PATCH',
    () => '/categories/2',
    { name: 'Matrix' },
    { ...BAD, userA: 403, userB: 403, admin: 200, orderService: 403 },
  ],
  [
    'catalog',
    'POST',
    () => '/stock/releases',
    { items: [{ productId: 6, quantity: 1 }] },
    { ...BAD, userA: 403, userB: 403, admin: 403, orderService: 200 },
  ],
  [
    'catalog',
    'GET',
    () => '/stock/reservations/unknown-ref',
    undefined,
    { ...BAD, userA: 403, userB: 403, admin: 403, orderService: 404 },
  ],
  [
    'user',
    'GET',
    () => `/users/${USER_A}`,
    undefined,
    { ...BAD, userA: 200, userB: 403, admin: 200, orderService: 200 },
  ],
  [
    'user',
    'PATCH',
    () => `/users/${USER_A}`,
    { name: 'Matrix A' },
    { ...BAD, userA: 200, userB: 403, admin: 200, orderService: 403 },
  ],
  [
    'user',
    'POST',
    () => '/users',
    { email: 'matrix@example.com', name: 'M' },
    { ...BAD, userA: 403, userB: 403, admin: 201, orderService: 403 },
  ],
  [
    'order',
    'GET',
    () => `/orders/${orderOfA}`,
    undefined,
    { ...BAD, userA: 200, userB: 404, admin: 200, orderService: 401 },
  ],
  [
    'order',
    'GET',
    () => `/users/${USER_A}/orders`,
    undefined,
    { ...BAD, userA: 200, userB: 403, admin: 200, orderService: 401 },
  ],
  [
    'order',
    'POST',
    () => '/orders',
    { userId: USER_A, items: [{ productId: 7, quantity: 1 }] },
    { ...BAD, userA: 201, userB: 403, admin: 403, orderService: 401 },
  ],
];

describe('the authorization matrix', () => {
  it.each(
    ROWS.map(
      (row) => [`${row[0]} ${row[1]} ${row[2].toString().replace(/^\(\)\s*=>\s*/, '')}`, row] as const,
    ),
  )('%s', async (_name, [service, method, path, body, expected]) => {
    const got: Record<string, number> = {};
    for (const caller of CALLERS) {
      // A POST that succeeds creates something: a fresh email keeps the next 201 possible.
      const sent =
        service === 'user' && method === 'POST'
          ? { ...(body as object), email: `${caller}@example.com` }
          : body;
      got[caller] = (await call(service, method, path(), caller, sent)).status;
    }
    expect(got).toEqual(expected);
  });

  it('leaves every service ready', async () => {
    for (const service of ['catalog', 'user', 'order'] as const) {
      const ready = await fetch(`${services![service].url}/health/ready`);
      expect(ready.status).toBe(200);
    }
  });
});
