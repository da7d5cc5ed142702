/**
 * The memcached op timeout for services whose memcached nodes stay healthy in a suite. The
 * production 150 ms measures event-loop lag as much as the node: on a loaded 2-core machine it
 * fires on a healthy node, turning an expected hit into a miss or bypass, a write-through into
 * a delete, or ejecting the node mid-test. Suites whose subject is the timeout or a failing
 * node keep the production value.
 */
export const loadedMachineMemcachedEnv: Readonly<Record<string, string>> = {
  MEMCACHED_OP_TIMEOUT_MS: '5000',
};
