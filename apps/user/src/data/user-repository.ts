import { enqueueOutboxEvent, type InvalidationEvent } from '@memshop/cache';
import { Prisma, type PrismaClient } from '../prisma/generated/client';
import { DuplicateEmailError, UserNotFoundError } from '../domain/errors';
import { normalizeEmail, type NewUser, type User, type UserChanges } from '../domain/user';

const userInclude = { profile: { select: { bio: true, locale: true } } } as const;
type UserRow = Prisma.UserGetPayload<{ include: typeof userInclude }>;
type Tx = Prisma.TransactionClient;

function toUser(row: UserRow): User {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    profile: { bio: row.profile?.bio ?? '', locale: row.profile?.locale ?? 'en' },
    version: row.version,
    createdAt: row.createdAt.toISOString(),
    updatedAt: row.updatedAt.toISOString(),
  };
}

const isKnownError = (err: unknown, code: string) =>
  err instanceof Prisma.PrismaClientKnownRequestError && err.code === code;

/**
 * Postgres access for users. Every write changes its rows and enqueues its invalidation event
 * in ONE interactive transaction (transactional outbox), so no invalidation is lost when the process dies
 * between commit and publish.
 */
export class UserRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async findUser(id: number): Promise<User | null> {
    const row = await this.prisma.user.findUnique({ where: { id }, include: userInclude });
    return row ? toUser(row) : null;
  }

  async findUsers(ids: number[]): Promise<Map<number, User>> {
    const rows = await this.prisma.user.findMany({ where: { id: { in: ids } }, include: userInclude });
    return new Map(rows.map((row) => [row.id, toUser(row)]));
  }

  async createUser(input: NewUser): Promise<{ user: User; event: InvalidationEvent }> {
    const email = normalizeEmail(input.email);
    try {
      return await this.prisma.$transaction(async (tx) => {
        const row = await tx.user.create({
          data: {
            email,
            name: input.name,
            profile: { create: { bio: input.bio ?? '', locale: input.locale ?? 'en' } },
          },
          include: userInclude,
        });
        const event = await this.#enqueue(tx, 'created', row.id, row.version);
        return { user: toUser(row), event };
      });
    } catch (err) {
      if (isKnownError(err, 'P2002')) throw new DuplicateEmailError(email);
      throw err;
    }
  }

  async updateUser(id: number, changes: UserChanges): Promise<{ user: User; event: InvalidationEvent }> {
    const email = changes.email === undefined ? undefined : normalizeEmail(changes.email);
    const profile = {
      ...(changes.bio !== undefined ? { bio: changes.bio } : {}),
      ...(changes.locale !== undefined ? { locale: changes.locale } : {}),
    };
    try {
      return await this.prisma.$transaction(async (tx) => {
        const row = await tx.user.update({
          where: { id },
          data: {
            ...(email !== undefined ? { email } : {}),
            ...(changes.name !== undefined ? { name: changes.name } : {}),
            version: { increment: 1 },
            ...(Object.keys(profile).length > 0
              ? { profile: { upsert: { create: profile, update: profile } } }
              : {}),
          },
          include: userInclude,
        });
        const event = await this.#enqueue(tx, 'updated', id, row.version);
        return { user: toUser(row), event };
      });
    } catch (err) {
      if (isKnownError(err, 'P2025')) throw new UserNotFoundError(id);
      if (isKnownError(err, 'P2002') && email) throw new DuplicateEmailError(email);
      throw err;
    }
  }

  async deleteUser(id: number): Promise<{ event: InvalidationEvent }> {
    try {
      return await this.prisma.$transaction(async (tx) => {
        const row = await tx.user.delete({ where: { id }, select: { version: true } });
        const event = await this.#enqueue(tx, 'deleted', id, row.version + 1);
        return { event };
      });
    } catch (err) {
      if (isKnownError(err, 'P2025')) throw new UserNotFoundError(id);
      throw err;
    }
  }

  #enqueue(tx: Tx, action: InvalidationEvent['action'], id: number, version: number) {
    return enqueueOutboxEvent(tx, { source: 'user', entity: 'user', action, entityId: String(id), version });
  }
}
