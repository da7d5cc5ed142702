export { ensureMemcached, startMemcachedCluster } from './memcached';
export type { MemcachedCluster, MemcachedClusterOptions, MemcachedNode, MemcachedTls } from './memcached';
export { createTestCertificates } from './test-certificates';
export type { TestCertificates } from './test-certificates';
export { createTestDatabase } from './postgres';
export type { TestDatabase } from './postgres';
export { deleteRabbitObjects, rabbitUrl, uniqueName, withDeadLetterObjects } from './rabbitmq';
export { startTcpProxy } from './tcp-proxy';
export type { TcpProxy } from './tcp-proxy';
export { waitFor } from './wait-for';
export type { WaitForOptions } from './wait-for';
export { createTestInfrastructure, withTestInfrastructure } from './service-test-infra';
export type { StartableService, TestInfrastructure } from './service-test-infra';
export { countUnsettled, readStockLedger } from './stock-invariant';
export type { StockLedgerLine, StockLedgerOptions } from './stock-invariant';
export {
  bearer,
  createAuthKeys,
  DEV_AUDIENCE,
  DEV_ISSUER,
  generateSigningKey,
  readAuthKeys,
  type AuthEnvVars,
  type AuthKeys,
  type SignOptions,
} from './auth-keys';
export { loadedMachineMemcachedEnv } from './memcached-timeout-env';
export { relaxedRateLimitEnv } from './rate-limit-env';
export { withRecordedReads } from './recorded-reads';
