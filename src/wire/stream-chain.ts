/**
 * Chained checksums (docs/frame-format.md "Chained checksum"): a frame of glue only may carry,
 * instead of a hash of its own bytes, xxhash64 of its 24-byte header seeded with the digest of
 * the whole QEMU stream from its first byte through the frame's last span byte (the running
 * xxhash64 that END's digest is the final value of).
 *
 * Why: at 10 Gbit/s on a small host every pass over the stream counts (docs/benchmarks.md). A
 * frame checksum over the span and a separate stream digest over the same bytes were two
 * hashing passes per agent; with the chain, one pass serves both. The sender's pass is over the
 * bytes as QEMU's socket delivered them (src/agent/stream-digest.ts), so the chain also proves
 * that the copy into the frame was exact, which a hash of the frame could not.
 */
import { xxh64 } from '@node-rs/xxhash';
import { FRAME_HEADER_LENGTH } from './frame-format.js';
import { WireCodes, WireError } from './errors.js';

/** What a decoder could not check of a chained frame: its header and the checksum it carries. */
export interface ChainCheck {
  /** The frame's 24 header bytes (a view of the frame). */
  header: Uint8Array;
  checksum: bigint;
}

/** The checksum of a chained frame with this header, the stream digest through its span being `streamDigest`. */
export function chainedChecksum(header: Uint8Array, streamDigest: bigint): bigint {
  return xxh64(header.subarray(0, FRAME_HEADER_LENGTH), streamDigest);
}

/**
 * R10 for a chained frame, once its span was added to the stream digest (`streamDigest`):
 * throws MECOM_WIRE_CHECKSUM unless the frame's checksum matches.
 */
export function verifyChained(check: ChainCheck, streamDigest: bigint): void {
  const got = chainedChecksum(check.header, streamDigest);
  if (got !== check.checksum) {
    throw new WireError(WireCodes.checksum, `chained frame checksum ${got.toString(16)} does not match frame's ${check.checksum.toString(16)} (the frame, or a stream byte before it, differs from what the sender read)`);
  }
}
