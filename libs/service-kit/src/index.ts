export {
  ConfigError,
  booleanEnv,
  keySpaceListEnv,
  httpUrlSchema,
  loadConfig,
  parseConfig,
  portSchema,
  redactConfig,
  serverListSchema,
  serviceEnvShape,
} from './config';
export { redactUrl } from './redact';
export * from './auth';
export { createLogger, type Logger, type LoggerOptions } from './logger';
export {
  BadRequestError,
  ConflictError,
  HttpError,
  NotFoundError,
  ServiceUnavailableError,
  TooManyRequestsError,
} from './errors';
export { DomainError, type DomainErrorKind, type DomainErrorOptions } from './domain-error';
export { isDatabaseUnavailableError } from './database-errors';
export {
  transactionConflictKind,
  withTransactionRetry,
  type TransactionConflictKind,
  type TransactionRetryOptions,
} from './transaction-conflicts';
export { describeError, errorHandler, notFoundHandler } from './error-handler';
export { jsonBody } from './json-body';
export { deadlineOf, requestDeadline, type ReadDeadline } from './request-deadline';
export { sendJsonBytes } from './json-bytes';
export { combineCacheStatus, setCacheHeader, type CacheHeaderStatus } from './cache-header';
export { bodyIdSchema, idListSchema, idSchema, textSchema } from './request-schemas';
export {
  databaseCheck,
  healthRouter,
  memcachedCheck,
  rabbitmqCheck,
  type CheckResult,
  type CheckStatus,
  type HealthCheck,
  type HealthOptions,
  type HealthRouterOptions,
} from './health';
export { createAdminApp, type AdminAppOptions } from './admin-app';
export { rateLimitEnvShape } from './rate-limit-config';
export {
  rateLimitRouter,
  RequestRateLimits,
  type RateLimitRejection,
  type RateLimitRouterOptions,
  type RateLimitScope,
  type RateLimitSettings,
  type RequestRateLimitsOptions,
} from './request-rate-limits';
export {
  createServiceMetrics,
  httpMetricsMiddleware,
  metricsRouter,
  routeLabel,
  type ServiceMetrics,
} from './metrics';
export {
  httpTracingMiddleware,
  setupTracing,
  traceHeaders,
  type Tracing,
  type TracingOptions,
  type TracesExporter,
} from './tracing';
export { createPrismaClient, type PrismaClientFactoryOptions } from './prisma';
export { runService, type RunServiceOptions } from './run-service';
export { startService, type Closable, type RunningService, type StartServiceOptions } from './lifecycle';
export { createServiceApp, type ServiceAppDeps, type ServiceAppOptions } from './service-app';
export { mountUnder } from './mount-under';
export {
  createCacheRuntime,
  type CacheRuntime,
  type CacheRuntimeConfig,
  type CacheRuntimeOptions,
  type CacheRuntimePrisma,
  type CacheRuntimeTuning,
  type NearCacheRuntimeOptions,
} from './cache-runtime';
export { OutboxRelayThread } from './outbox-relay-thread';
export type { OutboxRelayThreadSettings } from './outbox-relay-protocol';
export {
  composeService,
  type BackgroundTask,
  type ComposedService,
  type ComposeServiceOptions,
  type ServiceClients,
  type ServiceOverrides,
  type ServiceWiring,
} from './compose-service';
export {
  componentTestOverrides,
  type ComponentTestOverrides,
  type ComponentTestOverridesOptions,
} from './component-test-overrides';
export type { ListeningService, ListenOptions, ServiceHandle } from './service-handle';
export { sampleRowIds } from './audit-sampling';
export { cacheAuditRouter, type CacheAuditRunner } from './cache-audit-router';
export {
  bearerSecurity,
  buildApiDocument,
  cacheHeader,
  cachedJsonResponse,
  errorBodySchema,
  errorResponse,
  errorResponses,
  jsonRequestBody,
  jsonResponse,
  type ApiDocument,
  type ApiDocumentOptions,
} from './openapi/api-document';
export { apiDocsRouter } from './openapi/docs-router';
export { PeriodicTask } from './periodic-task';
export { BROKER_NAME_PREFIX, CACHE_CHANNELS, OUTBOX_TABLE } from './memshop-cache-names';
