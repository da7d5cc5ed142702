import type { ApiContract } from './api-contract';

export interface FetchContractCheck {
  /** Every problem found so far, across the contracts. */
  violations(): string[];
  /** Waits for the checks of responses still being read, then throws on any violation. */
  assertNoViolations(): Promise<void>;
  /** Puts the original fetch back. */
  restore(): void;
}

/**
 * Wraps `globalThis.fetch` so that every response a suite receives from a service is checked
 * against the first contract that documents its method and path (suites that call several
 * services over real HTTP, as the e2e tests do). Responses no contract documents (another
 * server, an unknown route) are left alone: the component suites check those strictly. The
 * check reads a clone of the body, so the caller's response is untouched.
 */
export function checkFetchResponses(contracts: ApiContract[]): FetchContractCheck {
  const original = globalThis.fetch;
  const pending = new Set<Promise<void>>();
  const jestExpect = (globalThis as { expect?: { getState?: () => { currentTestName?: string } } }).expect;

  globalThis.fetch = async (input, init) => {
    const response = await original(input, init);
    const request = new Request(input, init);
    const url = new URL(request.url);
    const contract = contracts.find((c) => c.documents(request.method, url.pathname));
    if (!contract) return response;
    const test = jestExpect?.getState?.().currentTestName;
    const headers: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      headers[name] = value;
    });
    const check = response
      .clone()
      .text()
      .then(
        (body) => {
          contract.check(
            {
              method: request.method,
              url: `${url.pathname}${url.search}`,
              status: response.status,
              headers,
              body,
            },
            test,
          );
        },
        // A body cut off (a test that aborts, a service stopped on purpose) is not a contract
        // question: nothing was received to check.
        () => undefined,
      )
      .finally(() => pending.delete(check));
    pending.add(check);
    return response;
  };

  return {
    violations: () => contracts.flatMap((c) => c.violations),
    async assertNoViolations() {
      await Promise.all(pending);
      for (const contract of contracts) contract.assertNoViolations();
    },
    restore() {
      globalThis.fetch = original;
    },
  };
}
