import { parsePrometheus, type Sample } from './prometheus';

/** One scrape of a service's admin port (`adminUrl`: ADMIN_PORT, where /metrics lives). */
export async function scrapeMetrics(baseUrl: string): Promise<Sample[]> {
  const res = await fetch(`${baseUrl}/metrics`);
  if (!res.ok) throw new Error(`GET ${baseUrl}/metrics: ${res.status}`);
  return parsePrometheus(await res.text());
}

export interface ProbeResponse {
  status: number;
  xCache: string | null;
  body: unknown;
}

export async function request(
  url: string,
  init: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<ProbeResponse> {
  const res = await fetch(url, {
    method: init.method ?? 'GET',
    headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
    body: init.body !== undefined ? JSON.stringify(init.body) : undefined,
  });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    // not JSON: keep the text for the error message
  }
  return { status: res.status, xCache: res.headers.get('x-cache'), body };
}

export async function expectStatus(
  url: string,
  status: number,
  init?: Parameters<typeof request>[1],
): Promise<ProbeResponse> {
  const res = await request(url, init);
  if (res.status !== status) {
    throw new Error(
      `${init?.method ?? 'GET'} ${url}: expected ${status}, got ${res.status} ${JSON.stringify(res.body)}`,
    );
  }
  return res;
}

/** Repeats a GET until the response says X-Cache: hit (the populate after a miss is in the background). */
export async function untilHit(
  url: string,
  headers?: Record<string, string>,
  timeoutMs = 5000,
): Promise<ProbeResponse> {
  const deadline = Date.now() + timeoutMs;
  let last: ProbeResponse | undefined;
  while (Date.now() < deadline) {
    last = await request(url, { headers });
    if (last.status === 200 && last.xCache === 'hit') return last;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  throw new Error(
    `GET ${url}: no cache hit within ${timeoutMs} ms (last: ${last?.status} X-Cache=${last?.xCache})`,
  );
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
