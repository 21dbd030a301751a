// What the main apartment does with lifecycle traffic on its link to a worker apartment. Lifecycle
// is the main apartment's to send (it brokers links and announces departures), so a worker
// apartment may send only its own Ready; anything else it sends is refused and logged. A link
// fault (a ProtocolError: malformed input, another protocol version) faults that apartment.
import type { Apartment } from '../apartments/apartment.js';
import { decodeError } from '../marshal/error-codec.js';
import { ProtocolError } from '../marshal/errors.js';
import { Op, type ConnectMessage, type PeerGoneMessage, type ReadyMessage } from '../marshal/protocol.js';

/** What the main apartment's lifecycle handling needs from the runtime. */
export interface MainLifecycleHost {
  apartment(id: number): Apartment | undefined;
  label(id: number): string;
  warn(message: string, apartment: number): void;
}

/** Handle a lifecycle message that arrived on (or was raised for) the link to apartment `peer`. */
export function mainLifecycle(peer: number, msg: ReadyMessage | ConnectMessage | PeerGoneMessage, host: MainLifecycleHost): void {
  if (msg[0] === Op.Ready && msg[2] === peer) {
    host.apartment(peer)?.readyReceived();
    return;
  }
  if (msg[0] === Op.PeerGone && msg[1] === peer) {
    const reason = decodeError(msg[2]);
    // Any other reason: its link closed because its thread ended, and the host's exit event says
    // why; the apartment waits for that a while (a process could close its link and stay).
    if (reason instanceof ProtocolError) host.apartment(peer)?.linkFaulted(reason);
    else host.apartment(peer)?.linkClosed();
    return;
  }
  const what = msg[0] === Op.Ready ? 'a Ready naming another apartment' : msg[0] === Op.Connect ? 'a Connect' : 'a PeerGone naming another apartment';
  host.warn(`[lifecycle] ${host.label(peer)} sent ${what}, which only the main apartment may send; refused`, peer);
}
