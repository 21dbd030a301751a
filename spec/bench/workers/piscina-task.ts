// Baseline task for piscina: one task per call. `echoMoved` comes back transferred (move()).
import { move } from 'piscina';

export default function task(input: { a?: number; b?: number; echo?: unknown; echoMoved?: ArrayBuffer }): unknown {
  if (input.echoMoved) return move(input.echoMoved);
  return 'echo' in input ? input.echo : (input.a ?? 0) + (input.b ?? 0);
}
