import { expect } from 'chai';
import { classNameOf } from '../../marshal/class-name.js';

class Base {}
class Named {
  static get name(): string {
    throw new Error('name getter');
  }
}

describe('marshal/class-name: a class name read for a label', () => {
  it('is read from data properties only, up the prototype chain as `constructor` would be found', () => {
    expect(classNameOf(new Base())).to.equal('Base');
    expect(classNameOf(() => 1)).to.equal('function');
    // A prototype made without its own constructor names the one it inherits.
    const derived = Object.create(Object.create(Base.prototype) as object) as object;
    expect(classNameOf(derived)).to.equal('Base');
    expect(classNameOf(Object.create(null) as object)).to.equal('object');
  });

  it('runs no code of the object: a name getter, a constructor getter and a Proxy answer "object"', () => {
    expect(classNameOf(new Named())).to.equal('object');
    const viaGetter = Object.create({ get constructor(): never { throw new Error('constructor getter'); } }) as object;
    expect(classNameOf(viaGetter)).to.equal('object');
    let trapped = 0;
    const proxy = new Proxy({}, { getPrototypeOf: () => { trapped++; return null; } });
    expect(classNameOf(proxy)).to.equal('object');
    expect(classNameOf(Object.create(proxy) as object)).to.equal('object');
    expect(trapped, 'no trap ran').to.equal(0);
  });
});
