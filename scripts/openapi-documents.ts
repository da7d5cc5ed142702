/**
 * The files generated from the services' zod schemas: each service's OpenAPI document
 * (docs/openapi/<service>.json) and the TypeScript types order-service calls catalog and user
 * with (apps/order/src/data/api-types/). `npm run openapi` writes them; a test fails when the
 * committed files differ from what this renders.
 */
import path from 'node:path';
import openapiTS, { astToString } from 'openapi-typescript';
import * as prettier from 'prettier';
import { catalogApiDocument } from '../apps/catalog/src/api/openapi';
import { orderApiDocument } from '../apps/order/src/api/openapi';
import { userApiDocument } from '../apps/user/src/api/openapi';

export const ROOT = path.resolve(__dirname, '..');

export const API_DOCUMENTS = {
  catalog: catalogApiDocument,
  user: userApiDocument,
  order: orderApiDocument,
} as const;

export type ServiceName = keyof typeof API_DOCUMENTS;

export const documentPath = (service: ServiceName) => path.join(ROOT, 'docs', 'openapi', `${service}.json`);

/** The upstreams order-service calls, and where their generated types live. */
export const ORDER_UPSTREAM_TYPES: Record<'catalog' | 'user', string> = {
  catalog: path.join(ROOT, 'apps', 'order', 'src', 'data', 'api-types', 'catalog-api.ts'),
  user: path.join(ROOT, 'apps', 'order', 'src', 'data', 'api-types', 'user-api.ts'),
};

async function format(text: string, filepath: string): Promise<string> {
  const options = await prettier.resolveConfig(filepath);
  return prettier.format(text, { ...options, filepath });
}

/** A service's document as committed: JSON formatted by the repository's Prettier settings. */
export async function renderDocument(service: ServiceName): Promise<string> {
  return format(JSON.stringify(API_DOCUMENTS[service]()), documentPath(service));
}

/** openapi-typescript's `paths` / `components` types for a document, unformatted. */
export async function upstreamTypesSource(service: 'catalog' | 'user', document: object): Promise<string> {
  const ast = await openapiTS(JSON.parse(JSON.stringify(document)) as Parameters<typeof openapiTS>[0]);
  const header = `/**\n * ${service}-service's API as types, generated from docs/openapi/${service}.json by\n * \`npm run openapi\` (openapi-typescript). Do not edit: change the schemas in apps/${service}/src/api.\n */\n`;
  return header + astToString(ast);
}

/** The upstream's types as committed in order-service. */
export async function renderUpstreamTypes(service: 'catalog' | 'user'): Promise<string> {
  return format(await upstreamTypesSource(service, API_DOCUMENTS[service]()), ORDER_UPSTREAM_TYPES[service]);
}

/** Every generated file: absolute path -> content. */
export async function renderApiFiles(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const service of Object.keys(API_DOCUMENTS) as ServiceName[]) {
    files.set(documentPath(service), await renderDocument(service));
  }
  for (const service of ['catalog', 'user'] as const) {
    files.set(ORDER_UPSTREAM_TYPES[service], await renderUpstreamTypes(service));
  }
  return files;
}
