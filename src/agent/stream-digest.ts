/**
 * StreamDigest: the sender's one hashing pass over QEMU's stream. It is the running xxhash64 of
 * the stream (END's digest is its final value), taken over the bytes as QEMU's socket delivered
 * them, and it can say the digest at any frame boundary: the value a frame with a chained
 * checksum needs (src/wire/stream-chain.ts, docs/frame-format.md "Chained checksum").
 *
 * A boundary lies where the batcher cut a frame: after the last stream byte the parser handed it.
 * The parser may hold a few bytes past that (a page header or a page cut by the end of a chunk,
 * at most a page and a header), and a later cut may still fall before them (a batch flushed by
 * the timer between chunks). So the digest never runs past the bytes handed out: at the end of a
 * chunk it hashes up to there, and keeps a copy of the rest, since the chunk is QEMU's socket's
 * reused read buffer, for the next cut or chunk.
 *
 * Offsets are stream offsets (bytes since the stream's first byte).
 */
import { Xxh64 } from '@node-rs/xxhash';
import { AgentCodes, AgentError } from './errors.js';

/** Most bytes a chunk may leave unhanded: a page the parser gathers plus its scratch of header bytes. */
const CARRY_MAX = 4096 + 512;

export class StreamDigest {
  private readonly h = new Xxh64();
  /** Stream bytes hashed, and bytes received (hashed, carried, or in the current chunk). */
  private hashed = 0;
  private received = 0;
  /** Bytes [hashed, hashed + carryLen) of the stream, from earlier chunks, not hashed yet. */
  private readonly carry = new Uint8Array(CARRY_MAX);
  private carryLen = 0;
  /** The chunk being parsed, intact until `endChunk`, and its first byte's stream offset. */
  private chunk: Uint8Array | null = null;
  private chunkBase = 0;

  /** Stream bytes received so far (the sender's count of QEMU's stream). */
  get length(): number {
    return this.received;
  }

  /** `chunk` (the stream's next bytes) stays intact until `endChunk`. */
  beginChunk(chunk: Uint8Array): void {
    this.chunk = chunk;
    this.chunkBase = this.received;
    this.received += chunk.length;
  }

  /**
   * The chunk from `beginChunk` may change now. `handedOut`: stream bytes the parser has passed
   * on so far; the rest of the chunk is copied.
   */
  endChunk(handedOut: number): void {
    this.advance(handedOut);
    const chunk = this.chunk!;
    const from = Math.max(0, this.hashed + this.carryLen - this.chunkBase);
    const keep = chunk.length - from;
    if (this.carryLen + keep > CARRY_MAX) {
      throw new AgentError(AgentCodes.internal, `stream digest: ${this.carryLen + keep} stream bytes not passed on by the parser (at most ${CARRY_MAX} expected)`);
    }
    this.carry.set(chunk.subarray(from), this.carryLen);
    this.carryLen += keep;
    this.chunk = null;
  }

  /** The digest of stream bytes [0, offset): offset is a frame boundary, at or past the last one asked. */
  at(offset: number): bigint {
    this.advance(offset);
    return this.h.digest();
  }

  /** The digest of the whole stream: every byte received must have been handed out. */
  final(): bigint {
    if (this.chunk !== null) throw new AgentError(AgentCodes.internal, 'stream digest: final() inside a chunk');
    return this.at(this.received);
  }

  private advance(to: number): void {
    if (to < this.hashed || to > this.received) {
      throw new AgentError(AgentCodes.internal, `stream digest: offset ${to} outside ${this.hashed}..${this.received}`);
    }
    if (to === this.hashed) return;
    if (this.carryLen > 0) {
      const n = Math.min(this.carryLen, to - this.hashed);
      this.h.update(this.carry.subarray(0, n));
      this.hashed += n;
      this.carryLen -= n;
      if (this.carryLen > 0) this.carry.copyWithin(0, n, n + this.carryLen);
      if (this.hashed === to) return;
    }
    // What is left lies in the current chunk (bytes before it were hashed or carried).
    if (this.chunk === null) throw new AgentError(AgentCodes.internal, `stream digest: offset ${to} is past the bytes kept`);
    this.h.update(this.chunk.subarray(this.hashed - this.chunkBase, to - this.chunkBase));
    this.hashed = to;
  }
}
