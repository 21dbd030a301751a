// The apartment building's rooms: each room answers where it is, and can pass a visitor on to
// the next room, so one chain of calls walks through several apartments.
import { currentApartment, type Remote } from 'apartment-runtime';

export class Room {
  static threading = 'apartment';
  /** Where each call ran: the apartment id, once per call (this room's and the rooms after it). */
  async visit(next: Remote<Room> | null): Promise<number[]> {
    const here = currentApartment().id;
    return next ? [here, ...(await next.visit(null))] : [here];
  }
}
