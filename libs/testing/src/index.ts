export { ensureMemcached, startMemcachedCluster } from './memcached';
export type { MemcachedCluster, MemcachedClusterOptions, MemcachedNode } from './memcached';
export { createTestDatabase } from './postgres';
export type { TestDatabase } from './postgres';
export { deleteRabbitObjects, rabbitUrl, uniqueName } from './rabbitmq';
export { startTcpProxy } from './tcp-proxy';
export type { TcpProxy } from './tcp-proxy';
export { waitFor } from './wait-for';
export type { WaitForOptions } from './wait-for';
