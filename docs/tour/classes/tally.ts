// A running total whose add() reads the total, awaits something elsewhere, then writes the sum:
// correct while one call chain at a time runs on the object, wrong when calls interleave.
import { traceMark, type Remote } from 'apartment-runtime';

export class Pauser {
  static threading = 'apartment';
  pause(): void {}
}

export class Tally {
  static threading = 'apartment';
  private total = 0;
  async add(n: number, pauser: Remote<Pauser>): Promise<void> {
    const read = this.total;
    traceMark('read total', read);
    await pauser.pause();
    this.total = read + n;
    traceMark('write total', this.total);
  }
  value(): number {
    return this.total;
  }
}
