import {
  OpenAPIRegistry,
  OpenApiGeneratorV31,
  type ResponseConfig,
  type RouteConfig,
} from '@asteasolutions/zod-to-openapi';
import { z } from 'zod';
import { cacheAuditQuerySchema } from '../cache-audit-router';

/** What an OpenAPI 3.1 document generated here looks like (the generator's own type). */
export type ApiDocument = ReturnType<OpenApiGeneratorV31['generateDocument']>;

/**
 * Every error the services answer is `{ error: { code, message, details? } }` (error-handler.ts);
 * each response lists the codes it can carry, so a client can switch on them.
 */
export function errorBodySchema(codes: [string, ...string[]], details?: z.ZodType) {
  return z.object({
    error: z.object({
      code: z.enum(codes),
      message: z.string(),
      details: (details ?? z.unknown()).optional(),
    }),
  });
}

export function errorResponse(
  description: string,
  codes: [string, ...string[]],
  details?: z.ZodType,
): ResponseConfig {
  return { description, content: { 'application/json': { schema: errorBodySchema(codes, details) } } };
}

/** The error responses most routes share; a route picks the ones it can produce. */
export const errorResponses = {
  badRequest: errorResponse('The path, query or body is invalid; `details` lists each problem.', [
    'bad_request',
  ]),
  notFound: errorResponse('No such entity (or no such route).', ['not_found']),
  conflict: errorResponse('The change conflicts with existing data.', ['conflict']),
  payloadTooLarge: errorResponse('The body is larger than the limit (100 kB).', ['payload_too_large']),
  unsupportedMediaType: errorResponse(
    'The body has a charset or content encoding the service does not read.',
    ['bad_request'],
  ),
  unauthorized: {
    ...errorResponse(
      'No bearer token, or one that is expired, for another audience or not signed by a trusted key (RFC 6750: `WWW-Authenticate: Bearer`).',
      ['unauthorized'],
    ),
    headers: z.object({
      'WWW-Authenticate': z.string().meta({
        description: '`Bearer realm="memshop"`, with `error="invalid_token"` when a token was sent',
      }),
    }),
  },
  forbidden: {
    ...errorResponse('The token is valid but does not carry the right to do this.', ['forbidden']),
    headers: z.object({
      'WWW-Authenticate': z
        .string()
        .meta({ description: '`Bearer realm="memshop", error="insufficient_scope"`' }),
    }),
  },
  tooManyRequests: {
    ...errorResponse(
      'The client address or token subject spent its request budget; retry after `Retry-After` seconds.',
      ['rate_limited'],
    ),
    headers: z.object({
      'Retry-After': z.string().meta({ description: 'Seconds until the budget refills.' }),
    }),
  },
  databaseUnavailable: errorResponse(
    'The database is unavailable, or the rows stayed busy or in conflict past the bounded retries; try again later.',
    ['database_unavailable', 'unavailable', 'transaction_conflict', 'database_busy'],
  ),
} satisfies Record<string, ResponseConfig>;

/**
 * Who may call an operation, as its `security`: `userToken` is a user's (or admin's) JWT from the
 * identity provider, `serviceToken` order-service's own short-lived JWT. `public` routes need no
 * token, but refuse (401) one that is sent and invalid.
 */
export const bearerSecurity: Record<
  'public' | 'user' | 'service' | 'userOrService',
  Array<Record<string, string[]>>
> = {
  public: [{}, { userToken: [] }],
  user: [{ userToken: [] }],
  service: [{ serviceToken: [] }],
  userOrService: [{ userToken: [] }, { serviceToken: [] }],
};

/** `X-Cache`: how a cached read was served (docs/architecture.md). */
export const cacheHeader = z.enum(['hit', 'miss', 'stale', 'bypass']).meta({
  description:
    'How the response was served: `hit` from memcached, `miss` from the database (then cached), `stale` a cached copy past its soft expiry (revalidating, or the database is down), `bypass` cache skipped.',
});

/** A 2xx JSON response of a cached read: the body and the `X-Cache` header. */
export function cachedJsonResponse(description: string, schema: z.ZodType): ResponseConfig {
  return {
    description,
    headers: z.object({ 'X-Cache': cacheHeader }),
    content: { 'application/json': { schema } },
  };
}

export function jsonResponse(description: string, schema: z.ZodType): ResponseConfig {
  return { description, content: { 'application/json': { schema } } };
}

/** A JSON request body (`application/json`, at most 100 kB). */
export function jsonRequestBody(schema: z.ZodType): NonNullable<RouteConfig['request']>['body'] {
  return { required: true, content: { 'application/json': { schema } } };
}

/**
 * Routes every service has on its public port (service-app.ts): health and this document with
 * its page. The admin port's /metrics and detailed readiness are for operators, not API clients,
 * and are left out.
 */
function registerServiceRoutes(registry: OpenAPIRegistry): void {
  registry.registerPath({
    method: 'get',
    path: '/health/live',
    operationId: 'getLiveness',
    tags: ['operations'],
    summary: 'Liveness: the process answers',
    responses: { 200: jsonResponse('Alive.', z.object({ status: z.literal('up') })) },
  });
  registry.registerPath({
    method: 'get',
    path: '/health/ready',
    operationId: 'getReadiness',
    tags: ['operations'],
    summary: 'Readiness, status only (the checks with their detail are on the admin port)',
    responses: {
      200: jsonResponse('Ready.', z.object({ status: z.literal('ready') })),
      503: jsonResponse(
        'A critical dependency (the database) is down.',
        z.object({ status: z.literal('not_ready') }),
      ),
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/admin/cache-audit',
    operationId: 'auditCache',
    tags: ['operations'],
    summary:
      "One staleness-audit pass over the service's cached namespaces (what `npm run audit` reads); admins only",
    security: bearerSecurity.user,
    request: { query: cacheAuditQuerySchema },
    responses: {
      200: jsonResponse(
        'Per namespace: sampled, fresh, stale, orphan.',
        z.object({ reports: z.array(z.record(z.string(), z.unknown())) }),
      ),
      400: errorResponses.badRequest,
      401: errorResponses.unauthorized,
      403: errorResponses.forbidden,
    },
  });
  registry.registerPath({
    method: 'get',
    path: '/openapi.json',
    operationId: 'getOpenApiDocument',
    tags: ['operations'],
    summary: 'This document',
    responses: { 200: jsonResponse('OpenAPI 3.1 document.', z.record(z.string(), z.unknown())) },
  });
  registry.registerPath({
    method: 'get',
    path: '/docs',
    operationId: 'getDocsPage',
    tags: ['operations'],
    summary: 'A page to read and try this API (Swagger UI)',
    responses: { 200: { description: 'HTML page.', content: { 'text/html': { schema: z.string() } } } },
  });
}

export interface ApiDocumentOptions {
  /** e.g. 'catalog'; the title is `memshop <service>`. */
  service: string;
  version: string;
  description: string;
  /** Where `npm run stack` serves the service, e.g. http://127.0.0.1:3001. */
  serverUrl: string;
  /** Registers the service's own routes, next to their schemas (api/openapi.ts). */
  register: (registry: OpenAPIRegistry) => void;
  /** The service accepts order-service's service tokens on some routes (`bearerSecurity.service`). */
  serviceTokens?: boolean;
  /** What the app's `rateLimit` option says beyond "every write" (uncachedReads, exemptPrefixes). */
  rateLimits?: { uncachedReads?: string[]; exemptPrefixes?: string[] };
}

/**
 * Adds the 429 to every operation rateLimitRouter spends on: every write, the listed uncached
 * reads and the cache audit (service-app.ts), in one place instead of in every route's list.
 */
function documentRateLimits(
  registry: OpenAPIRegistry,
  { uncachedReads = [], exemptPrefixes = [] }: { uncachedReads?: string[]; exemptPrefixes?: string[] },
): void {
  const limitedReads = new Set(
    [...uncachedReads, '/admin/cache-audit'].map((path) => path.replace(/:(\w+)/g, '{$1}')),
  );
  for (const definition of registry.definitions) {
    if (definition.type !== 'route') continue;
    const { route } = definition;
    if (exemptPrefixes.some((prefix) => route.path.startsWith(prefix))) continue;
    if (route.method === 'get' && !limitedReads.has(route.path)) continue;
    route.responses[429] ??= errorResponses.tooManyRequests;
  }
}

/** Builds a service's OpenAPI 3.1 document from the zod schemas its routes validate with. */
export function buildApiDocument(opts: ApiDocumentOptions): ApiDocument {
  const registry = new OpenAPIRegistry();
  registry.registerComponent('securitySchemes', 'userToken', {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      'A user token (ES256 JWT, checked against the issuer JWKS): `sub` = user id, `roles` = ["admin"] for operators. Native stack: `npm run token -- --user <id>` or `-- --admin`.',
  });
  if (opts.serviceTokens) {
    registry.registerComponent('securitySchemes', 'serviceToken', {
      type: 'http',
      scheme: 'bearer',
      bearerFormat: 'JWT',
      description:
        "order-service's own token: signed with its key (SERVICE_JWKS_FILE holds the public half), `iss` = `sub` = `order-service`, `aud` = this service, at most 5 minutes.",
    });
  }
  opts.register(registry);
  registerServiceRoutes(registry);
  documentRateLimits(registry, opts.rateLimits ?? {});
  return new OpenApiGeneratorV31(registry.definitions).generateDocument({
    openapi: '3.1.0',
    info: {
      title: `memshop ${opts.service}`,
      version: opts.version,
      description: opts.description,
      license: { name: 'MIT', identifier: 'MIT' },
    },
    servers: [{ url: opts.serverUrl, description: '`npm run stack`' }],
    // Health, metrics and this document are open; each API operation states its own security.
    security: [],
  });
}
