import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { calculateJwkThumbprint, exportJWK, generateKeyPair, importJWK, SignJWT, type JWK } from 'jose';

/** What the native stack and the test fixtures call their token issuer; services check iss and aud. */
export const DEV_ISSUER = 'memshop-dev-issuer';
export const DEV_AUDIENCE = 'memshop';
export const ORDER_SERVICE_ISSUER = 'order-service';

const FILES = {
  issuerPrivateKey: 'issuer.private.jwk.json',
  issuerJwks: 'issuer.jwks.json',
  orderServicePrivateKey: 'order-service.private.jwk.json',
  orderServiceJwks: 'order-service.jwks.json',
};

/** The env every service needs to verify (and order-service to sign) tokens of these keys. */
export interface AuthEnvVars {
  AUTH_JWKS_FILE: string;
  AUTH_ISSUER: string;
  AUTH_AUDIENCE: string;
  SERVICE_JWKS_FILE: string;
  SERVICE_TOKEN_KEY_FILE: string;
}

export interface SignOptions {
  /** Default 15 minutes; negative for an expired token. */
  expiresInSeconds?: number;
  /** Default the stack's audience ('memshop') for user tokens. */
  audience?: string;
  issuer?: string;
  /** Sign with a key nobody trusts, under the trusted key's kid: a forged signature. */
  forged?: boolean;
}

/**
 * Development keys, made fresh with jose for a test run or a native stack (never committed): an
 * ES256 pair for the user token issuer and one for order-service, each with its JWKS file,
 * in a private temporary folder. Mints the tokens a client, an admin or order-service would send.
 */
export interface AuthKeys {
  /** The folder holding the key and JWKS files (mode 0700). */
  dir: string;
  env: AuthEnvVars;
  /**
   * The part of `env` a service uses: catalog and user verify order-service's tokens with its
   * JWKS; only order-service gets its private key.
   */
  envFor(service: 'catalog' | 'user' | 'order'): Record<string, string>;
  /** A user token: sub = id, roles as given (default none). */
  userToken(id: number, opts?: SignOptions & { roles?: string[] }): Promise<string>;
  /** A user token with roles ["admin"]. */
  adminToken(id?: number, opts?: SignOptions): Promise<string>;
  /** order-service's token for calls to `audience` ('catalog' | 'user'), 5 minutes. */
  serviceToken(audience: string, opts?: SignOptions): Promise<string>;
  /** Deletes the folder. */
  remove(): Promise<void>;
}

export async function createAuthKeys(opts: { parentDir?: string } = {}): Promise<AuthKeys> {
  const dir = await mkdtemp(path.join(opts.parentDir ?? os.tmpdir(), 'memshop-auth-'));
  const write = (file: string, value: unknown) =>
    writeFile(path.join(dir, file), `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  const issuer = await generateSigningKey();
  const orderService = await generateSigningKey();
  await write(FILES.issuerPrivateKey, issuer.privateJwk);
  await write(FILES.issuerJwks, { keys: [issuer.publicJwk] });
  await write(FILES.orderServicePrivateKey, orderService.privateJwk);
  await write(FILES.orderServiceJwks, { keys: [orderService.publicJwk] });
  return readAuthKeys(dir);
}

/** The keys createAuthKeys wrote to `dir` (what `npm run token` uses against a running stack). */
export async function readAuthKeys(dir: string): Promise<AuthKeys> {
  const read = async (file: string) => JSON.parse(await readFile(path.join(dir, file), 'utf8')) as JWK;
  const issuerJwk = await read(FILES.issuerPrivateKey);
  const orderServiceJwk = await read(FILES.orderServicePrivateKey);
  const stranger = await generateSigningKey();

  const sign = async (
    jwk: JWK,
    claims: { sub: string; roles?: string[] },
    defaults: { issuer: string; audience: string; expiresInSeconds: number },
    opts: SignOptions = {},
  ) => {
    const key = await importJWK(opts.forged ? stranger.privateJwk : jwk, 'ES256');
    const nowSeconds = Math.floor(Date.now() / 1000);
    const expiresIn = opts.expiresInSeconds ?? defaults.expiresInSeconds;
    return (
      new SignJWT(claims.roles ? { roles: claims.roles } : {})
        .setProtectedHeader({ alg: 'ES256', kid: jwk.kid!, typ: 'JWT' })
        .setIssuer(opts.issuer ?? defaults.issuer)
        .setAudience(opts.audience ?? defaults.audience)
        .setSubject(claims.sub)
        // An expired token was also issued in the past, as a real one would have been.
        .setIssuedAt(Math.min(nowSeconds, nowSeconds + expiresIn - 60))
        .setExpirationTime(nowSeconds + expiresIn)
        .sign(key)
    );
  };
  const userDefaults = { issuer: DEV_ISSUER, audience: DEV_AUDIENCE, expiresInSeconds: 15 * 60 };

  const env: AuthEnvVars = {
    AUTH_JWKS_FILE: path.join(dir, FILES.issuerJwks),
    AUTH_ISSUER: DEV_ISSUER,
    AUTH_AUDIENCE: DEV_AUDIENCE,
    SERVICE_JWKS_FILE: path.join(dir, FILES.orderServiceJwks),
    SERVICE_TOKEN_KEY_FILE: path.join(dir, FILES.orderServicePrivateKey),
  };
  const { SERVICE_TOKEN_KEY_FILE, SERVICE_JWKS_FILE, ...userTokens } = env;

  return {
    dir,
    env,
    envFor: (service) =>
      service === 'order' ? { ...userTokens, SERVICE_TOKEN_KEY_FILE } : { ...userTokens, SERVICE_JWKS_FILE },
    userToken: (id, opts = {}) =>
      sign(issuerJwk, { sub: String(id), roles: opts.roles ?? [] }, userDefaults, opts),
    adminToken: (id = 1, opts = {}) =>
      sign(issuerJwk, { sub: String(id), roles: ['admin'] }, userDefaults, opts),
    serviceToken: (audience, opts = {}) =>
      sign(
        orderServiceJwk,
        { sub: ORDER_SERVICE_ISSUER },
        { issuer: ORDER_SERVICE_ISSUER, audience, expiresInSeconds: 5 * 60 },
        opts,
      ),
    remove: () => rm(dir, { recursive: true, force: true }),
  };
}

/** The Authorization header for `token`, as supertest's `.set()` and fetch's `headers` take it. */
export function bearer(token: string): { authorization: string } {
  return { authorization: `Bearer ${token}` };
}

/** An ES256 pair as JWKs, kid = the public key's RFC 7638 thumbprint. */
export async function generateSigningKey(): Promise<{ privateJwk: JWK; publicJwk: JWK }> {
  const { publicKey, privateKey } = await generateKeyPair('ES256', { extractable: true });
  const publicJwk = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(publicJwk);
  const common = { kid, alg: 'ES256', use: 'sig' };
  return {
    privateJwk: { ...(await exportJWK(privateKey)), ...common },
    publicJwk: { ...publicJwk, ...common },
  };
}
