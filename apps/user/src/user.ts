import { DownstreamCopies } from '@memshop/cache';
import { composeService, type ComposedService, type ServiceOverrides } from '@memshop/service-kit';
import { createApp } from './app';
import type { UserConfig } from './config';
import { userAuditSources } from './data/user-audit';
import { UserCache } from './data/user-cache';
import { UserRepository } from './data/user-repository';
import { UserService } from './domain/user-service';
import { createUserEventHandler, USER_EVENT_BINDINGS } from './events/user-events';
import { PrismaClient } from './prisma/generated/client';

export interface UserOverrides extends ServiceOverrides {
  /** What the event consumer reloads users with; default the service's repository. */
  eventRepository?: (repository: UserRepository) => Pick<UserRepository, 'findUser'>;
}

export type UserHandle = ComposedService<
  PrismaClient,
  { users: UserService; repository: UserRepository; userCache: UserCache }
>;

/**
 * user-service from its config: Prisma, the memcached ring, cache, bus, relay and auditor
 * (composeService), and the app. main.ts and every test harness build it here, so tests run
 * the production wiring. No I/O until start().
 */
export function createUserService(config: UserConfig, overrides: UserOverrides = {}): UserHandle {
  const options = {
    service: 'user',
    config,
    PrismaClient,
    bindings: USER_EVENT_BINDINGS,
    // order-service reads the users it copies into orders; its tokens name user as their audience.
    serviceTokens: { jwksFile: config.SERVICE_JWKS_FILE, audience: 'user' },
    overrides,
  };
  return composeService(
    options,
    ({ logger, metrics, prisma, runtime, authenticate, rateLimits, requestDeadlineMs }) => {
      const repository = new UserRepository(prisma);
      const userCache = new UserCache({ cache: runtime.cache, schemaVersion: config.CACHE_SCHEMA_VERSION });
      const userCopies = new DownstreamCopies(runtime.cache, config.INVALIDATION_USER_COPIES);
      const users = new UserService({
        repository,
        cache: userCache,
        afterCommit: (events) => runtime.relay.kick(events),
        purgeUserCopies: (ids) => userCopies.purge(ids),
      });
      const eventRepository = overrides.eventRepository?.(repository) ?? repository;
      runtime.bus.subscribe(
        createUserEventHandler({ repository: eventRepository, cache: userCache, logger }),
      );
      const auditor = runtime.createAuditor(userAuditSources(prisma, userCache));
      return {
        app: createApp({
          users,
          logger,
          metrics,
          healthChecks: runtime.healthChecks,
          audit: auditor,
          authenticate,
          rateLimits,
          requestDeadlineMs,
        }),
        auditor,
        parts: { users, repository, userCache },
      };
    },
  );
}
