// A plugin as a user writes it, in TypeScript: no constructor parameter properties, so it also
// compiles under erasableSyntaxOnly and runs under Node's type stripping.
export class Calc {
  private total: number;

  constructor(start = 0) {
    this.total = start;
  }

  add(n: number): number {
    this.total += n;
    return this.total;
  }
}
