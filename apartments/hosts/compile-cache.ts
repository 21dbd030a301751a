// A host that loads its modules through Node's compile cache (module.enableCompileCache() or
// NODE_COMPILE_CACHE, Node 22.1 and later) shares the cache with the apartment threads and
// processes it starts, as worker pools such as piscina do: they load the runtime's engine and the
// host's plugin modules, and compiling the engine is most of an apartment's start (measured on
// Node 24: 36 ms to a ready apartment without the cache, 31 ms with it). A started thread or process
// picks the cache up only from NODE_COMPILE_CACHE in its environment, which a host that turned it
// on through the API does not have. A host without a cache (every host on Node 20) changes nothing:
// the runtime never turns the cache on by itself, since it writes files the host did not ask for.
import * as nodeModule from 'node:module';
import { basename, dirname } from 'node:path';

/** The environment for a thread or process the host starts, when it must differ from the host's own: the host's plus its compile cache directory. */
export function environmentWithCompileCache(): NodeJS.ProcessEnv | undefined {
  const inUse = (nodeModule as { getCompileCacheDir?: () => string | undefined }).getCompileCacheDir?.();
  if (!inUse) return undefined;
  // Node keeps the cache in a subdirectory per Node version of the directory it was given; the
  // started thread must be given that directory, or it nests another subdirectory and shares nothing.
  const directory = basename(inUse).startsWith(`v${process.versions.node}-`) ? dirname(inUse) : inUse;
  if (process.env.NODE_COMPILE_CACHE === directory) return undefined;
  return { ...process.env, NODE_COMPILE_CACHE: directory };
}
