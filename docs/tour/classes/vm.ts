// The vm-pool step's classes. A ChildLibrary is what several VMs share, loaded once on the main
// thread for all of them (a shared resource); a Script runs in a VM checked out of the pool and
// leases the library there, holding the lease until its VM is checked back in.
import { currentApartment, traceMark, type SharedLease } from 'apartment-runtime';

/** The shared child library: one instance, on the main thread, called by every VM that leased it. */
export class ChildLibrary {
  static threading = 'apartment';
  private calls = 0;
  translate(text: string): string {
    traceMark('library used', ++this.calls);
    return text.toUpperCase();
  }
}

/** What one script saw. */
export interface ScriptRun {
  readonly user: number;
  readonly vm: number;
  readonly answer: string;
}

export class Script {
  static threading = 'apartment';
  /** Kept until the pool resets this VM at check-in, which gives the lease back. */
  private library: SharedLease<ChildLibrary> | undefined;
  async run(user: number): Promise<ScriptRun> {
    this.library = await currentApartment().acquireShared<ChildLibrary>('child-library');
    traceMark('script ran', user);
    const answer = await this.library.value.translate(`user ${user}`);
    return { user, vm: currentApartment().id, answer };
  }
}
