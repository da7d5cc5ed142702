import { Router } from 'express';

export type CheckStatus = 'up' | 'down' | 'degraded';
export interface CheckResult {
  status: CheckStatus;
  detail?: unknown;
}
export type HealthCheck = () => Promise<CheckResult>;

export interface HealthOptions {
  checks: Record<string, HealthCheck>;
  /** Checks whose `down` makes /health/ready answer 503. Default: `['database']`. */
  critical?: string[];
  /** A check slower than this counts as down. Default 1000 ms. */
  timeoutMs?: number;
}

async function runCheck(check: HealthCheck, timeoutMs: number): Promise<CheckResult> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<CheckResult>((resolve) => {
    timer = setTimeout(
      () => resolve({ status: 'down', detail: `timed out after ${timeoutMs} ms` }),
      timeoutMs,
    );
  });
  try {
    return await Promise.race([check(), timeout]);
  } catch (err) {
    return { status: 'down', detail: err instanceof Error ? err.message : String(err) };
  } finally {
    clearTimeout(timer);
  }
}

export interface HealthRouterOptions extends HealthOptions {
  /**
   * 'status' (the public port): `{"status":"ready"}` or 503 `{"status":"not_ready"}` and nothing
   * else, because hosts, ports and error messages tell an attacker the topology. 'checks' (the
   * admin port): the same status, `degraded` (a non-critical check is not up) and every check
   * with its detail, so one vocabulary reads both ports. Default 'status'.
   */
  body?: 'status' | 'checks';
}

/**
 * `GET /health/live` (the process answers) and `GET /health/ready` (a check per dependency).
 * Only the database is critical by default: without memcached the service is slower but
 * correct, and without RabbitMQ the outbox holds events until the broker is back.
 */
export function healthRouter({
  checks,
  critical = ['database'],
  timeoutMs = 1000,
  body = 'status',
}: HealthRouterOptions): Router {
  const router = Router();
  router.get('/health/live', (_req, res) => {
    res.json({ status: 'up' });
  });
  router.get('/health/ready', async (_req, res) => {
    const names = Object.keys(checks);
    const results = await Promise.all(names.map((name) => runCheck(checks[name]!, timeoutMs)));
    const report: Record<string, CheckResult> = {};
    names.forEach((name, i) => (report[name] = results[i]!));
    const failing = names.filter((name) => critical.includes(name) && report[name]!.status === 'down');
    const status = failing.length > 0 ? 'not_ready' : 'ready';
    res.status(failing.length > 0 ? 503 : 200);
    if (body === 'status') {
      res.json({ status });
      return;
    }
    res.json({ status, degraded: results.some((r) => r.status !== 'up'), checks: report });
  });
  return router;
}

/** `SELECT 1` through Prisma (or anything with `$queryRawUnsafe`). */
export function databaseCheck(db: { $queryRawUnsafe(sql: string): Promise<unknown> }): HealthCheck {
  return async () => {
    await db.$queryRawUnsafe('SELECT 1');
    return { status: 'up' };
  };
}

/** The hash ring's view: up when every node is up, degraded while some are ejected, down when all are. */
export function memcachedCheck(cluster: {
  status(): Array<{ server: string; state: 'up' | 'ejected' }>;
}): HealthCheck {
  return async () => {
    const nodes = cluster.status();
    const up = nodes.filter((n) => n.state === 'up').length;
    const status: CheckStatus = up === nodes.length ? 'up' : up === 0 ? 'down' : 'degraded';
    return { status, detail: nodes.map((n) => ({ server: n.server, state: n.state })) };
  };
}

/**
 * RabbitMQ: pass a function that says whether the bus holds a live connection and, for a
 * consuming service, a live subscription (a consumer the broker cancelled counts as down).
 * `detail` adds what an operator needs to see in the body (queue, since when it is down).
 */
export function rabbitmqCheck(isConnected: () => boolean, detail?: () => unknown): HealthCheck {
  return async () => {
    const status: CheckStatus = isConnected() ? 'up' : 'down';
    return detail ? { status, detail: detail() } : { status };
  };
}
