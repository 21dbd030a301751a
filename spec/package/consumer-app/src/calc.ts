// A plugin as a user writes it, in TypeScript: no constructor parameter properties, so it also
// compiles under erasableSyntaxOnly and runs under Node's type stripping.
import { ByReference } from 'apartment-runtime';

/** A result that stays in the plugin's apartment: the caller gets a proxy. */
export class Tape extends ByReference {
  private readonly entries: number[] = [];

  record(n: number): void {
    this.entries.push(n);
  }

  length(): number {
    return this.entries.length;
  }
}

export class Calc {
  private total: number;
  private readonly tape = new Tape();

  constructor(start = 0) {
    this.total = start;
  }

  add(n: number): number {
    this.total += n;
    this.tape.record(n);
    return this.total;
  }

  history(): Tape {
    return this.tape;
  }
}
