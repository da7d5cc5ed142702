import Ajv2020, { type ValidateFunction } from 'ajv/dist/2020';
import addFormats from 'ajv-formats';

/** The parts of an OpenAPI 3.1 document a response is checked against. */
interface OpenApiDocument {
  paths: Record<string, Record<string, OperationObject | unknown>>;
  components?: { schemas?: Record<string, unknown> };
}

interface OperationObject {
  operationId?: string;
  responses: Record<string, ResponseObject>;
}

interface ResponseObject {
  headers?: Record<string, { required?: boolean; schema?: unknown }>;
  content?: Record<string, { schema?: unknown }>;
}

/** A response as a client received it. */
export interface ReceivedResponse {
  method: string;
  /** The request path, with or without a query string. */
  url: string;
  status: number;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  /** The body text ('' when there was none). */
  body: string;
}

/** The id the document's components are registered under (a reserved .invalid host: never fetched). */
const DOCUMENT_ID = 'https://contract.invalid/openapi.json';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options'];

/** `/products/{id}` -> /^\/products\/([^/]+)$/; literal segments win over templated ones. */
function pathPattern(template: string): RegExp {
  const escaped = template
    .split(/\{[^}]+\}/)
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))
    .join('[^/]+');
  return new RegExp(`^${escaped}$`);
}

/**
 * One service's OpenAPI document as a checker of real responses: the status must be documented
 * for the operation, required headers present and valid, and a JSON body valid against the
 * response schema (ajv, JSON Schema 2020-12 as OpenAPI 3.1 uses). Every check is recorded, so a
 * suite can also show that each documented operation was exercised.
 */
export class ApiContract {
  readonly #document: OpenApiDocument;
  readonly #ajv: Ajv2020;
  readonly #validators = new Map<string, ValidateFunction>();
  readonly #routes: Array<{ template: string; pattern: RegExp }>;
  readonly #ignored: RegExp[];
  /** `GET /products/{id} 200` for every response checked. */
  readonly exercised = new Set<string>();
  /** Human-readable problems found so far (each names the response). */
  readonly violations: string[] = [];

  /** `ignore`: paths that are not API (e.g. the docs page's static assets). */
  constructor(document: object, opts: { ignore?: RegExp[] } = {}) {
    this.#document = document as OpenApiDocument;
    this.#ignored = opts.ignore ?? [];
    // OpenAPI keywords (`example`, `discriminator`...) are not JSON Schema: not strict.
    this.#ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(this.#ajv);
    this.#ajv.addSchema({ components: this.#document.components ?? {} }, DOCUMENT_ID);
    // Literal paths first, so `/products/stock` would not be taken for `/products/{id}`.
    this.#routes = Object.keys(this.#document.paths)
      .sort((a, b) => a.split('{').length - b.split('{').length)
      .map((template) => ({ template, pattern: pathPattern(template) }));
  }

  /** `GET /products/{id}` for every documented operation. */
  operations(): string[] {
    const list: string[] = [];
    for (const [template, item] of Object.entries(this.#document.paths)) {
      for (const method of Object.keys(item)) {
        if (METHODS.includes(method)) list.push(`${method.toUpperCase()} ${template}`);
      }
    }
    return list;
  }

  /** Documented operations that no checked response has come from. */
  unexercisedOperations(): string[] {
    const seen = new Set([...this.exercised].map((key) => key.slice(0, key.lastIndexOf(' '))));
    return this.operations().filter((op) => !seen.has(op));
  }

  /** Whether the document has an operation for `method` on `url`'s path. */
  documents(method: string, url: string): boolean {
    const path = url.split('?')[0]!;
    const route = this.#routes.find((r) => r.pattern.test(path));
    return route !== undefined && this.#document.paths[route.template]![method.toLowerCase()] !== undefined;
  }

  /**
   * Checks one response; returns its problems (also appended to `violations`). `context` (e.g.
   * the test that received it) is added to each problem.
   */
  check(response: ReceivedResponse, context?: string): string[] {
    const path = response.url.split('?')[0]!;
    if (this.#ignored.some((pattern) => pattern.test(path))) return [];
    const method = response.method.toLowerCase();
    const label = `${response.method.toUpperCase()} ${response.url} -> ${response.status}`;
    const problems = this.#problems(method, path, response);
    const where = context ? ` (in "${context}")` : '';
    const found = problems.map((p) => `${label}: ${p}${where}`);
    this.violations.push(...found);
    return found;
  }

  #problems(method: string, path: string, response: ReceivedResponse): string[] {
    const route = this.#routes.find((r) => r.pattern.test(path));
    const operation = route && (this.#document.paths[route.template]![method] as OperationObject | undefined);
    if (!route || !operation) {
      // The app's catch-all answer for a route that does not exist is part of the error contract.
      if (response.status === 404 && this.#isErrorBody(response, 'not_found')) return [];
      return [`no documented operation ${method.toUpperCase()} ${path}`];
    }
    this.exercised.add(`${method.toUpperCase()} ${route.template} ${response.status}`);
    const documented = operation.responses[String(response.status)] ?? operation.responses['default'];
    if (!documented) {
      return [
        `status ${response.status} is not documented (documented: ${Object.keys(operation.responses).join(', ')})`,
      ];
    }
    const pointer = `${route.template} ${method} ${response.status}`;
    return [
      ...this.#headerProblems(documented, pointer, response),
      ...this.#bodyProblems(documented, pointer, response),
    ];
  }

  #headerProblems(documented: ResponseObject, pointer: string, response: ReceivedResponse): string[] {
    const problems: string[] = [];
    for (const [name, header] of Object.entries(documented.headers ?? {})) {
      const value = response.headers[name.toLowerCase()];
      if (value === undefined) {
        if (header.required) problems.push(`missing header ${name}`);
        continue;
      }
      if (header.schema) {
        const validate = this.#validator(`${pointer} header ${name}`, header.schema);
        if (!validate(value)) problems.push(`header ${name}: ${this.#ajv.errorsText(validate.errors)}`);
      }
    }
    return problems;
  }

  #bodyProblems(documented: ResponseObject, pointer: string, response: ReceivedResponse): string[] {
    const content = documented.content;
    if (!content) return response.body === '' ? [] : ['a body where none is documented'];
    const contentType = (response.headers['content-type'] ?? '').split(';')[0]!.trim();
    const media = content[contentType];
    if (!media) {
      return [`content type "${contentType}" is not documented (${Object.keys(content).join(', ')})`];
    }
    if (contentType !== 'application/json' || !media.schema) return [];
    let body: unknown;
    try {
      body = JSON.parse(response.body);
    } catch {
      return ['the body is not JSON'];
    }
    const validate = this.#validator(`${pointer} body`, media.schema);
    return validate(body) ? [] : [`body: ${this.#ajv.errorsText(validate.errors, { dataVar: 'body' })}`];
  }

  #isErrorBody(response: ReceivedResponse, code: string): boolean {
    try {
      const body = JSON.parse(response.body) as { error?: { code?: unknown; message?: unknown } };
      return body.error?.code === code && typeof body.error.message === 'string';
    } catch {
      return false;
    }
  }

  #validator(key: string, schema: unknown): ValidateFunction {
    let validate = this.#validators.get(key);
    if (!validate) {
      // `#/components/...` refs point into the document, registered above under DOCUMENT_ID.
      const resolved = JSON.parse(
        JSON.stringify(schema).replaceAll('"#/components/', `"${DOCUMENT_ID}#/components/`),
      );
      validate = this.#ajv.compile(resolved as object);
      this.#validators.set(key, validate);
    }
    return validate;
  }

  /** Throws when any checked response broke the contract. */
  assertNoViolations(): void {
    if (this.violations.length > 0) {
      throw new Error(
        `${this.violations.length} response(s) do not match the OpenAPI document:\n  ${this.violations.join('\n  ')}`,
      );
    }
  }
}
