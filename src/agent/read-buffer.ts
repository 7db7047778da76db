/**
 * Reads of a socket into buffers of our choosing, for the agents' two hot reads: QEMU's stream
 * into one reused buffer in `mecom send` (`readIntoBuffer`), frames straight into their own
 * buffers in `mecom receive` (`readIntoTargets`).
 *
 * Node's default read path allocates a fresh 64 KiB Buffer per read and emits it through the
 * stream machinery; moving a migration stream that way cost 1.2 ms of CPU per MB here, four
 * times what reads into a reused buffer cost (`onread`), and on a 2-core host the agents' CPU is
 * what limits a fast link. Node offers `onread` only to sockets it connects itself, not to the
 * ones a server accepts, so for those we set the same three fields its `onread` option sets,
 * found by their symbols' descriptions on a probe socket. Where this Node does not have them,
 * `readIntoBuffer` returns false and the caller keeps the 'data' events.
 *
 * The callback gets a view of the shared buffer: it must be done with the bytes (copied or
 * consumed) before it returns. Pause and resume keep working (Node's net handles them for
 * `onread` sockets), and 'end' still fires once the socket flows.
 */
import net from 'node:net';

interface OnreadFields {
  buffer: symbol;
  callback: symbol;
  generator: symbol;
}

function findFields(): OnreadFields | undefined {
  try {
    // @types/node declares `onread` for net.connect only; the Socket constructor takes it too.
    const probe = new net.Socket({ onread: { buffer: Buffer.alloc(1), callback: () => true } } as net.SocketConstructorOpts);
    const syms = Object.getOwnPropertySymbols(probe);
    const by = (d: string) => syms.find((s) => s.description === d);
    const buffer = by('kBuffer');
    const callback = by('kBufferCb');
    const generator = by('kBufferGen');
    probe.destroy();
    return buffer && callback && generator ? { buffer, callback, generator } : undefined;
  } catch {
    return undefined;
  }
}

let fields: OnreadFields | undefined | null = null;

/** Default size of the reused read buffer: larger reads, fewer wake-ups. */
export const READ_BUFFER_BYTES = 1 << 20;

/**
 * Switch `sock` to reads into `buffer`; `onChunk` gets each read's bytes (a view of `buffer`,
 * valid only during the call). Call before the first read is delivered (in the 'connection'
 * or 'connect' handler). Returns false, changing nothing, when this Node cannot do it.
 */
export function readIntoBuffer(sock: net.Socket, onChunk: (chunk: Buffer) => void, buffer: Buffer = Buffer.allocUnsafe(READ_BUFFER_BYTES)): boolean {
  if (fields === null) fields = findFields();
  const handle = (sock as unknown as { _handle?: { useUserBuffer?: (b: Uint8Array) => void } })._handle;
  if (!fields || !handle || typeof handle.useUserBuffer !== 'function') return false;
  const s = sock as unknown as Record<symbol, unknown>;
  s[fields.buffer] = buffer;
  s[fields.callback] = (n: number, buf: Buffer) => {
    onChunk(buf.subarray(0, n));
    return true;
  };
  s[fields.generator] = null;
  handle.useUserBuffer(buffer);
  // Flowing mode: with no 'data' listener, 'end' is emitted only once the stream flows.
  sock.resume();
  return true;
}

/**
 * Switch `sock` to reads into the buffer `next()` returns, asked again after every read: the
 * bytes land where they are to stay (src/wire/envelope.ts `readTarget`), and `onRead(n)` is
 * told how many came. `next` must return a non-empty buffer, and one that stays untouched
 * until the read into it was reported. Returns false, changing nothing, when this Node cannot.
 */
export function readIntoTargets(sock: net.Socket, next: () => Uint8Array, onRead: (n: number) => void): boolean {
  if (fields === null) fields = findFields();
  const handle = (sock as unknown as { _handle?: { useUserBuffer?: (b: Uint8Array) => void } })._handle;
  if (!fields || !handle || typeof handle.useUserBuffer !== 'function') return false;
  const s = sock as unknown as Record<symbol, unknown>;
  const first = next();
  s[fields.buffer] = first;
  s[fields.callback] = (n: number) => {
    onRead(n);
    return true;
  };
  s[fields.generator] = next;
  handle.useUserBuffer(first);
  sock.resume();
  return true;
}
