// What kind of value a TypeScript type stands for, as far as crossing an apartment goes: a
// built-in that structured clone copies, a function, a type whose values travel by reference, or
// plain data. Shared by the check builder and the type printer, so both agree.
import ts from 'typescript';
import type { BuiltinName, StreamName } from './ir.js';

/** Built-ins that cannot cross apartments at all, with what to do instead. */
const CANNOT_CROSS: Readonly<Record<string, string>> = {
  Promise: 'a Promise cannot cross apartments; await it first and pass the value',
  PromiseLike: 'a promise-like value cannot cross apartments; await it first and pass the value',
  WeakMap: 'a WeakMap cannot cross apartments; pass its contents',
  WeakSet: 'a WeakSet cannot cross apartments; pass its contents',
  WeakRef: 'a WeakRef cannot cross apartments',
  FinalizationRegistry: 'a FinalizationRegistry cannot cross apartments',
  AsyncIterator: 'a bare async iterator cannot cross apartments; declare it AsyncIterable<T> (or AsyncIterableIterator<T>) so it travels as a stream',
  Generator: 'a generator cannot cross apartments; pass an array',
  Iterator: 'an iterator cannot cross apartments; pass an array',
  IterableIterator: 'an iterator cannot cross apartments; pass an array',
  URL: 'a URL cannot be copied across apartments; pass its href',
  URLSearchParams: 'URLSearchParams cannot be copied across apartments; pass its string',
  AbortSignal: "an AbortSignal cannot cross apartments; cancel a call by giving it callOptions({ signal }) as its last argument, and read currentCall().signal in the callee",
  AbortController: "an AbortController cannot cross apartments; cancel a call by giving it callOptions({ signal }) as its last argument",
  Readable: 'a Node stream cannot cross apartments; declare an AsyncIterable<T> (a Readable is one) or a web ReadableStream, which travel as streams',
  Writable: 'a Node stream cannot cross apartments; declare a web WritableStream, which travels as a stream',
  Duplex: 'a Node stream cannot cross apartments; declare an AsyncIterable<T> or a web stream for each direction',
  Transform: 'a Node stream cannot cross apartments; declare an AsyncIterable<T> or a web stream for each direction',
};

/**
 * Streams: the runtime sends these by reference and rebuilds them on the other side as the same
 * kind of object (marshal/streams.ts): an async iterable arrives as an async iterable iterator,
 * a web stream as a web stream pulling from (or pushing to) the owner's.
 */
const STREAMS: Readonly<Record<string, StreamName>> = {
  AsyncIterable: 'async-iterable',
  AsyncIterableIterator: 'async-iterable',
  AsyncGenerator: 'async-iterable',
  ReadableStream: 'readable',
  WritableStream: 'writable',
};

const BUILTINS = new Set<string>([
  'Date', 'RegExp', 'Error', 'ArrayBuffer', 'SharedArrayBuffer', 'DataView', 'Buffer',
  'Uint8Array', 'Uint8ClampedArray', 'Uint16Array', 'Uint32Array', 'Int8Array', 'Int16Array', 'Int32Array',
  'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
]);
const ERRORS = new Set(['Error', 'EvalError', 'RangeError', 'ReferenceError', 'SyntaxError', 'TypeError', 'URIError', 'AggregateError']);

/** What a library (lib.*.d.ts or @types/node) type is, when it is one the checks know by name. */
export type LibraryKind =
  | { readonly kind: 'builtin'; readonly name: BuiltinName }
  | { readonly kind: 'map' | 'set' | 'iterable' | 'function' | 'any' }
  | { readonly kind: 'stream'; readonly name: StreamName }
  | { readonly kind: 'cannot-cross'; readonly reason: string };

/** Facts about types that depend on the program: which files are libraries, which interfaces are remote. */
export class TypeKinds {
  constructor(private readonly program: ts.Program, private readonly checker: ts.TypeChecker, private readonly remote: ReadonlySet<ts.Symbol>) {}

  private isLibrary(symbol: ts.Symbol): boolean {
    return (symbol.declarations ?? []).some((d) => {
      const sf = d.getSourceFile();
      return this.program.isSourceFileDefaultLibrary(sf) || /[\\/]node_modules[\\/]@types[\\/]node[\\/]/.test(sf.fileName);
    });
  }

  /** The library type `type` is an instance of, if the checks treat it specially. */
  library(type: ts.Type): LibraryKind | undefined {
    const symbol = type.getSymbol();
    if (!symbol || !this.isLibrary(symbol)) return undefined;
    const name = symbol.getName();
    if (ERRORS.has(name)) return { kind: 'builtin', name: 'Error' };
    if (BUILTINS.has(name)) return { kind: 'builtin', name: name as BuiltinName };
    if (name === 'Map' || name === 'ReadonlyMap') return { kind: 'map' };
    if (name === 'Set' || name === 'ReadonlySet') return { kind: 'set' };
    if (name === 'Iterable') return { kind: 'iterable' };
    const stream = STREAMS[name];
    if (stream) return { kind: 'stream', name: stream };
    if (name === 'Function' || name === 'CallableFunction' || name === 'NewableFunction') return { kind: 'function' };
    if (name === 'Object') return { kind: 'any' };
    const reason = CANNOT_CROSS[name];
    return reason ? { kind: 'cannot-cross', reason } : undefined;
  }

  /** Whether the interface is marked for remoting (its values travel by reference). */
  isRemote(type: ts.Type): boolean {
    const symbol = type.aliasSymbol ?? type.getSymbol();
    return symbol !== undefined && this.remote.has(symbol);
  }

  /** The members that are called rather than read: methods, and properties of a function type. */
  callableMembers(type: ts.Type): ts.Symbol[] {
    return this.checker.getPropertiesOfType(type).filter((p) => this.isCallableMember(p));
  }

  isCallableMember(p: ts.Symbol): boolean {
    if (p.flags & ts.SymbolFlags.Method) return true;
    if (!(p.flags & ts.SymbolFlags.Property)) return false;
    return isFunctionLike(this.checker, this.checker.getNonNullableType(this.checker.getTypeOfSymbol(p)));
  }

  /** Public data members: properties that are not called, not private, not keyed by a symbol. */
  dataMembers(type: ts.Type): ts.Symbol[] {
    return this.checker.getPropertiesOfType(type).filter((p) => !this.isCallableMember(p) && !isHidden(p) && !p.getName().startsWith('__@'));
  }

  /**
   * A type whose values travel by reference: a remote interface, or a type with methods and no data
   * (a copy of such an object carries nothing). Returns its method names, or undefined.
   */
  byReference(type: ts.Type): string[] | undefined {
    if (!(type.flags & ts.TypeFlags.Object) || this.checker.isArrayType(type) || this.checker.isTupleType(type) || this.library(type)) return undefined;
    if (type.getCallSignatures().length > 0 || type.getConstructSignatures().length > 0) return undefined;
    const methods = this.callableMembers(type).filter((p) => !p.getName().startsWith('__@') && !isHidden(p)).map((p) => p.getName());
    if (this.isRemote(type)) return methods;
    if (methods.length === 0 || this.dataMembers(type).length > 0 || this.checker.getIndexInfosOfType(type).length > 0) return undefined;
    return methods;
  }

  /** A type that looks like a promise (has a `then` method): it cannot cross, and a proxy never is one. */
  isThenable(type: ts.Type): boolean {
    if (!(type.flags & ts.TypeFlags.Object)) return false;
    const then = this.checker.getPropertyOfType(type, 'then');
    return then !== undefined && this.isCallableMember(then);
  }
}

/** The polymorphic `this` type (a type parameter the checker marks; the flag is not in its public typings). */
export function isThisType(t: ts.Type): boolean {
  return (t.flags & ts.TypeFlags.TypeParameter) !== 0 && (t as { isThisType?: boolean }).isThisType === true;
}

/** A function type: call signatures, and nothing but what every function has. */
export function isFunctionLike(checker: ts.TypeChecker, type: ts.Type): boolean {
  if (type.isUnion()) return type.types.every((t) => isFunctionLike(checker, t));
  if (type.getCallSignatures().length === 0) return false;
  return checker.getPropertiesOfType(type).length === 0 || (type.getSymbol()?.getName() === 'Function');
}

/** Private and protected members (and #private ones) are not part of what crosses. */
export function isHidden(p: ts.Symbol): boolean {
  const decl = p.valueDeclaration;
  if (!decl) return false;
  if (decl.kind !== ts.SyntaxKind.Parameter && (ts.getCombinedModifierFlags(decl as ts.Declaration) & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected))) return true;
  return p.getName().startsWith('__#');
}

/**
 * A member's name as people write it: `[Symbol.iterator]` for a well-known symbol (the compiler's
 * own name for it, `__@iterator@56`, changes with the program), the plain name otherwise.
 */
export function memberName(p: ts.Symbol): string {
  const name = p.getName();
  if (!name.startsWith('__@')) return name;
  const decl = p.declarations?.[0] as ts.NamedDeclaration | undefined;
  if (decl?.name && ts.isComputedPropertyName(decl.name)) return `[${decl.name.expression.getText()}]`;
  return `[Symbol.${name.slice(3, name.lastIndexOf('@'))}]`;
}

/** Whether a symbol-keyed member is keyed by a well-known symbol (`Symbol.iterator`), which can be named anywhere. */
export function isWellKnownSymbolMember(p: ts.Symbol): boolean {
  return /^\[Symbol\.\w+\]$/.test(memberName(p));
}

/** Whether a property was declared read-only (a `readonly` property, or a getter with no setter). */
export function isReadonlyMember(p: ts.Symbol): boolean {
  const decls = p.declarations ?? [];
  if (decls.some((d) => ts.isSetAccessorDeclaration(d))) return false;
  if (decls.some((d) => ts.isGetAccessorDeclaration(d))) return true;
  return decls.some((d) => (ts.getCombinedModifierFlags(d as ts.Declaration) & ts.ModifierFlags.Readonly) !== 0);
}

/** Whether a property is declared as a getter (a copy of the object does not carry it). */
export function isAccessor(p: ts.Symbol): boolean {
  return (p.declarations ?? []).some((d) => ts.isGetAccessorDeclaration(d) || ts.isSetAccessorDeclaration(d));
}
