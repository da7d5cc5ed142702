/**
 * Response checks against a service's OpenAPI document. A separate entry point
 * (`@memshop/testing/contract`) from the harness: the harness is copied alongside libs/cache and
 * must need none of ajv, express or supertest.
 */
export { ApiContract, type ReceivedResponse } from './api-contract';
export { contractCheckedApp } from './contract-checked-app';
export { checkFetchResponses, type FetchContractCheck } from './contract-fetch';
