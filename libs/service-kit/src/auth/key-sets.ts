import { readFile } from 'node:fs/promises';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';

/** The verification keys of one issuer: load() once at start (fails fast), getKey per token. */
export interface VerificationKeys {
  load(): Promise<void>;
  getKey: JWTVerifyGetKey;
}

/** Same as jose's remote JWKS cooldown: an unknown kid re-reads the keys at most this often. */
const RELOAD_COOLDOWN_MS = 30_000;

/**
 * A JWKS json file (a mounted Secret or the native stack's dev keys). A token whose kid is not
 * in the set re-reads the file, at most every 30 s: a rotated file (new key added) is picked up
 * without a restart, and a flood of made-up kids costs one read per cooldown.
 */
export function jwksFileKeys(file: string, now: () => number = Date.now): VerificationKeys {
  let keys: ReturnType<typeof createLocalJWKSet> | undefined;
  let loadedAtMs = 0;
  const load = async () => {
    keys = createLocalJWKSet(parsePublicJwks(await readFile(file, 'utf8'), file));
    loadedAtMs = now();
  };
  return {
    load,
    getKey: async (header, token) => {
      if (!keys) await load();
      try {
        return await keys!(header, token);
      } catch (err) {
        if (!(err instanceof errors.JWKSNoMatchingKey) || now() - loadedAtMs < RELOAD_COOLDOWN_MS) throw err;
        await load();
        return keys!(header, token);
      }
    },
  };
}

/** The issuer's JWKS endpoint, fetched and cached by jose (refetched on an unknown kid, 30 s cooldown). */
export function jwksUrlKeys(url: string): VerificationKeys {
  const keys = createRemoteJWKSet(new URL(url), {
    timeoutDuration: 5000,
    cooldownDuration: RELOAD_COOLDOWN_MS,
  });
  return {
    // Reached on the first token; an issuer briefly down at start must not keep the service down.
    load: async () => undefined,
    getKey: keys,
  };
}

/** A JWKS with public keys only: a private member (`d`, `p`, ...) means the wrong file was mounted. */
function parsePublicJwks(text: string, file: string): JSONWebKeySet {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new Error(`${file} is not JSON (expected a JWKS: {"keys": [...]})`);
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0)
    throw new Error(`${file} is not a JWKS with at least one key`);
  for (const key of keys) {
    if (typeof key !== 'object' || key === null) throw new Error(`${file} holds a key that is not an object`);
    if (['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((member) => member in key)) {
      throw new Error(
        `${file} holds private or secret key material; a JWKS for verification holds public keys only`,
      );
    }
  }
  return parsed as JSONWebKeySet;
}
