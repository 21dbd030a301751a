// Baseline task for piscina: one task per call.
export default function task(input: { a?: number; b?: number; echo?: unknown }): unknown {
  return 'echo' in input ? input.echo : (input.a ?? 0) + (input.b ?? 0);
}
