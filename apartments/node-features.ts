// What the running Node.js offers that the runtime uses when it is there. Each is probed or read
// from a feature flag Node publishes, never from the version string: a flag can turn a feature on
// in an older line (--experimental-strip-types on 22.6) or off in a newer one
// (--no-experimental-strip-types on 24), and workers run with the same flags as the main thread.

/**
 * Whether this Node strips TypeScript types from `.ts` modules by itself (on by default from Node
 * 22.18 and in 24; `process.features.typescript` is 'strip' or 'transform' then). A `.ts` plugin
 * module then loads in a worker apartment without a loader, as long as it uses only syntax that
 * can be erased (no enum, namespace with code, or constructor parameter properties).
 */
export function stripsTypeScript(): boolean {
  const mode = (process.features as { typescript?: unknown }).typescript;
  return mode === 'strip' || mode === 'transform';
}
