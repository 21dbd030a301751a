// Asking a contract whether it admits one incoming cross-apartment call, and wording its refusal.
// Called in the object's apartment by the dispatcher (proxy calls) and by the free-object registry
// (free-pool handle calls), before the call starts.
import { ContractViolationError } from '../marshal/errors.js';
import type { AdmitRequest, Contract } from './contract.js';

/**
 * The error to fail the call with, or undefined when `contract` admits it. A contract without
 * admit() admits everything; an admit() that throws refuses (a contract guards correctness, so it
 * fails closed) and the refusal says what it threw.
 */
export function admitRefusal(contract: Contract, call: AdmitRequest, label: (apartment: number) => string): ContractViolationError | undefined {
  if (contract.admit === undefined) return undefined;
  let verdict: unknown;
  try {
    verdict = contract.admit(call);
  } catch (err) {
    return new ContractViolationError(`[contract-admit-threw] the admit() of contract '${contract.name}' threw on call '${call.method}' to ${call.className} (${(err as Error)?.message ?? String(err)}); the call was refused — fix the contract's admit()`);
  }
  if (verdict === true) return undefined;
  const what = `[contract-refused] contract '${contract.name}' refused call '${call.method}' from ${label(call.callerApartment)} to ${call.className} in ${label(call.apartment)}`;
  const why = typeof verdict === 'string' && verdict.length > 0
    ? verdict
    : `make the call from an apartment the contract admits, or ask the object's own apartment to make it`;
  return new ContractViolationError(`${what}: ${why}`);
}
