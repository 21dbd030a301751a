// Visual Basic's thread per object: every externally created object gets an apartment (a thread)
// of its own, which exits when nothing in it is referenced any more. "Nothing" includes dependent
// objects: a Sprocket a Widget made with `new` lives on the Widget's thread, so a client that keeps
// the Sprocket keeps that thread alive after releasing the Widget.
import { release, traceMark, type Remote } from 'apartment-runtime';
import type { Sprocket, Widget } from '../classes/workshop.js';
import { count, type TourStep } from '../tour-step.js';
import { finishTour, scenarioStart, startTour, untilClosed } from '../tour-runtime.js';

export const threadPerObject: TourStep = {
  name: 'thread-per-object',
  title: 'VB6 thread per object: a dependent object keeps its thread alive',
  options: {
    dependent: { describe: "'yes': widget 1 makes a Sprocket with new and the client keeps it; 'no': it makes none", default: 'yes', choices: ['yes', 'no'] },
    widgets: { describe: 'widgets the client creates externally (each on a thread of its own)', default: '2' },
  },
  async run(options) {
    const dependent = options.dependent === 'yes';
    const widgetCount = count(options, 'widgets');
    const rt = await startTour({ assignment: 'thread-per-object' });
    const from = scenarioStart(rt);
    const widgets: Remote<Widget>[] = [];
    const homes: number[] = [];
    for (let i = 0; i < widgetCount; i++) {
      const widget = await rt.createObject<Widget>('Widget');
      widgets.push(widget);
      homes.push(await widget.where());
    }
    const home = rt.apartments.find((a) => a.id === homes[0])!;
    const sprocket = dependent ? ((await widgets[0]!.makeSprocket(7)) as unknown as Remote<Sprocket>) : undefined;
    release(widgets[0]!);
    traceMark('released widget 1');
    // The Sprocket's calls travel the channel the release went down, so this call arrives after
    // the Widget is gone: if the thread were closing, it would fail.
    const sprocketHome = sprocket ? await sprocket.where() : undefined;
    const stateAfterWidgetReleased = home.state;
    if (sprocket) {
      release(sprocket);
      traceMark('released sprocket');
    }
    await untilClosed(home);
    const othersLive = rt.apartments.filter((a) => homes.slice(1).includes(a.id) && a.state === 'ready').length;
    const trace = await finishTour(rt, from);
    // What the Widget's apartment counted as it lost references: live exports left after each release.
    const exportsLeft = trace.events.filter((e) => e.kind === 'Release' && e.apartment === homes[0] && !e.name.includes('.')).map((e) => e.extra);
    return {
      trace,
      facts: { dependent, homes, sprocketHome, stateAfterWidgetReleased, exportsLeft, othersLive },
      lesson: `${widgetCount === 1 ? 'The widget created externally ran on a thread of its own' : `${widgetCount} widgets created externally ran on ${new Set(homes).size} threads of their own`} (apartment${widgetCount === 1 ? '' : 's'} ${homes.join(', ')}). ${dependent
        ? `The client released widget 1 but kept the Sprocket it made with new: its thread stayed ${stateAfterWidgetReleased} and the Sprocket answered from apartment ${sprocketHome}, the Widget's; only releasing the Sprocket let the thread exit.`
        : 'Widget 1 made no dependent object, so releasing it let its thread exit at once.'}${widgetCount > 1 ? " The other widgets' threads stayed up: each lives as long as something in it is referenced." : ''}`,
    };
  },
};
