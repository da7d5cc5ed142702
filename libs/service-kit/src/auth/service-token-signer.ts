import { readFile } from 'node:fs/promises';
import {
  calculateJwkThumbprint,
  exportJWK,
  importJWK,
  importPKCS8,
  SignJWT,
  type CryptoKey,
  type JWK,
} from 'jose';
import { ORDER_SERVICE, SERVICE_TOKEN_MAX_AGE_SECONDS } from './token-verifier';

/** A token is reused until this close to its expiry, so a call never leaves with one about to lapse. */
const RENEW_BEFORE_EXPIRY_SECONDS = 60;

interface SigningKey {
  key: CryptoKey;
  kid: string;
  alg: string;
}

/**
 * order-service's credential towards catalog and user: short-lived JWTs (5 min) signed with its
 * own private key (SERVICE_TOKEN_KEY_FILE), `iss` = `sub` = "order-service", `aud` = the service
 * called. One token per audience is cached until a minute before it expires, so a busy
 * order-service signs about once every 4 minutes per neighbour.
 */
export class ServiceTokenSigner {
  readonly #file: string;
  readonly #now: () => number;
  #key: Promise<SigningKey> | undefined;
  readonly #tokens = new Map<string, { token: string; renewAtSeconds: number }>();

  constructor(opts: { keyFile: string; now?: () => number }) {
    this.#file = opts.keyFile;
    this.#now = opts.now ?? Date.now;
  }

  /** Reads the key, so a missing or unreadable file stops the service at start. */
  async load(): Promise<void> {
    await this.#signingKey();
  }

  /** A bearer token for calls to `audience` ('catalog', 'user'). */
  async tokenFor(audience: string): Promise<string> {
    const nowSeconds = Math.floor(this.#now() / 1000);
    const cached = this.#tokens.get(audience);
    if (cached && nowSeconds < cached.renewAtSeconds) return cached.token;
    const { key, kid, alg } = await this.#signingKey();
    const expiresAt = nowSeconds + SERVICE_TOKEN_MAX_AGE_SECONDS;
    const token = await new SignJWT({})
      .setProtectedHeader({ alg, kid, typ: 'JWT' })
      .setIssuer(ORDER_SERVICE)
      .setSubject(ORDER_SERVICE)
      .setAudience(audience)
      .setIssuedAt(nowSeconds)
      .setExpirationTime(expiresAt)
      .sign(key);
    this.#tokens.set(audience, { token, renewAtSeconds: expiresAt - RENEW_BEFORE_EXPIRY_SECONDS });
    return token;
  }

  #signingKey(): Promise<SigningKey> {
    this.#key ??= readSigningKey(this.#file).catch((err: unknown) => {
      this.#key = undefined;
      throw err;
    });
    return this.#key;
  }
}

/**
 * A private JWK (its `kid` and `alg` are used; `alg` defaults to ES256) or a PKCS8 PEM of a P-256
 * key. Without a kid, the key's RFC 7638 thumbprint is the kid: the JWKS the stack writes uses the
 * same, so both sides agree without configuring it twice.
 */
async function readSigningKey(file: string): Promise<SigningKey> {
  const text = (await readFile(file, 'utf8')).trim();
  if (text.startsWith('-----BEGIN')) {
    const key = await importPKCS8(text, 'ES256', { extractable: true });
    return { key, alg: 'ES256', kid: await calculateJwkThumbprint(publicPart(await exportJWK(key))) };
  }
  let jwk: JWK;
  try {
    jwk = JSON.parse(text) as JWK;
  } catch {
    throw new Error(`${file} is neither a PKCS8 PEM nor a JWK`);
  }
  if (!jwk.d) throw new Error(`${file} holds no private key`);
  const alg = jwk.alg ?? 'ES256';
  const key = await importJWK(jwk, alg);
  if (key instanceof Uint8Array)
    throw new Error(`${file} is a secret key; service tokens need a private key`);
  return { key, alg, kid: jwk.kid ?? (await calculateJwkThumbprint(publicPart(jwk))) };
}

/** The members a thumbprint is computed over are public; dropping `d` keeps it so. */
function publicPart(jwk: JWK): JWK {
  const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, ...rest } = jwk;
  return rest;
}
