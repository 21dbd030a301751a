// The runtime's error classes. Each carries a `code` named after the COM result it mirrors, so
// users who know COM can map them, and code can switch on `err.code` across apartments.
// It lives on the lowest floor and imports nothing of ours: errors cross the wire and their codes
// are protocol, so every layer may throw these.

/** The closed set of result codes an ApartmentError may carry. */
export type ApartmentErrorCode =
  | 'RPC_E_WRONG_THREAD'
  | 'E_UNEXPECTED'
  | 'CO_E_NOTINITIALIZED'
  | 'RPC_E_CHANGED_MODE'
  | 'RPC_E_DISCONNECTED'
  | 'CO_E_OBJNOTCONNECTED'
  | 'RPC_E_CALL_REJECTED'
  | 'RPC_E_SERVERCALL_RETRYLATER'
  | 'RPC_E_CALL_CANCELED'
  | 'RPC_E_TIMEOUT'
  | 'RPC_E_SERVERFAULT'
  | 'ERROR_POSSIBLE_DEADLOCK'
  | 'ERROR_LOCK_VIOLATION'
  | 'REGDB_E_CLASSNOTREG'
  | 'CO_E_ERRORINDLL'
  | 'E_NOINTERFACE'
  | 'E_INVALIDARG'
  | 'E_ACCESSDENIED'
  | 'DISP_E_BADVARTYPE'
  | 'RPC_E_INVALID_DATAPACKET'
  | 'RPC_E_VERSION_MISMATCH'
  | 'ERROR_BUSY'
  | 'SCRIPT_E_RECORDED'
  | 'RPC_E_CANTCALLOUT_ININPUTSYNCCALL';

/** Options every runtime error accepts; `cause` follows the standard Error option. */
export interface ApartmentErrorOptions {
  cause?: unknown;
}

/** Base of every error the runtime raises; `code` mirrors a COM result. */
export class ApartmentError extends Error {
  readonly code: ApartmentErrorCode;
  constructor(code: ApartmentErrorCode, message: string, options?: ApartmentErrorOptions) {
    super(message, options);
    this.code = code;
  }
}

/** A method ran on a thread that may not run it (RPC_E_WRONG_THREAD, or E_UNEXPECTED for engines). */
export class WrongThreadError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions & { code?: 'RPC_E_WRONG_THREAD' | 'E_UNEXPECTED' }) {
    super(options?.code ?? 'RPC_E_WRONG_THREAD', message, options);
  }
}

/** The calling thread never joined an apartment (CO_E_NOTINITIALIZED). */
export class NotInitializedError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions) {
    super('CO_E_NOTINITIALIZED', message, options);
  }
}

/** The thread already joined an apartment of another kind (RPC_E_CHANGED_MODE). */
export class ChangedModeError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions) {
    super('RPC_E_CHANGED_MODE', message, options);
  }
}

/** The object or its apartment is gone, or the proxy was released (RPC_E_DISCONNECTED / CO_E_OBJNOTCONNECTED). */
export class DisconnectedError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions & { code?: 'RPC_E_DISCONNECTED' | 'CO_E_OBJNOTCONNECTED' }) {
    super(options?.code ?? 'RPC_E_DISCONNECTED', message, options);
  }
}

/** The callee's message filter refused the call (RPC_E_CALL_REJECTED / RPC_E_SERVERCALL_RETRYLATER). */
export class CallRejectedError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions & { code?: 'RPC_E_CALL_REJECTED' | 'RPC_E_SERVERCALL_RETRYLATER' }) {
    super(options?.code ?? 'RPC_E_CALL_REJECTED', message, options);
  }
}

/** The caller cancelled the call (RPC_E_CALL_CANCELED). */
export class CallCanceledError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions) {
    super('RPC_E_CALL_CANCELED', message, options);
  }
}

/**
 * The call passed its deadline (RPC_E_TIMEOUT). `started` says whether the callee had begun to run
 * it: true (it ran; its signal was aborted), false (it was still waiting for its turn and never
 * runs), undefined (the callee did not say in time, e.g. its thread was busy).
 */
export class CallTimeoutError extends ApartmentError {
  readonly started: boolean | undefined;
  constructor(message: string, options?: ApartmentErrorOptions & { started?: boolean }) {
    super('RPC_E_TIMEOUT', message, options);
    this.started = options?.started;
  }
}

/** The apartment serving the call crashed or was terminated (RPC_E_SERVERFAULT); `cause` says why. */
export class ApartmentFaultedError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions) {
    super('RPC_E_SERVERFAULT', message, options);
  }
}

/** A cycle of apartments waiting on each other was found (ERROR_POSSIBLE_DEADLOCK). */
export class DeadlockError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions) {
    super('ERROR_POSSIBLE_DEADLOCK', message, options);
  }
}

/** An input-synchronous method tried to call another apartment while it runs (RPC_E_CANTCALLOUT_ININPUTSYNCCALL). */
export class CantCallOutError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions) {
    super('RPC_E_CANTCALLOUT_ININPUTSYNCCALL', message, options);
  }
}

/** A class's threading contract was broken, e.g. a rental object used by a non-holder (RPC_E_WRONG_THREAD). */
export class ContractViolationError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions) {
    super('RPC_E_WRONG_THREAD', message, options);
  }
}

/** The class name is not registered with the runtime (REGDB_E_CLASSNOTREG). */
export class ClassNotRegisteredError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions) {
    super('REGDB_E_CLASSNOTREG', message, options);
  }
}

/** A registered class's module or export could not be loaded (CO_E_ERRORINDLL). */
export class ModuleLoadError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions) {
    super('CO_E_ERRORINDLL', message, options);
  }
}

/** The object has no such member, or it is not callable remotely (E_NOINTERFACE). */
export class NoInterfaceError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions) {
    super('E_NOINTERFACE', message, options);
  }
}

/** An argument or option is invalid (E_INVALIDARG); `parameter` names it where known. */
export class InvalidArgumentError extends ApartmentError {
  readonly parameter: string | undefined;
  constructor(message: string, options?: ApartmentErrorOptions & { parameter?: string }) {
    super('E_INVALIDARG', message, options);
    this.parameter = options?.parameter;
  }
}

/** The caller's role may not do this (E_ACCESSDENIED): a control method it was not granted. */
export class AccessDeniedError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions) {
    super('E_ACCESSDENIED', message, options);
  }
}

/** A value could not cross an apartment boundary (DISP_E_BADVARTYPE); `path` says where it was. */
export class MarshalError extends ApartmentError {
  readonly path: string;
  constructor(message: string, options: ApartmentErrorOptions & { path: string }) {
    super('DISP_E_BADVARTYPE', message, options);
    this.path = options.path;
  }
}

/** A wire message was malformed or of another protocol version (RPC_E_INVALID_DATAPACKET / RPC_E_VERSION_MISMATCH). */
export class ProtocolError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions & { code?: 'RPC_E_INVALID_DATAPACKET' | 'RPC_E_VERSION_MISMATCH' }) {
    super(options?.code ?? 'RPC_E_INVALID_DATAPACKET', message, options);
  }
}

/** A lock was taken out of hierarchy order (ERROR_LOCK_VIOLATION). */
export class LockOrderError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions) {
    super('ERROR_LOCK_VIOLATION', message, options);
  }
}

/** The resource is in use and cannot be disposed or moved now (ERROR_BUSY). */
export class InUseError extends ApartmentError {
  constructor(message: string, options?: ApartmentErrorOptions) {
    super('ERROR_BUSY', message, options);
  }
}

/** A script failed to compile or threw (SCRIPT_E_RECORDED); line and column are 1-based where known. */
export class ScriptError extends ApartmentError {
  readonly line: number | undefined;
  readonly column: number | undefined;
  constructor(message: string, options?: ApartmentErrorOptions & { line?: number; column?: number }) {
    super('SCRIPT_E_RECORDED', message, options);
    this.line = options?.line;
    this.column = options?.column;
  }
}

/**
 * Every error class an apartment may rebuild from the wire, by name. A null-prototype table so a
 * name such as `constructor` or `__proto__` can never select something else.
 */
export const errorClasses: Readonly<Record<string, new (...args: never[]) => Error>> = Object.freeze(
  Object.assign(Object.create(null) as Record<string, new (...args: never[]) => Error>, {
    Error, TypeError, RangeError, SyntaxError, ReferenceError, EvalError, URIError, AggregateError,
    ApartmentError, WrongThreadError, NotInitializedError, ChangedModeError, DisconnectedError,
    CallRejectedError, CallCanceledError, CallTimeoutError, ApartmentFaultedError, DeadlockError, CantCallOutError,
    ContractViolationError, ClassNotRegisteredError, ModuleLoadError, NoInterfaceError,
    InvalidArgumentError, AccessDeniedError, MarshalError, ProtocolError, LockOrderError, InUseError, ScriptError,
  }),
);

// `name` lives on each prototype, as with the built-in errors, so it is not an own property that
// would be marshaled twice.
for (const [name, cls] of Object.entries(errorClasses)) {
  if (cls.prototype instanceof ApartmentError || cls === ApartmentError) {
    Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
  }
}

/** The tag a transport's DataCloneError starts with when a message is larger than its link carries (the call then fails with MarshalError). */
export const TOO_LARGE = '[value-too-large]';

/** The longest piece of a value an error message shows. */
const SHOWN_CHARS = 120;

/**
 * A value as an error message shows it (`got …`): what String() makes of it, cut to 120
 * characters. Never throws: String() does for an object without a prototype or whose toString
 * throws, which turned a refused option into a TypeError about the message.
 */
export function shownValue(value: unknown): string {
  let text: string;
  try {
    text = String(value);
  } catch {
    text = Object.prototype.toString.call(value);
  }
  return text.length > SHOWN_CHARS ? `${text.slice(0, SHOWN_CHARS)}…` : text;
}
