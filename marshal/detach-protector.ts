// Detach one empty ArrayBuffer when the runtime loads in a thread, before any of its code is hot.
//
// Why: V8 compiles typed-array and DataView accesses without a check for a detached buffer for as
// long as no ArrayBuffer of the thread has ever been detached (its "ArrayBuffer detaching
// protector", on Node 20, 22 and 24 alike). The first detach — a transfer(), one of the codec's
// moved copies — then throws away, in one go, every optimised function that relied on it: the
// shared ring's reads and writes, the wire encoder and decoder — and calls run slow until V8 has
// optimised them again. Measured after a program's first 1 000 moved 16 KiB buffers: V8 optimised
// 54 functions again in the next 2 000 small calls over shared memory without this, about 30 with
// it, and those calls averaged 68 µs against 53 (medians of 9 and 12 runs; 5-11 µs once warm;
// docs/performance.md). Detaching one buffer at load means that code is optimised once, with the
// checks, and a program's first transfer does not throw it away.

const spent = new ArrayBuffer(0);
structuredClone(spent, { transfer: [spent] });
