// Emission: IR → the text of one generated module per input file. Pure and deterministic: the same
// IR always gives the same bytes (interfaces sorted by name, methods in declaration order, the
// version hash computed from a canonical form of the interface).
import { createHash } from 'node:crypto';
import { basename } from 'node:path';
import type { InterfaceManifest, TypeCheck } from '../../marshal/interface-manifest.js';
import type { FileIR, InterfaceIR, MethodIR } from './ir.js';

/** The version hash of an interface: its name and methods, canonically serialised. */
export function versionOf(iface: InterfaceIR): string {
  return createHash('sha256').update(JSON.stringify([iface.name, iface.methods.map((m) => [m.name, m.params])])).digest('hex').slice(0, 16);
}

/** The manifest the runtime checks calls against. */
export function manifestOf(iface: InterfaceIR): InterfaceManifest {
  return { id: iface.name, version: versionOf(iface), methods: iface.methods.map((m) => ({ name: m.name, params: m.params })) };
}

function holdsRemote(t: TypeCheck): boolean {
  switch (t.kind) {
    case 'remote': return true;
    case 'array': return holdsRemote(t.element);
    case 'union': return t.of.some(holdsRemote);
    case 'object': return t.props.some((p) => holdsRemote(p.type));
    default: return false;
  }
}

/**
 * A check written back as a TypeScript type, a remote interface `I` written by `remote(I)`. Used only
 * where a type holds a remote interface; elsewhere the declared type is used as is (a check loses
 * detail, e.g. a callback's signature).
 */
function typeText(t: TypeCheck, remote: (iface: string) => string): string {
  const inner = (u: TypeCheck): string => (u.kind === 'union' || u.kind === 'function' || u.kind === 'remote' ? `(${typeText(u, remote)})` : typeText(u, remote));
  switch (t.kind) {
    case 'remote': return remote(t.iface);
    case 'literal': return JSON.stringify(t.value);
    case 'array': return `${inner(t.element)}[]`;
    case 'union': return t.of.map((u) => typeText(u, remote)).join(' | ');
    case 'object': return `{ ${t.props.map((p) => `${/^[A-Za-z_$][\w$]*$/.test(p.name) ? p.name : JSON.stringify(p.name)}${p.optional ? '?' : ''}: ${typeText(p.type, remote)}`).join('; ')} }`;
    case 'function': return '(...args: never[]) => unknown';
    default: return t.kind;
  }
}

/** A by-ref argument: the caller's own object (passed with byRef) or a proxy it holds. */
const remoteArgument = (iface: string): string => `${iface} | Remote<${iface}>`;
/** A by-ref result: it reaches the caller as a proxy. */
const remoteResult = (iface: string): string => `Remote<${iface}>`;

/** The proxy method's parameter list: the declared parameters, except that by-ref ones may be proxies. */
function proxyParams(n: string, method: MethodIR): string {
  const declared = `Parameters<${n}['${method.name}']>`;
  if (!method.params.some((p) => holdsRemote(p.type))) return `...args: ${declared}`;
  const elements = method.params.map((p, i) => {
    if (p.rest) return `...${p.name}: ${holdsRemote(p.type) ? typeText(p.type, remoteArgument) : `${declared}[${i}][]`}`;
    return `${p.name}${p.optional ? '?' : ''}: ${holdsRemote(p.type) ? typeText(p.type, remoteArgument) : `${declared}[${i}]`}`;
  });
  return `...args: [${elements.join(', ')}]`;
}

/** The proxy method's result: the declared one, except that a by-ref result is a Remote<…>. */
function proxyResult(n: string, method: MethodIR): string {
  return method.result && holdsRemote(method.result) ? typeText(method.result, remoteResult) : `Awaited<ReturnType<${n}['${method.name}']>>`;
}

/** The generated file's name for an input file: calc-api.ts → calc-api.remote.ts */
export function outputName(source: string): string {
  return `${basename(source).replace(/\.ts$/, '')}.remote.ts`;
}

function emitInterface(iface: InterfaceIR): string {
  const n = iface.name;
  const m = JSON.stringify(manifestOf(iface), null, 2).replace(/"([A-Za-z_$][\w$]*)":/g, '$1:');
  const stub = iface.methods
    .map((method, i) => `  (target, args) => {\n    checkArguments(${n}Manifest, ${i}, args);\n    return target.${method.name}(...(args as Parameters<${n}['${method.name}']>));\n  },`)
    .join('\n');
  const proxyMethods = iface.methods
    .map((method, i) => `  ${method.name}(${proxyParams(n, method)}): Promise<${proxyResult(n, method)}> {\n    return this.target.invoke(${i}, args) as Promise<${proxyResult(n, method)}>;\n  }`)
    .join('\n\n');
  return `/** ${n}: interface id, version hash and methods in index order. */
export const ${n}Manifest: InterfaceManifest = ${m};

/** ${n}'s stub table: each invoker checks its arguments, then calls the method. */
export const ${n}Stub: StubTable<${n}> = [
${stub}
];

/** Declare \`static remoteInterface = ${n}Remote\` on a class to have its calls dispatched through the stub. */
export const ${n}Remote: RemoteInterface<${n}> = { manifest: ${n}Manifest, stub: ${n}Stub };

/** A typed proxy for ${n}: every method returns a promise and is called by index. */
export class ${n}Proxy {
  constructor(private readonly target: RemoteTarget) {}

${proxyMethods}
}

/** Bind a reference to ${n}, after the owner checked that the object implements this version of it. */
export async function bind${n}(ref: unknown): Promise<${n}Proxy> {
  return new ${n}Proxy(await bindInterface(ref, ${n}Manifest));
}
`;
}

/** The first line of every generated module: names its source, and marks the file as ours to replace or remove. */
export function generatedHeader(source: string): string {
  return `// Generated by apartment-proxygen from ${basename(source)}. Do not edit: change the interfaces and run it again.`;
}

/** The whole generated module for one input file. */
export function emitFile(file: FileIR, runtimeImport: string): string {
  const names = file.interfaces.map((i) => i.name);
  const importPath = file.interfaces[0]!.importPath;
  // Remote<…> is imported only where a by-ref parameter or result uses it (unused imports fail strict builds).
  const usesRemote = file.interfaces.some((i) => i.methods.some((m) => m.params.some((p) => holdsRemote(p.type)) || (m.result !== undefined && holdsRemote(m.result))));
  return `${generatedHeader(file.source)}
import { bindInterface, checkArguments, type InterfaceManifest, ${usesRemote ? 'type Remote, ' : ''}type RemoteInterface, type RemoteTarget, type StubTable } from '${runtimeImport}';
import type { ${names.join(', ')} } from '${importPath}';

${file.interfaces.map(emitInterface).join('\n')}`;
}
