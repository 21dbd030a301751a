// A plugin with a bug: crash() throws outside any call, which takes its apartment down.
export class Plugin {
  static threading = 'apartment';
  work(x: number): number {
    return x * 2;
  }
  crash(): void {
    setImmediate(() => {
      throw new Error('plugin bug: an exception nobody catches');
    });
  }
  /**
   * What a broken native addon does: a segmentation fault. It ends the whole process it runs in, so
   * only a plugin in a process apartment may do it (in a worker thread it would end the host).
   */
  crashNatively(): void {
    setImmediate(() => process.kill(process.pid, 'SIGSEGV'));
  }
}
