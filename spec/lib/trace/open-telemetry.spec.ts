import { expect } from 'chai';
import { context, trace, type Span } from '@opentelemetry/api';
import { AsyncLocalStorageContextManager } from '@opentelemetry/context-async-hooks';
import { BasicTracerProvider, InMemorySpanExporter, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base';
import { InvalidArgumentError, Runtime, type Remote } from '../../../lib/index.js';
import { openTelemetryCarrier, type OpenTelemetryApi } from '../../../lib/trace/open-telemetry.js';
import { messageProblem } from '../../../marshal/message-checks.js';
import { MAX_CARRIED_CONTEXT, Op } from '../../../marshal/protocol.js';
import type { SpanFacts, Traced } from '../../fixtures/traced.js';
import { fixture, startRuntime } from '../../fixtures/runtime-fixture.js';
import * as api from '@opentelemetry/api';

const tracer = (): ReturnType<typeof trace.getTracer> => trace.getTracer('apartment-runtime-spec-main');

/** OpenTelemetry in the main thread, as a host that traces sets it up before starting the runtime. */
function setUpMainThread(): void {
  context.setGlobalContextManager(new AsyncLocalStorageContextManager().enable());
  trace.setGlobalTracerProvider(new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(new InMemorySpanExporter())] }));
}

afterEach(() => {
  trace.disable();
  context.disable();
});

async function tracedApartments(options: { openTelemetry?: boolean } = {}): Promise<Remote<Traced>[]> {
  const { rt } = await startRuntime(options);
  await rt.registerApartmentHooks({ module: fixture('traced.js'), export: 'otelSetup' });
  rt.registerClass('Traced', { module: fixture('traced.js'), export: 'Traced' });
  const out: Remote<Traced>[] = [];
  for (const name of ['plugin-a', 'plugin-b']) out.push(await (await rt.createApartment({ name })).createObject<Traced>('Traced'));
  return out;
}

/** Run `work` under an active span of the main thread; answers what it returned and the span. */
async function underSpan<T>(work: () => Promise<T>): Promise<{ value: T; span: Span }> {
  return tracer().startActiveSpan('caller', async (span) => {
    const value = await work();
    span.end();
    return { value, span };
  });
}

describe('lib/trace open-telemetry: a span active in the caller is the parent of the work in the callee', () => {
  it('across one apartment, and across a chain of two, in one trace', async () => {
    setUpMainThread();
    const [a, b] = await tracedApartments();
    const one = await underSpan(() => a!.work());
    expect(one.value.traceId).to.equal(one.span.spanContext().traceId);
    expect(one.value.parentSpanId, 'the callee span hangs under the caller span').to.equal(one.span.spanContext().spanId);
    const two = await underSpan(() => a!.forward(b!));
    const { own, next } = two.value;
    expect(own.parentSpanId).to.equal(two.span.spanContext().spanId);
    expect(next.parentSpanId, "the second hop hangs under the first hop's span").to.equal(own.spanId);
    expect([own.traceId, next.traceId]).to.deep.equal([two.span.spanContext().traceId, two.span.spanContext().traceId]);
    expect([own.apartment, next.apartment]).to.not.include(0);
  });

  it('carries nothing when no span is active, and nothing when the runtime was started with openTelemetry: false', async () => {
    setUpMainThread();
    const [a] = await tracedApartments({ openTelemetry: false });
    const unparented: SpanFacts = await a!.work();
    expect(unparented.parentSpanId).to.equal(undefined);
    const off = await underSpan(() => a!.work());
    expect(off.value.parentSpanId, 'openTelemetry: false').to.equal(undefined);
    expect(off.value.traceId).to.not.equal(off.span.spanContext().traceId);
  });

  it('is on by default only when the host registered OpenTelemetry before start', async () => {
    const [a] = await tracedApartments();
    setUpMainThread();
    const late = await underSpan(() => a!.work());
    expect(late.value.parentSpanId, 'registered after start: off').to.equal(undefined);
  });
});

describe('lib/trace open-telemetry: a carried context from a hostile peer', () => {
  it('is bounded on the wire and, unless it is a valid traceparent, leaves the work without a parent', () => {
    const call = (context: unknown): unknown[] => [Op.Call, 1, 1, 'm', [], 0, 0, context];
    expect(messageProblem(call('x'.repeat(MAX_CARRIED_CONTEXT)))).to.equal(undefined);
    expect(messageProblem(call('x'.repeat(MAX_CARRIED_CONTEXT + 1)))).to.match(/context/);
    expect(messageProblem(call(42))).to.match(/context/);
    setUpMainThread();
    const carrier = openTelemetryCarrier(api as unknown as OpenTelemetryApi);
    const parentIn = (carried: string): string | undefined => carrier.within(carried, () => trace.getSpanContext(context.active())?.spanId);
    for (const bad of ['garbage', `00-${'0'.repeat(32)}-${'1'.repeat(16)}-01`, `00-${'a'.repeat(32)}-${'0'.repeat(16)}-01`, `ff-${'a'.repeat(32)}-${'b'.repeat(16)}-01`, `00-${'A'.repeat(32)}-${'b'.repeat(16)}-01`]) {
      expect(parentIn(bad), bad).to.equal(undefined);
    }
    expect(parentIn(`00-${'a'.repeat(32)}-${'b'.repeat(16)}-01`)).to.equal('b'.repeat(16));
  });

  it('refuses an openTelemetry option that is not a boolean', async () => {
    const err = await Runtime.start({ openTelemetry: 'yes' as unknown as boolean }).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(InvalidArgumentError);
    expect((err as InvalidArgumentError).message).to.contain('[open-telemetry]');
  });
});
