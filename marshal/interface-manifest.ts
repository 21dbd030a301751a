// What generated code and the runtime agree on for an interface compiled by apartment-proxygen
// (lib/cli/): its manifest (identity, version, members in index order) and its stub table (member
// index → invoker). Types and one pure helper: the argument checks the stubs run are generated
// code, helped by marshal/argument-checks.ts.

/** One parameter of a callable member, for messages and for the per-member compatibility check. */
export interface ParamSpec {
  readonly name: string;
  /** The declared type, as error messages name it (`TextDocumentItem`, `number | undefined`). */
  readonly type: string;
  readonly optional?: true;
  /** A rest parameter (`...name`): the last one; takes any number of trailing arguments. */
  readonly rest?: true;
}

/**
 * What one stub index does. `method`: call a method or a function-typed property; `call`: call the
 * object itself (an interface with a call signature); `get`/`set`: read or write a property
 * (COM's propget/propput).
 */
export type MemberKind = 'method' | 'call' | 'get' | 'set';

/** One member of a remote interface, at its index. */
export interface MemberSpec {
  readonly name: string;
  readonly kind: MemberKind;
  /** The parameters of the (first) signature; a setter has one, a getter none. */
  readonly params: readonly ParamSpec[];
  /** The parameters of each further overload, when the member has several. */
  readonly overloads?: readonly (readonly ParamSpec[])[];
  /**
   * A hash of this member's signature and of every type it reaches: two builds of an interface that
   * agree on it can call this member of each other (COM would need a new IID; here the rest of the
   * interface may have changed).
   */
  readonly hash: string;
}

/** A compiled interface: its identity, a hash of its whole shape, and its members in index order. */
export interface InterfaceManifest {
  /**
   * Who the interface is, whatever it is called: its module and name (`pkg/path#Name`), or the id a
   * `@remote <id>` tag declares. Two unrelated interfaces that share a name never share an id.
   */
  readonly id: string;
  /** The interface's name, for messages. */
  readonly name: string;
  /** A hash of every member; equal versions mean the member indexes line up one for one. */
  readonly version: string;
  readonly members: readonly MemberSpec[];
}

/** Invokers by member index: each checks its arguments, then calls, reads or writes the member. */
export type StubTable<T> = readonly ((target: T, args: unknown[]) => unknown)[];

/** What a class declares as `static remoteInterface` to be dispatched through generated stubs. */
export interface RemoteInterface<T> {
  readonly manifest: InterfaceManifest;
  readonly stub: StubTable<T>;
}

/** The member name a call by index stands for, as proxies and messages spell it (`get_text`). */
export function memberLabel(member: MemberSpec): string {
  switch (member.kind) {
    case 'get':
      return `get_${member.name}`;
    case 'set':
      return `put_${member.name}`;
    default:
      return member.name;
  }
}
