import { expect } from 'chai';
import * as errors from '../../marshal/errors.js';

const cases: [new (message: string) => errors.ApartmentError, string][] = [
  [errors.WrongThreadError, 'RPC_E_WRONG_THREAD'],
  [errors.NotInitializedError, 'CO_E_NOTINITIALIZED'],
  [errors.ChangedModeError, 'RPC_E_CHANGED_MODE'],
  [errors.DisconnectedError, 'RPC_E_DISCONNECTED'],
  [errors.CallRejectedError, 'RPC_E_CALL_REJECTED'],
  [errors.CallCanceledError, 'RPC_E_CALL_CANCELED'],
  [errors.CallTimeoutError, 'RPC_E_TIMEOUT'],
  [errors.ApartmentFaultedError, 'RPC_E_SERVERFAULT'],
  [errors.DeadlockError, 'ERROR_POSSIBLE_DEADLOCK'],
  [errors.CantCallOutError, 'RPC_E_CANTCALLOUT_ININPUTSYNCCALL'],
  [errors.ContractViolationError, 'RPC_E_WRONG_THREAD'],
  [errors.ClassNotRegisteredError, 'REGDB_E_CLASSNOTREG'],
  [errors.ModuleLoadError, 'CO_E_ERRORINDLL'],
  [errors.NoInterfaceError, 'E_NOINTERFACE'],
  [errors.InvalidArgumentError, 'E_INVALIDARG'],
  [errors.ProtocolError, 'RPC_E_INVALID_DATAPACKET'],
  [errors.LockOrderError, 'ERROR_LOCK_VIOLATION'],
  [errors.InUseError, 'ERROR_BUSY'],
  [errors.ScriptError, 'SCRIPT_E_RECORDED'],
];

describe('marshal/errors: one base class, codes named after COM results', () => {
  for (const [cls, code] of cases) {
    it(`${cls.name} is an ApartmentError with code ${code}`, () => {
      const e = new cls('[tag] message');
      expect(e).to.be.instanceOf(errors.ApartmentError).and.instanceOf(Error);
      expect(e.code).to.equal(code);
      expect(e.name).to.equal(cls.name);
      expect(Object.keys(e)).to.not.include('name');
      expect(errors.errorClasses[cls.name]).to.equal(cls);
    });
  }

  it('lets the variants that mirror two results pick the other code', () => {
    expect(new errors.WrongThreadError('x', { code: 'E_UNEXPECTED' }).code).to.equal('E_UNEXPECTED');
    expect(new errors.DisconnectedError('x', { code: 'CO_E_OBJNOTCONNECTED' }).code).to.equal('CO_E_OBJNOTCONNECTED');
    expect(new errors.CallRejectedError('x', { code: 'RPC_E_SERVERCALL_RETRYLATER' }).code).to.equal('RPC_E_SERVERCALL_RETRYLATER');
    expect(new errors.MarshalError('x', { path: 'args[0]' }).path).to.equal('args[0]');
  });

  it('keeps the rebuild table free of inherited names', () => {
    expect(Object.getPrototypeOf(errors.errorClasses)).to.equal(null);
    expect(errors.errorClasses['constructor']).to.equal(undefined);
  });
});
