// The control object every worker apartment serves at CONTROL_OID: what the runtime and peers
// ask of the apartment itself (create an object here, learn a class, report counts, close).
import type { ClassDescriptor } from '../lib/class-registry.js';
import { DeadlockError, InvalidArgumentError } from '../lib/errors.js';
import type { HooksRegistration } from './apartment-hooks.js';
import type { FreePayload } from './free-objects.js';
import { ScriptEngine } from '../lib/script-engine/script-engine.js';
import { ControlBase } from './control-base.js';
import type { LocalApartment } from './local-apartment.js';

/** Control surface of a worker apartment; invoked only by the runtime's own calls. */
export class WorkerControl extends ControlBase {
  constructor(apartment: LocalApartment, private readonly onClose: () => void, private readonly labels: Map<number, string>) {
    super(apartment);
  }

  /** An apartment started after this one: learn its label, so messages here name it. */
  learnLabel(id: unknown, label: unknown): boolean {
    if (typeof id !== 'number' || typeof label !== 'string') throw new InvalidArgumentError('[learn-label] needs an apartment id and its label', { parameter: 'id' });
    this.labels.set(id, label);
    return true;
  }

  registerClass(descriptor: ClassDescriptor): boolean {
    this.apartment.registerClass(descriptor);
    return true;
  }

  /** The runtime found that this waiting call closes a deadlock cycle: refuse it. */
  breakWait(edgeId: unknown, message: unknown): boolean {
    if (typeof edgeId !== 'number') throw new InvalidArgumentError('[break-wait] the edge id must be a number', { parameter: 'edgeId' });
    return this.apartment.admission.breakWait(edgeId, new DeadlockError(String(message)));
  }

  registerHooks(registration: HooksRegistration): Promise<void> {
    return this.apartment.hooks.register(registration);
  }

  /** Run a method of a free-threaded object on this pool thread. */
  invokeFree(payload: FreePayload, method: unknown, args: unknown): Promise<unknown> {
    if (typeof method !== 'string' || !Array.isArray(args)) throw new InvalidArgumentError('[invoke-free] needs a method name and an argument list', { parameter: 'method' });
    return this.apartment.freeObjects.invoke(payload, method, args);
  }

  /** The main thread interrupted the script of engine `oid` (generation `generation`; 0: the calls awaiting): settle them. */
  scriptInterrupted(oid: unknown, generation: unknown): boolean {
    const engine = typeof oid === 'number' ? this.apartment.endpoint.exports.get(oid)?.object : undefined;
    if (!(engine instanceof ScriptEngine) || typeof generation !== 'number') return false;
    return generation === 0 ? ScriptEngine.abandonAwaiting(engine) : ScriptEngine.interrupted(engine, generation);
  }

  /** Make the apartment as new for its next user (pool checkin). */
  async reset(): Promise<boolean> {
    await this.apartment.reset();
    return true;
  }

  /** Run detach hooks, acknowledge, then let the host tear the apartment down once the reply is out. */
  async close(): Promise<boolean> {
    await this.apartment.hooks.detach('close');
    setImmediate(this.onClose);
    return true;
  }
}
