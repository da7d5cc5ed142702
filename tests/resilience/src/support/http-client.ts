export interface JsonResponse {
  status: number;
  xCache: string | null;
  body: unknown;
}

/**
 * One request to a listening instance (real sockets, like a load balancer's), sent with the
 * credential `as` (an Authorization header, e.g. the world's `as.admin`). A network error
 * is an answer too (status 0): resilience tests count it as a failed request instead of
 * aborting the run.
 */
export async function requestJson(
  baseUrl: string,
  path: string,
  init: { method?: string; body?: unknown; as?: { authorization: string } } = {},
): Promise<JsonResponse> {
  try {
    const response = await fetch(`${baseUrl}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...init.as,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
      signal: AbortSignal.timeout(15_000),
    });
    const text = await response.text();
    let body: unknown = text;
    try {
      body = text ? JSON.parse(text) : null;
    } catch {
      // not JSON: kept as text for the failure message
    }
    return { status: response.status, xCache: response.headers.get('x-cache'), body };
  } catch (err) {
    return { status: 0, xCache: null, body: err instanceof Error ? err.message : String(err) };
  }
}
