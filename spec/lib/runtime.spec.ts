import { expect } from 'chai';
import {
  ApartmentError, ChangedModeError, ClassNotRegisteredError, ContractViolationError, InvalidArgumentError, ModuleLoadError,
  NotInitializedError, Runtime, currentApartment, isProxy, release, type Remote,
} from '../../lib/index.js';
import type { Calc } from '../fixtures/calc.js';
import type { Widget } from '../fixtures/widget.js';
import { fixture, startRuntime } from '../fixtures/runtime-fixture.js';
import { describeClass } from '../../apartments/class-table.js';
import { expectUnknownOption, refusal, startRefusal } from '../fixtures/option-refusals.js';

let rt: Runtime | undefined;

describe('lib/runtime: start and close', () => {
  it('makes the starting thread the main apartment, and leaves it on close', async () => {
    ({ rt } = await startRuntime());
    expect(currentApartment().kind).to.equal('main');
    expect(currentApartment().id).to.equal(0);
    await rt.close();
    rt = undefined;
    expect(() => currentApartment()).to.throw(NotInitializedError, /not-initialized/);
  });

  it('refuses a second runtime while one runs', async () => {
    ({ rt } = await startRuntime());
    const err = await Runtime.start().catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ApartmentError);
    expect((err as ApartmentError).code).to.equal('E_UNEXPECTED');
  });

  it('refuses bad options with InvalidArgumentError', async () => {
    expect(await Runtime.start({ defaultTimeoutMs: -1 }).catch((e: unknown) => e)).to.be.instanceOf(InvalidArgumentError);
    expect(await Runtime.start({ assignment: 'nope' as 'single-thread' }).catch((e: unknown) => e)).to.be.instanceOf(InvalidArgumentError);
    const noLogger = await Runtime.start({ logger: 5 as never }).catch((e: unknown) => e);
    expect(noLogger, 'a logger that is not a function').to.be.instanceOf(InvalidArgumentError);
    expect((noLogger as InvalidArgumentError).parameter).to.equal('logger');
    // Before: taken as given, and a NaN attempts count retried as if it were 0.
    for (const retry of [{ attempts: NaN }, { attempts: 2, delayMs: -1 }, 'always']) {
      const err = await Runtime.start({ retry: retry as never }).catch((e: unknown) => e);
      expect(err, JSON.stringify(retry)).to.be.instanceOf(InvalidArgumentError);
      expect((err as InvalidArgumentError).parameter).to.equal('retry');
    }
    // Before: null failed with a TypeError reading defaultTimeoutMs, and a number was taken for no options.
    for (const options of [null, 5, 'fast']) {
      const err = await Runtime.start(options as never).catch((e: unknown) => e);
      expect(err, String(options)).to.be.instanceOf(InvalidArgumentError);
      expect((err as Error).message).to.match(/^\[runtime-options\] Runtime\.start\(\) takes an options object/);
    }
    ({ rt } = await startRuntime());
    expect(currentApartment().kind, 'a runtime starts after the refusals').to.equal('main');
  });
});

describe('lib/runtime: apartment options', () => {
  it('refuses each bad option with InvalidArgumentError naming it, before any thread starts', async () => {
    ({ rt } = await startRuntime());
    const bad: [Record<string, unknown>, string][] = [
      [{ name: '' }, 'name'],
      [{ transport: 'carrier-pigeon' }, 'transport'],
      [{ defaultTimeoutMs: 0 }, 'defaultTimeoutMs'],
      [{ idleTimeoutMs: -1 }, 'idleTimeoutMs'],
      [{ startTimeoutMs: 0 }, 'startTimeoutMs'],
      [{ startTimeoutMs: 2 ** 31 }, 'startTimeoutMs'],
      [{ reentrancy: 'sometimes' }, 'reentrancy'],
      // Before: another word never restarted, and a NaN count restarted without end.
      [{ restart: 'always' }, 'restart'],
      [{ restart: 'on-fault', maxRestarts: NaN }, 'maxRestarts'],
      [{ restart: 'on-fault', maxRestarts: -1 }, 'maxRestarts'],
      [{ restart: 'on-fault', maxRestarts: 1.5 }, 'maxRestarts'],
      [{ restart: 'on-fault', maxRestarts: '2' }, 'maxRestarts'],
      [{ maxRestarts: 5 }, 'maxRestarts'],
      [{ restart: 'never', maxRestarts: 5 }, 'maxRestarts'],
      // Before: anything but false was taken for true.
      [{ asyncCausality: 'false' }, 'asyncCausality'],
      [{ asyncCausality: 0 }, 'asyncCausality'],
      // Before: the message's String() of a value with no prototype threw a TypeError instead.
      [{ reentrancy: Object.create(null) }, 'reentrancy'],
      [{ idleTimeoutMs: Object.create(null) }, 'idleTimeoutMs'],
      [{ restart: Object.create(null) }, 'restart'],
      [{ callLimits: { maxQueuedPerObject: Object.create(null) } }, 'callLimits.maxQueuedPerObject'],
    ];
    for (const [options, parameter] of bad) {
      const err = (await rt.createApartment(options).catch((e: unknown) => e)) as InvalidArgumentError;
      expect(err, parameter).to.be.instanceOf(InvalidArgumentError);
      expect(err.parameter, parameter).to.equal(parameter);
    }
    // Not an object: taken for no options (a number), or a TypeError (null).
    for (const options of [5, null, 'plugins']) {
      const err = (await rt.createApartment(options as never).catch((e: unknown) => e)) as InvalidArgumentError;
      expect(err, String(options)).to.be.instanceOf(InvalidArgumentError);
      expect(err.message).to.match(/^\[apartment-options\]/);
    }
    expect(rt.apartments, 'no apartment was left half-started').to.have.length(0);
  });
});

describe('lib/runtime: option keys nobody reads', () => {
  it('refuses a misspelt Runtime.start() option, naming it, the known keys and the one meant; the runtime starts without it', async () => {
    // Before: ignored, and every call had the default deadline of 30 s.
    const typo = await startRefusal({ defaultTimeOutMs: 50 });
    expectUnknownOption(typo, 'defaultTimeOutMs', 'Runtime.start()', 'defaultTimeoutMs');
    expect((typo as Error).message).to.contain('Its options are: defaultTimeoutMs, logger, assignment, maxApartments');
    expectUnknownOption(await startRefusal({ colour: 'red' }), 'colour', 'Runtime.start()', undefined);
    expectUnknownOption(await startRefusal({ trace: { capasity: 64 } }), 'capasity', 'Runtime.start({ trace })', 'capacity');
    expectUnknownOption(await startRefusal({ retry: { atempts: 2 } }), 'atempts', 'the retry policy (retry)', 'attempts');
    ({ rt } = await startRuntime({ defaultTimeoutMs: 50 }));
    expect(currentApartment().kind, 'the runtime starts with the right key').to.equal('main');
  });

  it('refuses misspelt keys of createApartment(), its callLimits and heartbeat, before any thread starts', async () => {
    ({ rt } = await startRuntime());
    expectUnknownOption(await refusal(() => rt!.createApartment({ nmae: 'plugins' } as never)), 'nmae', 'createApartment()', 'name');
    expectUnknownOption(await refusal(() => rt!.createApartment({ callLimits: { maxQueuedPerObjet: 5 } } as never)), 'maxQueuedPerObjet', 'createApartment({ callLimits })', 'maxQueuedPerObject');
    expectUnknownOption(await refusal(() => rt!.createApartment({ process: 'plugins', heartbeat: { period: 500 } } as never)), 'period', 'heartbeat', 'periodMs');
    expect(rt.apartments, 'no apartment was started').to.have.length(0);
  });

  it('refuses misspelt keys of createObjectWith() (from the host and from a worker apartment), an assignment, registerClass() and registerApartmentHooks()', async () => {
    ({ rt } = await startRuntime());
    expectUnknownOption(await refusal(() => rt!.createObjectWith({ asignment: 'round-robin' } as never, 'Calc')), 'asignment', 'createObjectWith()', 'assignment');
    expectUnknownOption(await refusal(() => rt!.createObjectWith({ assignment: { policy: 'round-robin', apartmens: 2 } } as never, 'Calc')), 'apartmens', 'an assignment', 'apartments');
    const widget = await (await rt.createApartment()).createObject<Widget>('Widget');
    // Refused in the worker apartment, where the options are given, and the error crosses back.
    expectUnknownOption(await refusal(() => widget.createWith({ asignment: 'single-thread' }, 'Calc')), 'asignment', 'createObjectWith()', 'assignment', true);
    expectUnknownOption(await refusal(() => rt!.registerClass('Typo', { module: fixture('calc.js'), threadng: 'both' } as never)), 'threadng', "registerClass('Typo', …)", 'threading');
    expectUnknownOption(await refusal(() => rt!.registerApartmentHooks({ module: fixture('hooks-module.js'), exports: 'hooks' } as never)), 'exports', 'registerApartmentHooks()', 'export');
    expect(rt.apartments, 'no object was placed by a refused creation').to.have.length(1);
  });
});

describe('lib/runtime: a worker apartment cannot become a main apartment', () => {
  it('fails with ChangedModeError inside an apartment', async () => {
    ({ rt } = await startRuntime());
    rt.registerClass('Starter', { module: fixture('starter.js'), export: 'Starter' });
    const apt = await rt.createApartment();
    const starter = await apt.createObject<{ tryStart(): Promise<string> }>('Starter');
    expect(await starter.tryStart()).to.equal('ChangedModeError:RPC_E_CHANGED_MODE');
    expect(ChangedModeError.name).to.equal('ChangedModeError');
  });
});

describe('lib/runtime: creating objects', () => {
  it('runs an object created in a named apartment on that apartment\'s thread', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ name: 'plugins-1' });
    const calc = await apt.createObject<Calc>('Calc', 40);
    expect(isProxy(calc)).to.equal(true);
    expect(await calc.add(2)).to.equal(42);
    expect(await calc.where()).to.deep.equal({ apartment: apt.id, name: 'plugins-1' });
    expect(await calc.caller()).to.equal(0);
  });

  it('places externally created objects in one shared apartment started on demand', async () => {
    ({ rt } = await startRuntime());
    expect(rt.apartments).to.have.length(0);
    const [c1, c2] = await Promise.all([rt.createObject<Calc>('Calc'), rt.createObject<Calc>('Calc')]);
    const [w1, w2] = [await c1.where(), await c2.where()];
    expect(w1.apartment).to.equal(w2.apartment);
    expect(w1.apartment).to.not.equal(0);
    expect(rt.apartments).to.have.length(1);
  });

  it('creates a `single` class in the main apartment and hands the main thread the object itself', async () => {
    ({ rt } = await startRuntime());
    const obj = await rt.createObject<{ where(): number }>('MainOnly');
    expect(isProxy(obj)).to.equal(false);
    expect(obj.where()).to.equal(0);
  });

  it('lets a class registered after an apartment started be created there', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    rt.registerClass('Late', { module: fixture('calc.js'), export: 'Calc' });
    const late = await apt.createObject<Calc>('Late', 1);
    expect(await late.add(1)).to.equal(2);
  });
});

describe('lib/runtime: registration errors', () => {
  it('fails an unregistered class with ClassNotRegisteredError', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const e1 = await apt.createObject('Nope').catch((e: unknown) => e);
    expect(e1).to.be.instanceOf(ClassNotRegisteredError);
    expect((e1 as ClassNotRegisteredError).code).to.equal('REGDB_E_CLASSNOTREG');
    expect(await rt.createObject('Nope').catch((e: unknown) => e)).to.be.instanceOf(ClassNotRegisteredError);
  });

  it('refuses a class name that is not a name with InvalidArgumentError, not advice to register it', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    for (const name of [undefined, 5, '', Object.create(null)]) {
      for (const made of [apt.createObject(name as never), rt.createObject(name as never)]) {
        const err = (await made.catch((e: unknown) => e)) as InvalidArgumentError;
        expect(err, typeof name).to.be.instanceOf(InvalidArgumentError);
        expect(err.message).to.match(/className|class-name/).and.not.match(/registerClass/);
      }
    }
  });

  it('names the module that does not load, or the export that is missing', async () => {
    ({ rt } = await startRuntime());
    rt.registerClass('Broken', { module: fixture('broken-module.js'), export: 'X' });
    rt.registerClass('Missing', { module: fixture('calc.js'), export: 'NoSuchExport' });
    rt.registerClass('Absent', { module: fixture('no-such-file.js'), export: 'X' });
    const apt = await rt.createApartment();
    for (const [name, text] of [['Broken', 'broken-module.js'], ['Missing', "no class export 'NoSuchExport'"], ['Absent', 'no-such-file.js']] as const) {
      const err = await apt.createObject(name).catch((e: unknown) => e);
      expect(err, name).to.be.instanceOf(ModuleLoadError);
      expect((err as Error).message).to.contain(text);
    }
  });

  it('validates registrations up front', async () => {
    ({ rt } = await startRuntime());
    expect(() => rt!.registerClass('R', { module: './relative.js' })).to.throw(InvalidArgumentError, /absolute/);
    expect(() => rt!.registerClass('U', { module: fixture('calc.js'), threading: 'no-such-contract' })).to.throw(InvalidArgumentError, /unknown-contract/);
    expect(() => rt!.registerClass('', { module: fixture('calc.js') })).to.throw(InvalidArgumentError);
  });

  it('resolves a relative path or a package specifier from base', async () => {
    ({ rt } = await startRuntime());
    const base = fixture('runtime-fixture.js');
    rt.registerClass('RelativeCalc', { module: './calc.js', base, export: 'Calc' });
    const calc = await (await rt.createApartment()).createObject<Calc>('RelativeCalc', 1);
    expect(await calc.add(1)).to.equal(2);
    const fromPackage = describeClass('FromPackage', { module: 'apartment-runtime', base: import.meta.url, export: 'ByReference' });
    expect(fromPackage.module).to.equal(new URL('../../lib/index.js', import.meta.url).href);
    expect(() => rt!.registerClass('Nowhere', { module: 'no-such-package/calc', base: import.meta.url })).to.throw(InvalidArgumentError, /cannot resolve 'no-such-package\/calc'.*import\.meta\.resolve/);
  });

  it('refuses a class whose static threading disagrees with its registration', async () => {
    ({ rt } = await startRuntime());
    rt.registerClass('Mismatch', { module: fixture('calc.js'), export: 'Calc', threading: 'single' });
    const apt = await rt.createApartment();
    const err = await apt.createObject('Mismatch').catch((e: unknown) => e);
    expect(err).to.be.instanceOf(ContractViolationError);
    expect((err as Error).message).to.contain('contract-mismatch');
  });
});

describe('lib/runtime: the apartment context seen from inside a worker apartment', () => {
  it('tells the code its apartment and the registered classes', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment({ name: 'ctx' });
    const w = await apt.createObject<Widget>('Widget');
    const ctx = await w.context();
    expect(ctx).to.include({ id: apt.id, name: 'ctx', kind: 'worker' });
    expect(ctx.classes).to.include.members(['Calc', 'Widget', 'MainOnly']);
  });

  it('keeps objects made with `new` in the same apartment (internal creation)', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const w = await apt.createObject<Widget>('Widget');
    const s = (await w.makeSprocket(3)) as unknown as Remote<{ where(): number; getSize(): number }>;
    expect(isProxy(s)).to.equal(true);
    expect(await s.where()).to.equal(apt.id);
    expect(await s.getSize()).to.equal(3);
  });

  it('sends createObject from inside an apartment through the assignment policy, and returns a proxy', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const w = await apt.createObject<Widget>('Widget');
    const r = await w.createExternal('Sprocket');
    expect(r.isProxy).to.equal(true);
    expect(r.landed).to.not.equal(apt.id);
    expect(rt.apartments.map((a) => a.id)).to.include(r.landed);
  });

  it('creates in-process: an apartment class lands here, a single class on the main apartment', async () => {
    ({ rt } = await startRuntime());
    const apt = await rt.createApartment();
    const w = await apt.createObject<Widget>('Widget');
    expect(await w.createInProcess('Sprocket')).to.deep.equal({ landed: apt.id, isProxy: false });
    expect(await w.createInProcess('MainOnly')).to.deep.equal({ landed: 0, isProxy: true });
    release(w);
  });
});
