import { SpanKind, SpanStatusCode, context, propagation, trace } from '@opentelemetry/api';
import type { z } from 'zod';
import { DependencyUnavailableError } from '../domain/errors';

export interface ServiceClientOptions {
  /** Name of the other service, for errors, logs and span names ('catalog', 'user'). */
  service: string;
  /** e.g. http://127.0.0.1:3001 */
  baseUrl: string;
  /** Whole call, connect to last body byte (AbortSignal.timeout). */
  timeoutMs: number;
  /** Injected in tests; the global fetch (undici) otherwise. */
  fetch?: typeof fetch;
  /** The bearer token for each call (order-service's service token for this neighbour). */
  bearerToken?: () => Promise<string>;
}

export interface ServiceResponse {
  status: number;
  body: unknown;
}

const tracer = () => trace.getTracer('@memshop/order');

/**
 * JSON over HTTP to another memshop service. Every call has a timeout and carries the active
 * trace (`traceparent`), so a request's trace continues in catalog and user. Anything that is
 * not an answer the caller can use (refused, reset, timed out, 5xx, unparsable) becomes a
 * DependencyUnavailableError, which the API reports as 503.
 */
export class ServiceClient {
  readonly #service: string;
  readonly #baseUrl: string;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #bearerToken: (() => Promise<string>) | undefined;

  constructor(opts: ServiceClientOptions) {
    this.#bearerToken = opts.bearerToken;
    this.#service = opts.service;
    this.#baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.#timeoutMs = opts.timeoutMs;
    this.#fetch = opts.fetch ?? fetch;
  }

  get service(): string {
    return this.#service;
  }

  /** Without a trailing slash; typed clients build their URLs on it. */
  get baseUrl(): string {
    return this.#baseUrl;
  }

  /** GET a JSON resource; null on 404. The body must match `schema` or it counts as unavailable. */
  async getJson<T>(path: string, schema: z.ZodType<T>): Promise<T | null> {
    const response = await this.#getWithRetry(path);
    if (response.status === 404) return null;
    if (response.status !== 200) throw this.#unexpected('GET', path, response.status);
    return this.parse(path, response.body, schema);
  }

  // A GET is idempotent, so a connection that the peer closed while idle (keep-alive race) is
  // retried once on a fresh one.
  async #getWithRetry(path: string, headers: Record<string, string> = {}): Promise<ServiceResponse> {
    try {
      return await this.request('GET', path, undefined, headers);
    } catch (err) {
      if (!(err instanceof DependencyUnavailableError) || !isConnectionReset(err.cause)) throw err;
      return this.request('GET', path, undefined, headers);
    }
  }

  /**
   * A `fetch` for openapi-fetch's typed clients (createClient({ fetch })): the call goes through
   * request() with its timeout, trace headers and error mapping (refused, timed out, 5xx,
   * unreadable -> DependencyUnavailableError), and the answer comes back as an in-memory
   * Response whose body has already been read.
   */
  readonly fetch = async (request: Request): Promise<Response> => {
    // request() adds the base URL again, so only the part after the base's own path is passed on.
    const url = new URL(request.url);
    const basePath = new URL(this.#baseUrl).pathname.replace(/\/+$/, '');
    const path = `${url.pathname.slice(basePath.length)}${url.search}`;
    const headers: Record<string, string> = {};
    const idempotencyKey = request.headers.get('idempotency-key');
    if (idempotencyKey) headers['idempotency-key'] = idempotencyKey;
    const text = request.body ? await request.text() : '';
    const response =
      request.method === 'GET'
        ? await this.#getWithRetry(path, headers)
        : await this.request(request.method, path, text === '' ? undefined : parseJson(text), headers);
    const hasBody = response.body !== undefined && response.status !== 204;
    return new Response(hasBody ? JSON.stringify(response.body) : null, {
      status: response.status,
      headers: hasBody ? { 'content-type': 'application/json' } : {},
    });
  };

  /** POST JSON and hand back any 2xx/4xx answer for the caller to interpret; 5xx and failures throw. */
  async postJson(
    path: string,
    body: unknown,
    headers: Record<string, string> = {},
  ): Promise<ServiceResponse> {
    return this.request('POST', path, body, headers);
  }

  /** Checks a body against the shape this service relies on. */
  parse<T>(path: string, body: unknown, schema: z.ZodType<T>): T {
    const parsed = schema.safeParse(body);
    if (parsed.success) return parsed.data;
    const issue = parsed.error.issues[0];
    throw new DependencyUnavailableError(
      this.#service,
      `${this.#service} answered ${path} with an unexpected body (${issue ? `${issue.path.join('.')}: ${issue.message}` : 'invalid'})`,
    );
  }

  async request(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<ServiceResponse> {
    const url = `${this.#baseUrl}${path}`;
    return tracer().startActiveSpan(
      `${method} ${this.#service}`,
      {
        kind: SpanKind.CLIENT,
        attributes: { 'http.request.method': method, 'url.full': url, 'peer.service': this.#service },
      },
      async (span) => {
        try {
          const carrier: Record<string, string> = {};
          propagation.inject(context.active(), carrier);
          if (this.#bearerToken) carrier['authorization'] = `Bearer ${await this.#bearerToken()}`;
          let response: Response;
          try {
            response = await this.#fetch(url, {
              method,
              headers: {
                accept: 'application/json',
                ...(body === undefined ? {} : { 'content-type': 'application/json' }),
                ...carrier,
                ...headers,
              },
              body: body === undefined ? undefined : JSON.stringify(body),
              signal: AbortSignal.timeout(this.#timeoutMs),
            });
          } catch (err) {
            throw this.#failed(method, path, err);
          }
          span.setAttribute('http.response.status_code', response.status);
          if (response.status >= 500) {
            await response.body?.cancel().catch(() => undefined);
            throw this.#unexpected(method, path, response.status);
          }
          let text: string;
          try {
            text = await response.text();
          } catch (err) {
            throw this.#failed(method, path, err);
          }
          return { status: response.status, body: parseJson(text) };
        } catch (err) {
          span.setStatus({
            code: SpanStatusCode.ERROR,
            message: err instanceof Error ? err.message : String(err),
          });
          throw err;
        } finally {
          span.end();
        }
      },
    );
  }

  #failed(method: string, path: string, err: unknown): DependencyUnavailableError {
    // Duck-typed: the DOMException AbortSignal.timeout() raises is not always this realm's Error.
    const name = (err as { name?: unknown } | null)?.name;
    const timedOut = name === 'TimeoutError' || name === 'AbortError';
    const reason = timedOut ? `no answer within ${this.#timeoutMs} ms` : describeCause(err);
    return new DependencyUnavailableError(
      this.#service,
      `${this.#service} is unavailable (${method} ${path}: ${reason})`,
      // Refused: no connection, so the request never reached the service.
      { cause: err, notApplied: !timedOut && describeCause(err) === 'ECONNREFUSED' },
    );
  }

  #unexpected(method: string, path: string, status: number): DependencyUnavailableError {
    // memshop services answer 5xx only for a request they did not carry out.
    return new DependencyUnavailableError(
      this.#service,
      `${this.#service} answered ${method} ${path} with ${status}`,
      { notApplied: true },
    );
  }
}

function parseJson(text: string): unknown {
  if (text === '') return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** undici wraps the socket error: `TypeError: fetch failed` with `cause.code`. */
function describeCause(err: unknown): string {
  const cause = (err as { cause?: { code?: unknown; message?: unknown } } | undefined)?.cause;
  if (cause && typeof cause.code === 'string') return cause.code;
  if (cause && typeof cause.message === 'string') return cause.message;
  return err instanceof Error ? err.message : String(err);
}

function isConnectionReset(err: unknown): boolean {
  const code = (err as { cause?: { code?: unknown } } | undefined)?.cause?.code;
  return code === 'ECONNRESET' || code === 'UND_ERR_SOCKET';
}
