// The workshop of the creation steps. A Widget makes dependent Sprockets with `new`, so they live
// in the Widget's apartment. A Maker creates Parts in the three ways COM tells apart: `new`
// (always here), createInstance (the class's contract decides: an `apartment` class joins its
// creator, a `single` class goes to the main apartment) and createObject (external: the runtime's
// assignment policy picks the apartment; `single` still goes to the main apartment).
import { currentApartment } from 'apartment-runtime';

/** A dependent object: made with `new` inside a Widget, it lives in the Widget's apartment. */
export class Sprocket {
  static threading = 'apartment';
  constructor(private readonly size: number) {}
  where(): number {
    return currentApartment().id;
  }
  getSize(): number {
    return this.size;
  }
}

export class Widget {
  static threading = 'apartment';
  makeSprocket(size: number): Sprocket {
    return new Sprocket(size);
  }
  where(): number {
    return currentApartment().id;
  }
}

/** A part whose contract lets it live in any apartment (one thread at a time). */
export class Part {
  static threading = 'apartment';
  where(): number {
    return currentApartment().id;
  }
}

/** A part whose contract keeps it in the main apartment. */
export class MainPart {
  static threading = 'single';
  where(): number {
    return currentApartment().id;
  }
}

/** How the Maker is asked to create a part. */
export type CreationWay = 'new' | 'createInstance' | 'createObject';

const CONSTRUCTORS = { Part, MainPart } as const;

export class Maker {
  static threading = 'apartment';
  /** Create a `className` part the `way` asked; the caller gets it (a proxy) and asks it where it runs. */
  async make(way: CreationWay, className: keyof typeof CONSTRUCTORS): Promise<Part | MainPart> {
    if (!(className in CONSTRUCTORS)) throw new Error(`[tour] no part class '${String(className)}'; use Part or MainPart`);
    switch (way) {
      case 'new':
        return new CONSTRUCTORS[className]();
      case 'createInstance':
        return currentApartment().createInstance<Part | MainPart>(className);
      case 'createObject':
        return currentApartment().createObject<Part | MainPart>(className);
      default: {
        const unknown: never = way;
        throw new Error(`[tour] unknown way of creating '${String(unknown)}'; use new, createInstance or createObject`);
      }
    }
  }
  where(): number {
    return currentApartment().id;
  }
}
