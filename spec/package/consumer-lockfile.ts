// The lockfile of the consumer project in the package spec. With every dependency pinned to the
// version and integrity the repository's own lockfile records, `npm ci --offline` installs the
// tarball from the npm cache that the repository's `npm ci` filled: no registry needed.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

interface LockEntry {
  version?: string;
  integrity?: string;
  dev?: boolean;
  devOptional?: boolean;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  [key: string]: unknown;
}

/** What `npm pack --json` says it packed: the tarball's file name and the paths inside it. */
export function packedFiles(json: string): { filename: string; files: string[] } {
  const [packed] = JSON.parse(json) as { filename: string; files: { path: string }[] }[];
  if (!packed) throw new Error('npm pack printed no package');
  return { filename: packed.filename, files: packed.files.map((f) => f.path) };
}

/** A lockfile for a project depending on `tarball` only, pinned to the repository's resolutions. */
export function consumerLockfile(repo: string, tarball: string): object {
  const manifest = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as Record<string, unknown> & { version: string; dependencies: Record<string, string> };
  const locked = (JSON.parse(readFileSync(join(repo, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> }).packages;
  const integrity = `sha512-${createHash('sha512').update(readFileSync(tarball)).digest('base64')}`;
  const packages: Record<string, object> = {
    '': { name: 'consumer-app', dependencies: { 'apartment-runtime': `file:${tarball}` } },
    'node_modules/apartment-runtime': {
      version: manifest.version, resolved: `file:${tarball}`, integrity, dependencies: manifest.dependencies,
      peerDependencies: manifest['peerDependencies'], peerDependenciesMeta: manifest['peerDependenciesMeta'],
      bin: manifest['bin'], engines: manifest['engines'], license: manifest['license'],
    },
  };
  const pending = Object.keys(manifest.dependencies);
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    const key = `node_modules/${name}`;
    const entry = locked[key];
    if (key in packages || !entry) continue;
    const { dev: _dev, devOptional: _devOptional, ...kept } = entry;
    packages[key] = kept;
    pending.push(...Object.keys(entry.dependencies ?? {}), ...Object.keys(entry.optionalDependencies ?? {}));
  }
  return { name: 'consumer-app', lockfileVersion: 3, requires: true, packages };
}
