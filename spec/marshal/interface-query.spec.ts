import { expect } from 'chai';
import { InvalidArgumentError } from '../../marshal/errors.js';
import { queryInterface } from '../../marshal/interface-query.js';

describe('marshal/interface-query: what queryInterface() takes', () => {
  it('refuses what is not an object, and a request not made by interfaceRequest(), with InvalidArgumentError', () => {
    // Before: a TypeError reading the request's id.
    const bad: [unknown, unknown, string][] = [
      [5, { id: 'a#B', version: '1', members: [] }, 'object'],
      [null, { id: 'a#B', version: '1', members: [] }, 'object'],
      [{}, 'x', 'request'],
      [{}, { id: 'a#B', version: 1, members: [] }, 'request'],
      [{}, { id: 'a#B', version: '1' }, 'request'],
    ];
    for (const [object, request, parameter] of bad) {
      let err: unknown;
      try {
        queryInterface(object as object, request as never);
      } catch (e) {
        err = e;
      }
      expect(err, parameter).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter).to.equal(parameter);
    }
  });
});
