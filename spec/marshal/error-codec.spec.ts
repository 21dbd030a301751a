import { expect } from 'chai';
import { ApartmentFaultedError, InvalidArgumentError, MarshalError } from '../../marshal/errors.js';
import { decodeError, encodeError } from '../../marshal/error-codec.js';

const roundTrip = (e: unknown): Error => decodeError(structuredClone(encodeError(e, 3)));

describe('marshal/error-codec: errors as data', () => {
  it('keeps name, message, code, cause, own properties and the remote stack', () => {
    const inner = new TypeError('inner');
    const err = Object.assign(new RangeError('outer', { cause: inner }), { code: 'E_X', detail: { n: 1 } });
    const back = roundTrip(err) as RangeError & { code: string; detail: unknown };
    expect(back).to.be.instanceOf(RangeError);
    expect(back.message).to.equal('outer');
    expect(back.code).to.equal('E_X');
    expect(back.detail).to.deep.equal({ n: 1 });
    expect(back.cause).to.be.instanceOf(TypeError);
    expect(back.stack).to.contain('error-codec.spec').and.contain('thrown in apartment 3');
  });

  it('rebuilds the runtime error classes so instanceof and their fields survive', () => {
    const back = roundTrip(new InvalidArgumentError('bad', { parameter: 'x' })) as InvalidArgumentError;
    expect(back).to.be.instanceOf(InvalidArgumentError);
    expect(back.parameter).to.equal('x');
    expect(back.code).to.equal('E_INVALIDARG');
    expect(roundTrip(new MarshalError('m', { path: 'args[0]' }))).to.have.property('path', 'args[0]');
    expect(roundTrip(new ApartmentFaultedError('f'))).to.be.instanceOf(ApartmentFaultedError);
  });

  it('never looks a name up on globalThis: unknown or hostile names become plain Errors', () => {
    for (const name of ['constructor', '__proto__', 'Function', 'Object', 'CustomError']) {
      const back = decodeError({ name, message: 'x', stack: undefined, code: undefined, cause: undefined, props: undefined, apartment: 1 });
      expect(Object.getPrototypeOf(back)).to.equal(Error.prototype);
      expect(back.name).to.equal(name);
    }
  });

  it('drops properties that cannot be cloned and carries thrown non-errors', () => {
    const err = Object.assign(new Error('x'), { fn: () => 1, ok: 2 });
    const back = roundTrip(err) as Error & Record<string, unknown>;
    expect(back.ok).to.equal(2);
    expect(back.fn).to.equal(undefined);
    const fromString = roundTrip('plain string thrown') as Error & { thrownValue?: unknown };
    expect(fromString.message).to.equal('plain string thrown');
    expect(fromString.thrownValue).to.equal('plain string thrown');
  });
});
