# One Dockerfile for the three services and the migrate job; pick one with --target:
#   docker build --target catalog -t memshop/catalog .     (also: user, order, migrate)
# docker-compose.yml builds each target. Stages:
#   deps       all npm dependencies (the build needs esbuild, prisma, tsx)
#   build      Prisma clients generated, each service bundled by esbuild into dist/<svc>/
#   prod-deps  production dependencies only
#   runtime    Node 24 LTS (bookworm-slim), non-root, prod deps; each target adds only its own bundle
# No `# syntax=` line: it makes BuildKit pull a frontend image first, which fails offline and in
# air-gapped builds; the built-in frontend reads everything here.
#
# The base image is pinned by digest (the multi-platform index, so amd64 and arm64 builds both
# resolve it), so a rebuild gets the same bytes until someone moves the pin on purpose. The tag
# is the Node version scripts/fetch-node.sh pins. To update (docs/security.md, "The image"):
#   docker buildx imagetools inspect node:<version>-bookworm-slim   -> the "Digest:" line
# then replace both the tag and the digest below, and NODE_LTS_VERSION in scripts/fetch-node.sh.
ARG NODE_IMAGE=node:24.21.0-bookworm-slim@sha256:2fe369e969550cde8e867afc3fe370b260140cab4a23d467074295b42163d553

FROM ${NODE_IMAGE} AS deps
WORKDIR /repo
COPY package.json package-lock.json ./
# Install scripts stay off, as package.json's allowScripts says: nothing here needs a native
# build or an engine download (Prisma 7's client and schema engine are JS + WebAssembly).
RUN npm ci --no-audit --no-fund --ignore-scripts

FROM deps AS build
COPY tsconfig.base.json ./
COPY libs ./libs
COPY apps ./apps
# Generated clients land in apps/<svc>/src/prisma/generated (gitignored) and get bundled below.
RUN for svc in catalog user order; do \
      npm run --silent migrate -- generate --schema "apps/$svc/src/prisma/schema.prisma" \
        --config "apps/$svc/prisma.config.ts" || exit 1; \
    done
# Workspace code (apps + libs via the tsconfig path aliases) is bundled; npm packages stay
# external and come from node_modules at run time (prisma's wasm, pino's worker, prom-client).
RUN set -e; \
    bundle() { npx esbuild "$1" --bundle --platform=node --target=node24 --format=cjs \
                 --packages=external --sourcemap --tsconfig=tsconfig.base.json --outfile="$2"; }; \
    for svc in catalog user order; do \
      bundle "apps/$svc/src/main.ts" "dist/$svc/main.js"; \
      bundle libs/service-kit/src/outbox-relay-worker.ts "dist/$svc/outbox-relay-worker.js"; \
      bundle "apps/$svc/src/prisma/seed.ts" "dist/$svc/seed.js"; \
    done; \
    bundle libs/migrate/src/cli.ts dist/migrate/cli.js

FROM ${NODE_IMAGE} AS prod-deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=prod-deps /app/node_modules ./node_modules
COPY package.json ./
# Files stay root-owned and the process runs as the image's unprivileged `node` user (uid 1000),
# so a compromised process cannot rewrite its own code.
USER node

FROM runtime AS catalog
COPY --from=build /repo/dist/catalog/main.js /repo/dist/catalog/main.js.map \
     /repo/dist/catalog/outbox-relay-worker.js /repo/dist/catalog/outbox-relay-worker.js.map ./dist/catalog/
ENV PORT=3001
EXPOSE 3001
# --liftoff-only: Prisma's WebAssembly query compiler stays on V8's baseline tier (about 30 MB
# less resident memory); --heap-growing-percent=50: the heap grows in smaller steps under load.
# Measured by npm run bench (P7): 370 MB -> 158 MB peak (with bundles and Prisma's small query
# compiler), about 3% of cache-hit throughput.
# These are command-line only flags (NODE_OPTIONS rejects --liftoff-only).
CMD ["node", "--liftoff-only", "--heap-growing-percent=50", "--enable-source-maps", "dist/catalog/main.js"]

FROM runtime AS user
COPY --from=build /repo/dist/user/main.js /repo/dist/user/main.js.map \
     /repo/dist/user/outbox-relay-worker.js /repo/dist/user/outbox-relay-worker.js.map ./dist/user/
ENV PORT=3002
EXPOSE 3002
CMD ["node", "--liftoff-only", "--heap-growing-percent=50", "--enable-source-maps", "dist/user/main.js"]

FROM runtime AS order
COPY --from=build /repo/dist/order/main.js /repo/dist/order/main.js.map \
     /repo/dist/order/outbox-relay-worker.js /repo/dist/order/outbox-relay-worker.js.map ./dist/order/
ENV PORT=3003
EXPOSE 3003
CMD ["node", "--liftoff-only", "--heap-growing-percent=50", "--enable-source-maps", "dist/order/main.js"]

# The one-shot job: the offline migrator (its WebAssembly schema engine is the
# @prisma/schema-engine-wasm production dependency), each service's schema + migrations at the
# paths the repo uses, and the bundled seeds.
FROM runtime AS migrate
COPY --from=build /repo/dist/migrate ./dist/migrate
COPY --from=build /repo/dist/catalog/seed.js /repo/dist/catalog/seed.js.map ./dist/catalog/
COPY --from=build /repo/dist/user/seed.js /repo/dist/user/seed.js.map ./dist/user/
COPY --from=build /repo/dist/order/seed.js /repo/dist/order/seed.js.map ./dist/order/
COPY apps/catalog/src/prisma/schema.prisma ./apps/catalog/src/prisma/schema.prisma
COPY apps/catalog/src/prisma/migrations ./apps/catalog/src/prisma/migrations
COPY apps/user/src/prisma/schema.prisma ./apps/user/src/prisma/schema.prisma
COPY apps/user/src/prisma/migrations ./apps/user/src/prisma/migrations
COPY apps/order/src/prisma/schema.prisma ./apps/order/src/prisma/schema.prisma
COPY apps/order/src/prisma/migrations ./apps/order/src/prisma/migrations
COPY infra/migrate/migrate-and-seed.sh ./migrate-and-seed.sh
CMD ["sh", "./migrate-and-seed.sh"]
