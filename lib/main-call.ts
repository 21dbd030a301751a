// Calls to the main apartment's control object from any apartment: through the channel from a
// worker, directly on the main thread itself.
import type { LocalApartment } from '../apartments/local-apartment.js';
import { CONTROL_OID } from '../marshal/protocol.js';
import { currentApartment } from './context.js';

/** Invoke a main-control method from whichever apartment this code runs in. */
export async function callMain(method: string, args: unknown[]): Promise<unknown> {
  const apt = currentApartment() as LocalApartment;
  if (apt.id === 0) return (apt.endpoint.control as { asMain(method: string, args: unknown[]): unknown }).asMain(method, args);
  return apt.endpoint.call(0, CONTROL_OID, method, args);
}
