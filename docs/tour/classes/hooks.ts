// The attach-detach step's hooks module, and the class that reads what it did. Each thread loads
// the module once, so `record` is that apartment's own account of its hooks; the hooks also mark
// the apartment's lane (a traced apartment has its ring from boot, so a new apartment's attach,
// which runs while it starts, is on its lane too).
import { traceMark, type ApartmentContext, type ApartmentHooks, type DetachReason } from 'apartment-runtime';

const record: string[] = [];

export const tourHooks: ApartmentHooks = {
  attach(apartment: ApartmentContext) {
    record.push('attach');
    traceMark('attach', apartment.id);
  },
  detach(apartment: ApartmentContext, reason: DetachReason) {
    record.push(`detach ${reason}`);
    traceMark(`detach ${reason}`, apartment.id);
  },
};

export class Tenant {
  static threading = 'apartment';
  /** What this apartment's hooks had done when this call ran; the mark counts the attaches. */
  arrive(): string[] {
    traceMark('first call', record.filter((r) => r === 'attach').length);
    return [...record];
  }
  /** A bug on purpose: an exception nobody catches, outside any call, takes the apartment down. */
  crash(): void {
    setImmediate(() => {
      throw new Error('tenant bug: an exception nobody catches');
    });
  }
}
