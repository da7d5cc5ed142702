import { decodeJwt, errors, jwtVerify, type JWSAlgorithm } from 'jose';
import type { AuthEnv } from './auth-config';
import { jwksFileKeys, jwksUrlKeys, type VerificationKeys } from './key-sets';
import type { Principal, ServicePrincipal, UserPrincipal } from './principal';

/**
 * Asymmetric algorithms only: "none" and the HS* family are never accepted, so a public key can
 * never be used as an HMAC secret (the classic algorithm-confusion forgery).
 */
export const ACCEPTED_ALGORITHMS: JWSAlgorithm[] = ['ES256', 'RS256', 'EdDSA', 'Ed25519'];

/** The issuer name in every service token order-service signs (iss and sub). */
export const ORDER_SERVICE = 'order-service';

/** Service tokens live at most 5 minutes (plus the clock tolerance). */
export const SERVICE_TOKEN_MAX_AGE_SECONDS = 300;

/** The token is missing a part, expired, for someone else, or not signed by a trusted key: a 401. */
export class InvalidTokenError extends Error {
  override name = 'InvalidTokenError';
}

/** The keys could not be read (JWKS endpoint down): the token may be fine, so a 503, not a 401. */
export class VerificationUnavailableError extends Error {
  override name = 'VerificationUnavailableError';
}

export interface ServiceTokenAudience {
  /** JWKS file with the calling service's public key(s) (SERVICE_JWKS_FILE). */
  jwksFile: string;
  /** This service's name, the `aud` a service token for it carries ('catalog', 'user'). */
  audience: string;
}

const USER_ID_PATTERN = /^[1-9][0-9]{0,9}$/;
const MAX_USER_ID = 2_147_483_647;

/**
 * Verifies bearer tokens with jose: user tokens against the issuer's JWKS (iss, aud, exp with a
 * bounded clock skew), and, where configured, order-service's tokens against its own keys with
 * this service as audience. The two key sets are disjoint, so neither kind passes as the other.
 */
export class TokenVerifier {
  readonly #userKeys: VerificationKeys;
  readonly #serviceKeys: VerificationKeys | undefined;
  readonly #env: AuthEnv;
  readonly #serviceAudience: string | undefined;

  constructor(env: AuthEnv, services?: ServiceTokenAudience) {
    this.#env = env;
    this.#userKeys = env.AUTH_JWKS_URL ? jwksUrlKeys(env.AUTH_JWKS_URL) : jwksFileKeys(env.AUTH_JWKS_FILE!);
    this.#serviceKeys = services ? jwksFileKeys(services.jwksFile) : undefined;
    this.#serviceAudience = services?.audience;
  }

  /** Reads the key files, so a missing or malformed one stops the service at start. */
  async load(): Promise<void> {
    await this.#userKeys.load();
    await this.#serviceKeys?.load();
  }

  async verify(token: string): Promise<Principal> {
    let issuer: unknown;
    try {
      issuer = decodeJwt(token).iss;
    } catch {
      throw new InvalidTokenError('the token is not a JWT');
    }
    // Only picks which keys to check against; the signature check below decides.
    if (issuer === ORDER_SERVICE && this.#serviceKeys) return this.#verifyService(token);
    return this.#verifyUser(token);
  }

  async #verifyUser(token: string): Promise<UserPrincipal> {
    const { payload } = await this.#check(() =>
      jwtVerify(token, this.#userKeys.getKey, {
        issuer: this.#env.AUTH_ISSUER,
        audience: this.#env.AUTH_AUDIENCE,
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: this.#env.AUTH_CLOCK_TOLERANCE_SECONDS,
        requiredClaims: ['sub', 'exp'],
      }),
    );
    const sub = payload.sub ?? '';
    if (!USER_ID_PATTERN.test(sub) || Number(sub) > MAX_USER_ID) {
      throw new InvalidTokenError('the token subject is not a user id');
    }
    const roles = payload['roles'] ?? [];
    if (!Array.isArray(roles) || !roles.every((r): r is string => typeof r === 'string')) {
      throw new InvalidTokenError('the roles claim is not a list of strings');
    }
    return { kind: 'user', id: Number(sub), roles };
  }

  async #verifyService(token: string): Promise<ServicePrincipal> {
    await this.#check(() =>
      jwtVerify(token, this.#serviceKeys!.getKey, {
        issuer: ORDER_SERVICE,
        subject: ORDER_SERVICE,
        audience: this.#serviceAudience!,
        algorithms: ACCEPTED_ALGORITHMS,
        clockTolerance: this.#env.AUTH_CLOCK_TOLERANCE_SECONDS,
        maxTokenAge: SERVICE_TOKEN_MAX_AGE_SECONDS,
        requiredClaims: ['exp', 'iat'],
      }),
    );
    return { kind: 'service', name: ORDER_SERVICE };
  }

  async #check<T>(verify: () => Promise<T>): Promise<T> {
    try {
      return await verify();
    } catch (err) {
      if (err instanceof errors.JWKSTimeout)
        throw new VerificationUnavailableError('the token keys did not load in time');
      if (err instanceof errors.JOSEError) throw new InvalidTokenError(describeJoseError(err));
      // Anything else is the key source failing (an unreachable JWKS URL, an unreadable file).
      throw new VerificationUnavailableError(`the token keys could not be read: ${(err as Error).message}`);
    }
  }
}

/** Tells the client what to fix without echoing the token. */
function describeJoseError(err: errors.JOSEError): string {
  if (err instanceof errors.JWTExpired) return 'the token has expired';
  if (err instanceof errors.JWTClaimValidationFailed) return `the token's ${err.claim} claim is not accepted`;
  if (err instanceof errors.JWKSNoMatchingKey || err instanceof errors.JWSSignatureVerificationFailed) {
    return 'the token is not signed by a trusted key';
  }
  if (err instanceof errors.JOSEAlgNotAllowed) return 'the token algorithm is not accepted';
  return 'the token is malformed';
}
