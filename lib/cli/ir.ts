// The proxy generator's intermediate representation: what introspection found, and nothing of the
// TypeScript compiler. Emission turns it into text; the hashes are computed from it.

/** Primitive checks: `typeof` tests, plus null and `object` (any non-primitive). */
export type PrimitiveName = 'string' | 'number' | 'boolean' | 'bigint' | 'undefined' | 'null' | 'object' | 'function';

/** Built-in classes that cross apartments by structured clone, checked by what they are. */
export type BuiltinName =
  | 'Date' | 'RegExp' | 'Error' | 'ArrayBuffer' | 'SharedArrayBuffer' | 'DataView' | 'Buffer'
  | 'Uint8Array' | 'Uint8ClampedArray' | 'Uint16Array' | 'Uint32Array' | 'Int8Array' | 'Int16Array' | 'Int32Array'
  | 'Float32Array' | 'Float64Array' | 'BigInt64Array' | 'BigUint64Array';

/** Streams the runtime passes by reference (marshal/streams.ts), checked by what they are. */
export type StreamName = 'async-iterable' | 'readable' | 'writable';

/** A run-time check of one value. Object shapes are named (ShapeIR) and shared by every use in a file. */
export type Check =
  | { readonly k: 'any' }
  | { readonly k: 'prim'; readonly t: PrimitiveName }
  | { readonly k: 'lit'; readonly v: string | number | boolean }
  | { readonly k: 'bigint-lit'; readonly v: string }
  | { readonly k: 'array'; readonly of: Check }
  | { readonly k: 'tuple'; readonly items: readonly TupleItemIR[] }
  /** Any of `of`; `name` is the declared name of the union (an alias or an enum), for messages. */
  | { readonly k: 'union'; readonly of: readonly Check[]; readonly name?: string }
  | { readonly k: 'shape'; readonly id: string }
  | { readonly k: 'builtin'; readonly t: BuiltinName }
  | { readonly k: 'map'; readonly key: Check; readonly value: Check }
  | { readonly k: 'set'; readonly of: Check }
  /** An iterable, its elements unchecked (walking it would consume it); a string is one only when `strings` (its elements may be strings). */
  | { readonly k: 'iterable'; readonly of: Check; readonly strings: boolean }
  /**
   * A stream: it crosses by reference and only what it is is checked (checking its items would read
   * them); `of`, what its items must be, is kept for labels and member hashes.
   */
  | { readonly k: 'stream'; readonly t: StreamName; readonly of: Check }
  /** A by-reference interface: a proxy, or a local object offering these methods. */
  | { readonly k: 'remote'; readonly label: string; readonly methods: readonly string[] };

/** One element of a tuple check. */
export interface TupleItemIR {
  readonly check: Check;
  readonly optional: boolean;
  /** A rest element (`...T[]`): checks every element from here on against `check`'s element. */
  readonly rest: boolean;
}

/** One data property of a shape. */
export interface PropIR {
  readonly name: string;
  readonly check: Check;
  /** May be absent: declared optional, or a getter (which a copy does not carry). */
  readonly optional: boolean;
}

/**
 * A named check of an object type (interface, class, type alias or literal), by its data members:
 * methods do not cross by value and are not checked.
 */
export interface ShapeIR {
  /** Stable, machine-independent key (qualified name with type arguments, or the structure of a literal). */
  readonly id: string;
  /** How messages name the type. */
  readonly label: string;
  readonly props: readonly PropIR[];
  readonly index: readonly { readonly key: 'string' | 'number'; readonly check: Check }[];
  /** The type has methods: a proxy (the value sent by reference) is accepted as it is. */
  readonly proxies: boolean;
  /** Also callable (a function with properties): the value must be a function. */
  readonly callable: boolean;
}

/** One parameter of a signature. */
export interface ParamIR {
  readonly name: string;
  readonly check: Check;
  /** How messages and the manifest name the type. */
  readonly label: string;
  readonly optional: boolean;
  readonly rest: boolean;
}

/** One call signature (a member with overloads has several). */
export interface SignatureIR {
  readonly params: readonly ParamIR[];
  /** The proxy's declaration of this signature, without the name: `(a: number): Promise<number>`. */
  readonly proxy: string;
}

/**
 * What the stub does with a result, and the proxy with what arrives: `value` as it is; `this` (the
 * declared result is the object itself: nothing is sent, the proxy resolves to itself); `byref` (a
 * type with methods only: sent by reference); `subscription` (an event's disposable, by reference,
 * wrapped so that disposing unsubscribes).
 */
export type ResultMode = 'value' | 'this' | 'byref' | 'subscription';

/** One stub index: a method, the object's own call signature, or a property read or write. */
export interface MemberIR {
  readonly name: string;
  readonly kind: 'method' | 'call' | 'get' | 'set';
  /** How the stub reaches the member on the target: `.name`, `["odd name"]` or `[Symbol.iterator]`. */
  readonly access: string;
  /** The proxy's member name (as written in a class body). */
  readonly proxyName: string;
  /** An optional method: the stub refuses the call when the object does not implement it. */
  readonly optional: boolean;
  readonly signatures: readonly SignatureIR[];
  readonly result: ResultMode;
  /** Hash of the member's canonical form and of every shape it reaches. */
  readonly hash: string;
}

/** One interface to generate. */
export interface InterfaceIR {
  readonly name: string;
  readonly id: string;
  readonly version: string;
  /** The interface's type as the generated file names it, type parameters applied: `$1.Foo<T>`. */
  readonly typeRef: string;
  /** Its type with every type parameter as `any`, for the stub table: `$1.Foo<any>`. */
  readonly anyRef: string;
  /** The proxy class's type parameter list, or '' (`<T extends string = string>`). */
  readonly typeParams: string;
  /** The same parameters as arguments, or '' (`<T>`). */
  readonly typeArgs: string;
  readonly members: readonly MemberIR[];
}

/** A module the generated file imports types from, under an alias (`import type * as $1 from '…'`). */
export interface ImportIR {
  readonly alias: string;
  readonly specifier: string;
}

/** One input file's interfaces, and what their checks and types need. */
export interface FileIR {
  readonly source: string;
  readonly output: string;
  readonly interfaces: readonly InterfaceIR[];
  readonly shapes: readonly ShapeIR[];
  readonly imports: readonly ImportIR[];
}

/** A construct the generator cannot support, at a source position (1-based). */
export interface Problem {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** Format a problem the way compilers do: file:line:col: message (a command-line problem has no position). */
export function formatProblem(p: Problem): string {
  return p.line === 0 ? `apartment-proxygen: ${p.message}` : `${p.file}:${p.line}:${p.column}: ${p.message}`;
}
