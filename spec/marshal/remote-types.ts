// Type tests of Remote<T>: checked by the typecheck in `npm test` (tsc fails on a wrong type or on
// a `@ts-expect-error` line that compiles), never run. Each block states what a caller sees
// through a proxy: by-value results are copies, by-reference results are proxies, arguments accept
// proxies where the parameter travels by reference, callbacks stay callable, generated proxies keep
// the interface's shape.
import { expectTypeOf } from 'expect-type';
import { ByReference, byRef, type Ref } from '../../marshal/by-ref.js';
import type { CallOptions } from '../../marshal/call-options.js';
import type { Remote } from '../../marshal/proxy.js';
import type { CalcApi, Listener } from '../fixtures/proxygen/calc-api.js';
import type { CalcApiProxy } from '../fixtures/proxygen/generated/calc-api.remote.js';

/** Travels by reference because its class says so. */
class Child extends ByReference {
  value(): number {
    return 1;
  }
}

/** A plain object class: copied by value. */
class Point {
  x = 0;
  y = 0;
}

class Factory {
  makeChild(): Child {
    return new Child();
  }
  async makeChildLater(): Promise<Child> {
    return new Child();
  }
  makeMarked(): Ref<Point> {
    return byRef(new Point());
  }
  maybeChild(): Child | undefined {
    return undefined;
  }
  point(): Point {
    return new Point();
  }
  count(): number {
    return 0;
  }
  adopt(child: Child): number {
    return child.value();
  }
  watch(listener: (n: number) => void): () => void {
    listener(1);
    return () => undefined;
  }
  name(label?: string): string {
    return label ?? '';
  }
}

declare const factory: Remote<Factory>;
declare const remoteChild: Remote<Child>;

// By-value results arrive as copies.
expectTypeOf(factory.count).returns.toEqualTypeOf<Promise<number>>();
expectTypeOf(factory.point).returns.toEqualTypeOf<Promise<Point>>();

// By-reference results arrive as proxies: their methods return promises.
expectTypeOf(factory.makeChild).returns.toEqualTypeOf<Promise<Remote<Child>>>();
expectTypeOf(factory.makeChildLater).returns.toEqualTypeOf<Promise<Remote<Child>>>();
expectTypeOf(factory.maybeChild).returns.toEqualTypeOf<Promise<Remote<Child> | undefined>>();
expectTypeOf(factory.makeMarked).returns.resolves.toHaveProperty(Symbol.dispose);
export async function byReferenceResults(): Promise<void> {
  const child = await factory.makeChild();
  expectTypeOf(child.value).returns.toEqualTypeOf<Promise<number>>();
  // @ts-expect-error the child is a proxy: value() is a promise, not a number (the old lie)
  const v: number = child.value();
  void v;
  child[Symbol.dispose]();
  const marked = await factory.makeMarked();
  // @ts-expect-error a by-reference Point is a proxy: its fields are not readable
  void marked.x;
}

// Arguments: a by-reference parameter takes the object or a proxy of it; a by-value one only the value.
expectTypeOf(factory.adopt).toBeCallableWith(new Child());
expectTypeOf(factory.adopt).toBeCallableWith(remoteChild);
expectTypeOf(factory.count).toBeCallableWith();
// @ts-expect-error a number is no Child
void factory.adopt(3);
// Optional parameters stay optional, and CallOptions may follow the arguments.
expectTypeOf(factory.name).toBeCallableWith();
expectTypeOf(factory.name).toBeCallableWith('a');
declare const options: CallOptions;
expectTypeOf(factory.name).toBeCallableWith('a', options);

// Callbacks: a local function may be passed; a returned function arrives as a callable proxy.
expectTypeOf(factory.watch).toBeCallableWith((n: number) => void n);
export async function callbacks(): Promise<void> {
  const stop = await factory.watch(() => undefined);
  expectTypeOf(stop).returns.toEqualTypeOf<Promise<void>>();
  stop[Symbol.dispose]();
  // @ts-expect-error the returned function is remote: calling it gives a promise, not void
  const done: undefined = stop();
  void done;
}

// Generated proxies keep the interface's methods, each returning a promise; a by-reference
// result (an @remote interface) arrives as a proxy, a by-reference parameter takes one.
declare const generated: CalcApiProxy;
expectTypeOf<keyof CalcApi>().toEqualTypeOf<Exclude<keyof CalcApiProxy, symbol | 'target'>>();
expectTypeOf(generated.add).returns.toEqualTypeOf<Promise<number>>();
expectTypeOf(generated.listenerFor).returns.toEqualTypeOf<Promise<Remote<Listener>>>();
declare const remoteListener: Remote<Listener>;
expectTypeOf(generated.tell).toBeCallableWith(remoteListener, 'hi');
// @ts-expect-error a by-value number result is not a proxy
expectTypeOf(generated.add).returns.toEqualTypeOf<Promise<Remote<number>>>();
