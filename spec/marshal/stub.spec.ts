import { expect } from 'chai';
import { NoInterfaceError } from '../../marshal/errors.js';
import { invokeMember, methodName, resolveMethod } from '../../marshal/stub.js';

class Base {
  hello(): string {
    return 'base';
  }
}
class Thing extends Base {
  secretRan = false;
  field = 3;
  arrow = (): string => 'arrow';
  override hello(): string {
    return `thing:${super.hello()}`;
  }
  get secret(): string {
    this.secretRan = true;
    return 'leaked';
  }
}

describe('marshal/stub: which members a caller may invoke', () => {
  it('invokes methods found on the prototype chain and own function properties', () => {
    const t = new Thing();
    expect(invokeMember(t, 'hello', [])).to.equal('thing:base');
    expect(invokeMember(t, 'arrow', [])).to.equal('arrow');
  });

  for (const name of ['constructor', '__proto__', 'prototype', 'toString', 'hasOwnProperty', 'valueOf', 'field', 'missing']) {
    it(`refuses '${name}' with NoInterfaceError`, () => {
      expect(() => resolveMethod(new Thing(), name)).to.throw(NoInterfaceError, /no-interface/);
    });
  }

  it('never runs a getter', () => {
    const t = new Thing();
    expect(() => resolveMethod(t, 'secret')).to.throw(NoInterfaceError);
    expect(t.secretRan).to.equal(false);
  });

  it("calls a function reference itself for method ''", () => {
    expect(invokeMember((x: number) => x * 2, '', [21])).to.equal(42);
    expect(() => invokeMember({}, '', [])).to.throw(NoInterfaceError);
  });

  it('works on null-prototype objects', () => {
    const o = Object.assign(Object.create(null) as object, { f: () => 1 });
    expect(invokeMember(o, 'f', [])).to.equal(1);
    expect(() => resolveMethod(o, 'g')).to.throw(NoInterfaceError);
  });
});

describe('marshal/stub: the label of a method called by index', () => {
  it('is its index when the target\'s class cannot be read, instead of a throw where the dispatcher names the call', () => {
    const hostile = {};
    Object.defineProperty(hostile, 'constructor', { get() { throw new Error('constructor getter'); } });
    // Before: the getter's throw left the contract's and the filter's checks, and the call was never answered.
    expect(methodName(hostile, 3)).to.equal('#3');
    expect(methodName(hostile, 'named')).to.equal('named');
  });
});
