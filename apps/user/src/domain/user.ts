/** A user as the API returns it and the cache stores it (order-service reads it via docs/openapi). */
export interface User {
  id: number;
  email: string;
  name: string;
  profile: { bio: string; locale: string };
  version: number;
  createdAt: string;
  updatedAt: string;
}

export interface NewUser {
  email: string;
  name: string;
  bio?: string;
  locale?: string;
}

export type UserChanges = Partial<NewUser>;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null;

/** Shape check of a cached user: a corrupt entry is a miss, never a crash (memcached is unauthenticated). */
export function isUser(v: unknown): v is User {
  return (
    isObject(v) &&
    Number.isInteger(v.id) &&
    typeof v.email === 'string' &&
    typeof v.name === 'string' &&
    isObject(v.profile) &&
    typeof v.profile.bio === 'string' &&
    typeof v.profile.locale === 'string' &&
    Number.isInteger(v.version) &&
    typeof v.createdAt === 'string' &&
    typeof v.updatedAt === 'string'
  );
}

/** Emails compare without case: stored lower-cased, so the unique index does the check. */
export function normalizeEmail(email: string): string {
  return email.trim().toLowerCase();
}
