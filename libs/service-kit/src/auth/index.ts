export {
  authEnvShape,
  requireOneJwksSource,
  serviceJwksEnvShape,
  serviceTokenKeyEnvShape,
  type AuthEnv,
} from './auth-config';
export { authenticate, sendForbidden, sendUnauthorized } from './authenticate';
export {
  allow,
  isAdmin,
  isAnyUser,
  isSelf,
  isService,
  requireAdmin,
  requireSelfOrAdmin,
  requireService,
  requireUser,
  type AccessRule,
} from './access-rules';
export {
  ADMIN_ROLE,
  isAdminUser,
  principalOf,
  type Principal,
  type ServicePrincipal,
  type UserPrincipal,
} from './principal';
export { ServiceTokenSigner } from './service-token-signer';
export {
  ACCEPTED_ALGORITHMS,
  InvalidTokenError,
  ORDER_SERVICE,
  SERVICE_TOKEN_MAX_AGE_SECONDS,
  TokenVerifier,
  VerificationUnavailableError,
  type ServiceTokenAudience,
} from './token-verifier';
