// The public API of apartment-runtime. Re-exports only.
export { Runtime, type RuntimeOptions, type ApartmentOptions, type CreateOptions, type RuntimeEvents } from './runtime.js';
export { Apartment, type ApartmentEvents } from '../apartments/apartment.js';
export type { ApartmentState } from '../apartments/apartment-state.js';
export {
  singleThread, roundRobin, leastLoaded, threadPerObject, type AssignmentPolicy, type AssignmentRequest, type AssignmentSpec,
} from '../apartments/assignment.js';
export type { ApartmentStats } from '../apartments/apartment-stats.js';
export { ApartmentPool, PooledApartment, type PoolOptions } from '../apartments/apartment-pool.js';
export type { ApartmentHooks, DetachReason } from '../apartments/apartment-hooks.js';
export { SharedLease, type SharedResourceDefinition } from './shared-resources.js';
export { lease, disposeRental, RentalLease, type LeaseOptions } from './rental.js';
export { SharedMutex, LockGuard, type SharedMutexOptions, type SharedMutexHandle, type LockOptions } from './shared-state/shared-mutex.js';
export { AtomicRefCount, AtomicCounter, NonAtomicCount } from './shared-state/atomic-ref-count.js';
export { setLockOrderChecking } from './shared-state/lock-order.js';
export { named, once, NamedHandle } from './shared-state/named.js';
export { ScriptEngine, type ScriptState, type ScriptRunOptions } from './script-engine/script-engine.js';
export { interruptScript } from './script-engine/interrupt.js';
export type { ScriptEngineApi } from './script-engine/script-engine-api.js';
export {
  bindScriptEngineApi, ScriptEngineApiProxy, ScriptEngineApiManifest, ScriptEngineApiRemote,
} from './script-engine/generated/script-engine-api.remote.js';
export {
  marshalInterface, unmarshalInterface, revokeMarshal, globalInterfaceTable, type MarshalKind, type MarshalToken,
} from './interface-marshaling.js';
export type {
  Reentrancy, CallCategory, FilterVerdict, IncomingCallView, MessageFilter,
} from '../apartments/admission.js';
export {
  currentApartment, currentCall, inApartment, initializeApartment, uninitializeApartment,
  type ApartmentContext, type ApartmentKind, type CallInfo, type ThreadModel,
} from './context.js';
export type { ClassRegistration, ClassDescriptor } from './class-registry.js';
export {
  defineContract, getContract, type AdmitRequest, type AdmitVerdict, type Contract, type CreatorKind, type CreationMode, type MarshalRule,
  type Placement, type PlacementRequest, type Residence,
} from './contracts/contract.js';
export { single, apartment, both, free, rental } from './contracts/builtins.js';
export type { Logger, LogEntry } from './logger.js';
export * from './errors.js';
export { byRef, transfer } from '../marshal/by-ref.js';
export { callOptions, CallOptions, type CallOptionsInit, type RetryPolicy } from '../marshal/call-options.js';
export { release, isProxy, type Remote, type RemoteMethod } from '../marshal/proxy.js';
export type { EndpointStats } from '../marshal/endpoint.js';
export {
  proxygenSupport, type CheckReport, type InterfaceManifest, type MemberSpec, type ParamSpec, type RemoteInterface, type StubTable,
} from './proxygen-support.js';
export type { MemberKind } from '../marshal/interface-manifest.js';
export { bindInterface, queryInterface, type InterfaceRequest, type MemberMap, type RemoteSubscription, type RemoteTarget } from './interface-binding.js';
