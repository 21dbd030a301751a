// What one side of a shared-ring link counts about its wake-ups and port use, for diagnostics.

/**
 * Read-only counts of one side since it was made, for diagnostics and specs (the transport never
 * reads them). `spins`: times its consumer began spinning; `parks`: times it parked (to wait for a
 * port message); `portSends`: items sent over the port; `unmarkedPortSends`: of those, items sent
 * with no PORT_MARK (the ring was full, or the item itself woke a parked peer that will not spin);
 * `parkedDeliveries`: port items delivered from their message event while parked, as a port link
 * does; `queuedPortItems`: port items received but not yet due.
 */
export interface SharedRingStats {
  spins: number;
  parks: number;
  portSends: number;
  unmarkedPortSends: number;
  parkedDeliveries: number;
  queuedPortItems: number;
}
