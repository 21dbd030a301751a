// Call-chain (causality) ids that a peer cannot guess. A chain id is authority: a call that carries
// the id of the chain holding an object's turn is admitted at once (call-chain reentrancy), and a
// wait reported for a chain can get another chain's call refused as a deadlock. With ids counted
// 1, 2, 3… a plugin handed a reference to a busy object could name the host's chain and run inside
// its turn. So an apartment still counts its chains (the count keeps them unique) but hands out
// each count enciphered with Speck32/64 under a random key of its own: a permutation of the 32-bit
// numbers, so ids stay unique, and ids seen tell nothing of the ids not seen. Owner thread only.
import { randomId } from '../marshal/random-ids.js';

/** Speck32/64: 16-bit words, 22 rounds, rotations 7 and 2 (Beaulieu et al., 2013). */
const ROUNDS = 22;
const WORD = 0xffff;

function ror(x: number, r: number): number {
  return ((x >>> r) | (x << (16 - r))) & WORD;
}

function rol(x: number, r: number): number {
  return ((x << r) | (x >>> (16 - r))) & WORD;
}

/** Speck32/64 round keys for the key words (l2, l1, l0, k0), as the cipher's paper writes them. */
export function speckRoundKeys(key: readonly [number, number, number, number]): Uint16Array {
  const keys = new Uint16Array(ROUNDS);
  const l = [key[2], key[1], key[0]];
  let k = key[3];
  keys[0] = k;
  for (let i = 0; i < ROUNDS - 1; i++) {
    const next = ((k + ror(l[i]!, 7)) & WORD) ^ i;
    l.push(next);
    k = rol(k, 2) ^ next;
    keys[i + 1] = k;
  }
  return keys;
}

/** Encipher the 32-bit block `block` (its high half is the cipher's x word, its low half y). */
export function speckEncipher(keys: Uint16Array, block: number): number {
  let x = (block >>> 16) & WORD;
  let y = block & WORD;
  // ror(x, 7) and rol(y, 2) written out: this runs for each call a thread starts a chain with.
  for (let i = 0; i < ROUNDS; i++) {
    x = ((((x >>> 7) | (x << 9)) + y) & WORD) ^ keys[i]!;
    y = (((y << 2) | (y >>> 14)) & WORD) ^ x;
  }
  return ((x << 16) | y) >>> 0;
}

/** One apartment's chain ids: its id in the high part, an enciphered count in the low 32 bits. */
export class ChainIds {
  private readonly keys: Uint16Array;
  private count = 0;

  constructor(private readonly apartment: number) {
    // 64 of the 128 random bits of an unguessable id (marshal/random-ids.ts) are the key.
    const hex = randomId();
    this.keys = speckRoundKeys([0, 4, 8, 12].map((at) => parseInt(hex.slice(at, at + 4), 16)) as [number, number, number, number]);
  }

  /** A fresh chain id, unique across the runtime for the apartment's first 2^32 chains. */
  next(): number {
    this.count = (this.count + 1) >>> 0;
    return this.apartment * 0x1_0000_0000 + speckEncipher(this.keys, this.count);
  }
}
