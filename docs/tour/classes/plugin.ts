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
}
