// DCOM's pinging between a process host and its child, over a pipe of its own: the host writes one
// byte per period and the child echoes it from a thread that does nothing else. So a process that
// is stopped (SIGSTOP), or gone without its exit being seen, misses its heartbeats, while a process
// whose apartment is busy in a long synchronous call still answers: that call is the business of
// its deadline, not of the liveness check. One pipe per child process, at stdio slot HEARTBEAT_FD.
import type { Readable, Writable } from 'node:stream';
import { Worker } from 'node:worker_threads';
import { optionKeys } from '../../marshal/option-keys.js';

/** The child's stdio slot the heartbeat pipe is opened at (0–2 are stdio, 3 the message channel). */
export const HEARTBEAT_FD = 4;

/** How a process host watches its child: one ping per period; this many unanswered in a row means hung. */
export interface Heartbeat {
  readonly periodMs: number;
  readonly misses: number;
}
/** The keys a heartbeat option ({ periodMs?, misses? }) takes; any other is refused. */
export const HEARTBEAT_KEYS = optionKeys<Heartbeat>({ periodMs: true, misses: true });

/**
 * The echo, run in a worker thread of the child (CommonJS, as eval workers are). A pipe error means
 * the host is gone; the message channel's end then ends the process.
 */
const ECHO = `
const { Socket } = require('node:net');
const pipe = new Socket({ fd: ${HEARTBEAT_FD}, readable: true, writable: true });
pipe.on('data', (chunk) => pipe.write(chunk));
pipe.on('error', () => pipe.destroy());
`;

/** Child side: answer the host's heartbeats from a thread of their own, which never keeps the process alive. */
export function answerHeartbeats(): void {
  const echo = new Worker(ECHO, { eval: true, stdout: false, stderr: false });
  echo.on('error', (err) => process.stderr.write(`[heartbeat] the heartbeat thread failed, so this process will be taken for hung: ${err.message}\n`));
  echo.unref();
}

/** Host side: ping a child over its heartbeat pipe; `hung` is called once when `misses` pings in a row went unanswered. */
export class HeartbeatWatch {
  private unanswered = 0;
  private readonly timer: NodeJS.Timeout;

  constructor(pipe: Readable & Writable, heartbeat: Heartbeat, hung: () => void) {
    pipe.on('data', () => {
      this.unanswered = 0;
    });
    // A pipe that breaks belongs to a process that is ending: its exit says how.
    pipe.on('error', () => undefined);
    this.timer = setInterval(() => {
      if (this.unanswered >= heartbeat.misses) {
        this.stop();
        hung();
        return;
      }
      this.unanswered++;
      // A ping still unwritten means the child reads nothing (the pipe's buffer is full): another
      // would only queue here, without bound, for a child that writes to look alive but never reads.
      if (pipe.writableLength === 0) pipe.write(Buffer.of(1));
    }, heartbeat.periodMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}
