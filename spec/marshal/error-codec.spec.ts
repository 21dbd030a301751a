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

describe('marshal/error-codec: what an error carries is bounded', () => {
  it('keeps own properties up to 4 Mi copied characters in all, leaves out the one that passes it, and clips texts at 1 Mi characters', () => {
    const threeMi = 'p'.repeat(3 * 2 ** 20);
    const err = Object.assign(new Error('e'.repeat(2 ** 21)), { first: threeMi, second: [threeMi], third: 'small', fourth: new Array<string>(1000).fill(threeMi) });
    const wire = encodeError(err, 1);
    expect(Object.keys(wire.props ?? {})).to.deep.equal(['first', 'third']);
    expect(wire.message).to.match(/^e{1048576}… \(1048576 more characters clipped\)$/);
    expect(wire.stack!.length).to.be.at.most(2 ** 20 + 64);
    const thrown = encodeError(new Array<string>(10).fill(threeMi), 1);
    expect(thrown.props?.['thrownValue'], 'a thrown value that copying would make large travels as its text').to.be.a('string');
  });
});
