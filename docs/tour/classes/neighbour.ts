// An object in another apartment that tries to use a script engine it was handed.
export class Neighbour {
  static threading = 'apartment';
  async tryToUse(engine: { addNamedItem(name: string, value: unknown): Promise<void> }): Promise<string> {
    try {
      await engine.addNamedItem('fromNeighbour', 1);
      return 'allowed';
    } catch (err) {
      return (err as Error).name;
    }
  }
}
