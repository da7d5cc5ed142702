/**
 * Every e2e suite: each response a test receives from a service through fetch is checked against
 * that service's committed OpenAPI document (docs/openapi/); a mismatch fails the suite.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApiContract, checkFetchResponses, type ReceivedResponse } from '@memshop/testing/contract';

const documents = path.resolve(__dirname, '..', '..', '..', 'docs', 'openapi');
const contracts = ['catalog', 'user', 'order'].map(
  (service) =>
    new ApiContract(JSON.parse(readFileSync(path.join(documents, `${service}.json`), 'utf8')) as object, {
      ignore: [/^\/docs\//],
    }),
);
const check = checkFetchResponses(contracts);

/**
 * For suites that send requests without fetch (node:http, to control every byte): checks one
 * received response against the contract that documents it, as fetch responses are checked.
 */
export function checkReceived(response: ReceivedResponse): void {
  const test = expect.getState().currentTestName;
  contracts.find((c) => c.documents(response.method, response.url))?.check(response, test);
}

afterAll(async () => {
  check.restore();
  await check.assertNoViolations();
});
