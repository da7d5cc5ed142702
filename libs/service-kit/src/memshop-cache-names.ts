// The names this project's deployments already use for what the cache library keeps in
// memcached, so the library's neutral defaults change nothing a running system or an operator
// sees. Every service passes them through cache-runtime.ts.

/** Prefix of the key-generation counters (category product lists). */
export const KEY_GENERATION_PREFIX = 'memshop:ns:';
