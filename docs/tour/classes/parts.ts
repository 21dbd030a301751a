// The three externally creatable classes of the thread-assignment document's figures: A, B and C.
// Each answers which apartment (thread) it was created on.
import { currentApartment } from 'apartment-runtime';

class Part {
  static threading = 'apartment';
  where(): number {
    return currentApartment().id;
  }
}
export class A extends Part {}
export class B extends Part {}
export class C extends Part {}
