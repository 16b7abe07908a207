/**
 * SHA-256 and SHA-512 (FIPS 180-4) in plain TypeScript, incremental. Used for documents held in
 * memory (manifests, configs, index bytes), so that hashing them is synchronous and needs neither
 * `node:crypto` (which costs tens of milliseconds of start-up under Deno) nor the asynchronous Web
 * Crypto API. Streams of blob bytes use `node:crypto`, loaded on demand (`content.ts`).
 *
 * The round constants and initial hash values are written out in hex (§4.2.2, §4.2.3, §5.3.3,
 * §5.3.5); tests/sha2_test.ts checks them through the FIPS 180-4 examples and node:crypto.
 *
 * @module
 */

/** An incremental hash: feed bytes, then read the digest once. */
export interface Sha2 {
  /** Adds bytes. */
  update(data: Uint8Array): void;
  /** The digest; the hash cannot be updated afterwards. */
  digest(): Uint8Array;
}

/**
 * The first 64 bits of the fractional parts of the cube roots of the first 80 primes (§4.2.3);
 * SHA-256's round constants are their high 32 bits (§4.2.2). Written out rather than computed:
 * exact roots take milliseconds of start-up.
 */
const K_HEX =
  "428a2f98d728ae22 7137449123ef65cd b5c0fbcfec4d3b2f e9b5dba58189dbbc 3956c25bf348b538 " +
  "59f111f1b605d019 923f82a4af194f9b ab1c5ed5da6d8118 d807aa98a3030242 12835b0145706fbe " +
  "243185be4ee4b28c 550c7dc3d5ffb4e2 72be5d74f27b896f 80deb1fe3b1696b1 9bdc06a725c71235 " +
  "c19bf174cf692694 e49b69c19ef14ad2 efbe4786384f25e3 0fc19dc68b8cd5b5 240ca1cc77ac9c65 " +
  "2de92c6f592b0275 4a7484aa6ea6e483 5cb0a9dcbd41fbd4 76f988da831153b5 983e5152ee66dfab " +
  "a831c66d2db43210 b00327c898fb213f bf597fc7beef0ee4 c6e00bf33da88fc2 d5a79147930aa725 " +
  "06ca6351e003826f 142929670a0e6e70 27b70a8546d22ffc 2e1b21385c26c926 4d2c6dfc5ac42aed " +
  "53380d139d95b3df 650a73548baf63de 766a0abb3c77b2a8 81c2c92e47edaee6 92722c851482353b " +
  "a2bfe8a14cf10364 a81a664bbc423001 c24b8b70d0f89791 c76c51a30654be30 d192e819d6ef5218 " +
  "d69906245565a910 f40e35855771202a 106aa07032bbd1b8 19a4c116b8d2d0c8 1e376c085141ab53 " +
  "2748774cdf8eeb99 34b0bcb5e19b48a8 391c0cb3c5c95a63 4ed8aa4ae3418acb 5b9cca4f7763e373 " +
  "682e6ff3d6b2b8a3 748f82ee5defb2fc 78a5636f43172f60 84c87814a1f0ab72 8cc702081a6439ec " +
  "90befffa23631e28 a4506cebde82bde9 bef9a3f7b2c67915 c67178f2e372532b ca273eceea26619c " +
  "d186b8c721c0c207 eada7dd6cde0eb1e f57d4f7fee6ed178 06f067aa72176fba 0a637dc5a2c898a6 " +
  "113f9804bef90dae 1b710b35131c471b 28db77f523047d84 32caab7b40c72493 3c9ebe0a15c9bebc " +
  "431d67c49c100d4c 4cc5d4becb3e42b6 597f299cfc657e2a 5fcb6fab3ad6faec 6c44198c4a475817";

/** The same of the square roots of the first 8 primes: the initial hash values (§5.3.5, §5.3.3). */
const H_HEX =
  "6a09e667f3bcc908 bb67ae8584caa73b 3c6ef372fe94f82b a54ff53a5f1d36f1 510e527fade682d1 " +
  "9b05688c2b3e6c1f 1f83d9abfb41bd6b 5be0cd19137e2179";

/** 64-bit words in hex, separated by spaces, as [hi, lo] pairs of 32-bit words. */
function words64(hex: string): Int32Array {
  const parts = hex.split(" ");
  const out = new Int32Array(2 * parts.length);
  parts.forEach((w, i) => {
    out[2 * i] = parseInt(w.slice(0, 8), 16) | 0;
    out[2 * i + 1] = parseInt(w.slice(8), 16) | 0;
  });
  return out;
}

let constants: { k256: Int32Array; h256: Int32Array; k512: Int32Array; h512: Int32Array };

function getConstants(): typeof constants {
  if (!constants) {
    const k512 = words64(K_HEX);
    const h512 = words64(H_HEX);
    const hi = (a: Int32Array, n: number) => Int32Array.from({ length: n }, (_, i) => a[2 * i]);
    constants = { k256: hi(k512, 64), h256: hi(h512, 8), k512, h512 };
  }
  return constants;
}

/** Block buffering and the length padding shared by both sizes (§5.1). */
abstract class Sha2Base implements Sha2 {
  #block: Uint8Array;
  #filled = 0;
  #total = 0;
  #done = false;
  constructor(readonly blockSize: 64 | 128) {
    this.#block = new Uint8Array(blockSize);
  }

  protected abstract compress(bytes: Uint8Array, offset: number): void;
  protected abstract output(): Uint8Array;

  update(data: Uint8Array): void {
    if (this.#done) throw new Error("The hash has already been read");
    this.#total += data.length;
    let i = 0;
    if (this.#filled > 0) {
      const take = Math.min(this.blockSize - this.#filled, data.length);
      this.#block.set(data.subarray(0, take), this.#filled);
      this.#filled += take;
      i = take;
      if (this.#filled < this.blockSize) return;
      this.compress(this.#block, 0);
      this.#filled = 0;
    }
    for (; i + this.blockSize <= data.length; i += this.blockSize) this.compress(data, i);
    this.#block.set(data.subarray(i), 0);
    this.#filled = data.length - i;
  }

  digest(): Uint8Array {
    if (this.#done) throw new Error("The hash has already been read");
    const lengthBytes = this.blockSize / 8;
    const total = this.#total;
    const padded = this.#filled + 1 + lengthBytes <= this.blockSize
      ? this.blockSize
      : 2 * this.blockSize;
    const tail = new Uint8Array(padded);
    tail.set(this.#block.subarray(0, this.#filled));
    tail[this.#filled] = 0x80;
    // The message length in bits, big-endian, in the last 64 bits (the high 64 of SHA-512's 128
    // are zero for any length a Number can count).
    const view = new DataView(tail.buffer);
    view.setUint32(padded - 8, Math.floor(total / 2 ** 29));
    view.setUint32(padded - 4, (total % 2 ** 29) * 8);
    for (let o = 0; o < padded; o += this.blockSize) this.compress(tail, o);
    this.#done = true;
    return this.output();
  }
}

const be32 = (b: Uint8Array, o: number) =>
  (b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3];

function writeWords(words: Int32Array, count: number): Uint8Array {
  const out = new Uint8Array(4 * count);
  const view = new DataView(out.buffer);
  for (let i = 0; i < count; i++) view.setInt32(4 * i, words[i]);
  return out;
}

/** SHA-256 (FIPS 180-4 §6.2). */
class Sha256 extends Sha2Base {
  #h: Int32Array;
  #w = new Int32Array(64);
  #k: Int32Array;
  constructor() {
    super(64);
    const c = getConstants();
    this.#h = c.h256.slice();
    this.#k = c.k256;
  }

  protected compress(b: Uint8Array, off: number): void {
    const w = this.#w;
    const k = this.#k;
    for (let i = 0; i < 16; i++) w[i] = be32(b, off + 4 * i);
    for (let i = 16; i < 64; i++) {
      const x = w[i - 15];
      const y = w[i - 2];
      const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
      const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
      w[i] = (w[i - 16] + s0 + w[i - 7] + s1) | 0;
    }
    const h = this.#h;
    let a = h[0], bb = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], hh = h[7];
    for (let i = 0; i < 64; i++) {
      const S1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
      const t1 = (hh + S1 + ((e & f) ^ (~e & g)) + k[i] + w[i]) | 0;
      const S0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
      const t2 = (S0 + ((a & bb) ^ (a & c) ^ (bb & c))) | 0;
      hh = g;
      g = f;
      f = e;
      e = (d + t1) | 0;
      d = c;
      c = bb;
      bb = a;
      a = (t1 + t2) | 0;
    }
    h[0] = (h[0] + a) | 0;
    h[1] = (h[1] + bb) | 0;
    h[2] = (h[2] + c) | 0;
    h[3] = (h[3] + d) | 0;
    h[4] = (h[4] + e) | 0;
    h[5] = (h[5] + f) | 0;
    h[6] = (h[6] + g) | 0;
    h[7] = (h[7] + hh) | 0;
  }

  protected output(): Uint8Array {
    return writeWords(this.#h, 8);
  }
}

// 64-bit words are [hi, lo] halves in Int32Arrays (words[2i] is the high half of word i);
// rotations and shifts of the §4.1.3 functions are spelled out on the halves, and sums carry
// from the low half to the high one.
const TWO32 = 2 ** 32;

/** SHA-512 (FIPS 180-4 §6.4). */
class Sha512 extends Sha2Base {
  #h: Int32Array;
  #w = new Int32Array(160);
  #k: Int32Array;
  constructor() {
    super(128);
    const c = getConstants();
    this.#h = c.h512.slice();
    this.#k = c.k512;
  }

  protected compress(b: Uint8Array, off: number): void {
    const w = this.#w;
    for (let i = 0; i < 32; i++) w[i] = be32(b, off + 4 * i);
    for (let i = 32; i < 160; i += 2) {
      const xh = w[i - 30], xl = w[i - 29], yh = w[i - 4], yl = w[i - 3];
      // σ0 = ROTR1 ^ ROTR8 ^ SHR7; σ1 = ROTR19 ^ ROTR61 ^ SHR6
      const s0h = ((xh >>> 1) | (xl << 31)) ^ ((xh >>> 8) | (xl << 24)) ^ (xh >>> 7);
      const s0l = ((xl >>> 1) | (xh << 31)) ^ ((xl >>> 8) | (xh << 24)) ^
        ((xl >>> 7) | (xh << 25));
      const s1h = ((yh >>> 19) | (yl << 13)) ^ ((yl >>> 29) | (yh << 3)) ^ (yh >>> 6);
      const s1l = ((yl >>> 19) | (yh << 13)) ^ ((yh >>> 29) | (yl << 3)) ^
        ((yl >>> 6) | (yh << 26));
      const lo = (w[i - 31] >>> 0) + (s0l >>> 0) + (w[i - 13] >>> 0) + (s1l >>> 0);
      w[i] = w[i - 32] + s0h + w[i - 14] + s1h + ((lo / TWO32) | 0);
      w[i + 1] = lo;
    }
    this.#rounds();
  }

  #rounds(): void {
    const w = this.#w, k = this.#k, h = this.#h;
    let ah = h[0], al = h[1], bh = h[2], bl = h[3], ch = h[4], cl = h[5], dh = h[6], dl = h[7];
    let eh = h[8], el = h[9], fh = h[10], fl = h[11], gh = h[12], gl = h[13];
    let hh = h[14], hl = h[15];
    for (let i = 0; i < 160; i += 2) {
      // Σ1 = ROTR14 ^ ROTR18 ^ ROTR41; Σ0 = ROTR28 ^ ROTR34 ^ ROTR39
      const S1h = ((eh >>> 14) | (el << 18)) ^ ((eh >>> 18) | (el << 14)) ^
        ((el >>> 9) | (eh << 23));
      const S1l = ((el >>> 14) | (eh << 18)) ^ ((el >>> 18) | (eh << 14)) ^
        ((eh >>> 9) | (el << 23));
      const t1l = (hl >>> 0) + (S1l >>> 0) + (((el & fl) ^ (~el & gl)) >>> 0) + (k[i + 1] >>> 0) +
        (w[i + 1] >>> 0);
      const t1h = hh + S1h + ((eh & fh) ^ (~eh & gh)) + k[i] + w[i] + ((t1l / TWO32) | 0);
      const S0h = ((ah >>> 28) | (al << 4)) ^ ((al >>> 2) | (ah << 30)) ^ ((al >>> 7) | (ah << 25));
      const S0l = ((al >>> 28) | (ah << 4)) ^ ((ah >>> 2) | (al << 30)) ^ ((ah >>> 7) | (al << 25));
      const t2l = (S0l >>> 0) + (((al & bl) ^ (al & cl) ^ (bl & cl)) >>> 0);
      const t2h = S0h + ((ah & bh) ^ (ah & ch) ^ (bh & ch)) + ((t2l / TWO32) | 0);
      hh = gh, hl = gl, gh = fh, gl = fl, fh = eh, fl = el;
      const newEl = (dl >>> 0) + (t1l >>> 0);
      eh = (dh + t1h + ((newEl / TWO32) | 0)) | 0, el = newEl | 0;
      dh = ch, dl = cl, ch = bh, cl = bl, bh = ah, bl = al;
      const newAl = (t1l >>> 0) + (t2l >>> 0);
      ah = (t1h + t2h + ((newAl / TWO32) | 0)) | 0, al = newAl | 0;
    }
    const v = [ah, al, bh, bl, ch, cl, dh, dl, eh, el, fh, fl, gh, gl, hh, hl];
    for (let j = 0; j < 16; j += 2) {
      const lo = (h[j + 1] >>> 0) + (v[j + 1] >>> 0);
      h[j] = h[j] + v[j] + ((lo / TWO32) | 0);
      h[j + 1] = lo;
    }
  }

  protected output(): Uint8Array {
    return writeWords(this.#h, 16);
  }
}

/**
 * A new incremental SHA-256 or SHA-512 hash.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { createSha2 } from "./_sha2.ts";
 * const h = createSha2("sha256");
 * h.update(new TextEncoder().encode("abc"));
 * assert.equal(
 *   Array.from(h.digest(), (b) => b.toString(16).padStart(2, "0")).join(""),
 *   "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad",
 * );
 * ```
 */
export function createSha2(algorithm: "sha256" | "sha512"): Sha2 {
  return algorithm === "sha256" ? new Sha256() : new Sha512();
}

/** Lowercase hex of `bytes`. */
export function toHex(bytes: Uint8Array): string {
  let s = "";
  for (const b of bytes) s += (b < 16 ? "0" : "") + b.toString(16);
  return s;
}
