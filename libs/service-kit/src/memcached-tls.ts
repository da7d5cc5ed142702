import { readFileSync } from 'node:fs';
import type { CacheTlsOptions } from '@memshop/cache';
import { ConfigError } from './config';

/** The env vars that turn on TLS to memcached; paths to PEM files, read once at start. */
export interface MemcachedTlsConfig {
  MEMCACHED_TLS_CA_FILE?: string | undefined;
  MEMCACHED_TLS_CERT_FILE?: string | undefined;
  MEMCACHED_TLS_KEY_FILE?: string | undefined;
}

/**
 * The cluster's `tls` option from the MEMCACHED_TLS_* files: undefined (plain TCP) unless the CA
 * file is set; a client certificate needs both its certificate and its key. The files are read
 * here, at start, so a missing or unreadable one stops the service with the variable's name
 * instead of failing every cache request later. Errors name the variable and the reason
 * (ENOENT, EACCES), never a file's contents.
 */
export function readMemcachedTls(config: MemcachedTlsConfig): CacheTlsOptions | undefined {
  const {
    MEMCACHED_TLS_CA_FILE: caFile,
    MEMCACHED_TLS_CERT_FILE: certFile,
    MEMCACHED_TLS_KEY_FILE: keyFile,
  } = config;
  const problems: string[] = [];
  if (!caFile && (certFile || keyFile)) {
    problems.push(
      'MEMCACHED_TLS_CERT_FILE/MEMCACHED_TLS_KEY_FILE: need MEMCACHED_TLS_CA_FILE (TLS is off without it)',
    );
  }
  if (Boolean(certFile) !== Boolean(keyFile)) {
    problems.push('MEMCACHED_TLS_CERT_FILE and MEMCACHED_TLS_KEY_FILE: set both or neither');
  }
  if (problems.length > 0) throw new ConfigError(problems);
  if (!caFile) return undefined;
  const read = (name: string, path: string | undefined): Buffer | undefined => {
    if (!path) return undefined;
    try {
      return readFileSync(path);
    } catch (err) {
      problems.push(`${name}: cannot read the file (${(err as NodeJS.ErrnoException).code ?? 'error'})`);
      return undefined;
    }
  };
  const tls: CacheTlsOptions = {
    ca: read('MEMCACHED_TLS_CA_FILE', caFile) ?? Buffer.alloc(0),
    cert: read('MEMCACHED_TLS_CERT_FILE', certFile),
    key: read('MEMCACHED_TLS_KEY_FILE', keyFile),
  };
  if (problems.length > 0) throw new ConfigError(problems);
  return tls;
}
