/**
 * Batcher: the sender's stream sink. Cuts QEMU's parsed stream into batches and hands each to
 * the encode pool in one of two forms, chosen at the batch's first byte:
 * - for the workers: glue and pages apart (BatchBuilder, src/wire/batch.ts), encoded per the
 *   cost model's plan;
 * - as a pass-through frame: the span verbatim, a frame of glue only built here
 *   (SpanFrameBuilder, src/wire/span-frame.ts), when the plan sends the batch all raw.
 * `onFrame` gets the frames in submission order whichever form they took (pass-through frames
 * are ready at once, the workers' later): the order is kept here by sequence number, not left
 * to how many promise hops each path takes.
 *
 * With a StreamDigest (src/agent/stream-digest.ts), pass-through frames get chained checksums:
 * the digest of the stream through the frame's end, from the sender's one pass over QEMU's bytes,
 * instead of a second pass over the frame.
 */
import type { StreamSink } from '../qemu/stream-parser.js';
import { PAGE_SIZE } from '../codec/ids.js';
import { BatchBuilder } from '../wire/batch.js';
import { SpanFrameBuilder } from '../wire/span-frame.js';
import type { EncodePool } from '../wire/codec-pool.js';
import { BufferPool } from '../wire/buffer-pool.js';
import type { StreamDigest } from './stream-digest.js';

/** What the batcher needs of the encode pool (the warm-up, src/agent/warmup.ts, stands in for it). */
export type FrameSubmitter = Pick<EncodePool, 'nextRoute' | 'submitFrame' | 'submitReturning' | 'submitAside'>;

const enum Mode {
  /** No batch is being filled. */
  None,
  /** Glue and pages apart, for the workers. */
  Pool,
  /** The span verbatim, as a frame of glue only. */
  Pass,
  /** As Pass, and glue and pages apart too, for a probe beside the stream (`submitAside`). */
  PassProbe,
}

export class Batcher implements StreamSink {
  private readonly builder: BatchBuilder;
  private readonly span: SpanFrameBuilder;
  /** Pass-through frames' buffers, back from the socket through `release`. */
  private readonly spanBuffers: BufferPool;
  private mode = Mode.None;
  /** Sequence number of the next batch submitted, and of the next frame to hand out. */
  private submitted = 0;
  private delivered = 0;
  private readonly ready = new Map<number, Uint8Array>();
  /** Stream bytes handed to this sink so far (the end of the last frame cut, or past it). */
  private handed = 0;

  /**
   * `onFull` runs when a batch has its pages or the stream reached a boundary (submit then);
   * `onFrame` gets each frame, in stream order; `onError` the first failure of a submission.
   */
  constructor(
    private readonly pool: FrameSubmitter,
    batchPages: number,
    private readonly onFull: () => void,
    private readonly onFrame: (frame: Uint8Array) => void,
    private readonly onError: (err: unknown) => void,
    private readonly digest?: StreamDigest,
  ) {
    this.builder = new BatchBuilder(batchPages);
    this.spanBuffers = new BufferPool(1);
    this.span = new SpanFrameBuilder(batchPages, this.spanBuffers);
  }

  /**
   * `chunk` (what the parser is about to be pushed) stays intact until `endChunk`, so a
   * pass-through frame copies runs of it instead of each page header and page apart.
   */
  beginChunk(chunk: Uint8Array): void {
    this.span.beginChunk(chunk);
  }

  endChunk(): void {
    this.span.endChunk();
  }

  /** A frame from `onFrame` was written (the socket is done with it); its buffer may be reused. */
  release(frame: Uint8Array): void {
    this.spanBuffers.release(frame);
  }

  /** A batch is being filled. */
  get pending(): boolean {
    return this.mode !== Mode.None;
  }

  /** Stream bytes handed to this sink so far. */
  get handedOut(): number {
    return this.handed;
  }

  glue(buf: Uint8Array, start: number, end: number): void {
    if (this.mode === Mode.None) this.start();
    if (this.mode === Mode.Pool) {
      this.handed += end - start;
      return this.builder.appendGlue(buf, start, end);
    }
    // A pass-through frame is cut at its span limit, inside glue too (a run of zero-page records).
    const room = this.span.room();
    const stop = end - start <= room ? end : start + room;
    this.passGlue(buf, start, stop);
    if (stop === end) {
      if (this.span.isFull()) this.onFull();
      return;
    }
    this.onFull();
    // Not cut (the sender stopped submitting): the frame grows instead.
    if (this.mode !== Mode.None && this.span.isFull()) return this.passGlue(buf, stop, end);
    this.glue(buf, stop, end);
  }

  page(buf: Uint8Array, start: number, addr: number): void {
    this.handed += PAGE_SIZE;
    if (this.mode === Mode.None) this.start();
    if (this.mode === Mode.Pool) {
      this.builder.appendPage(buf, start, addr);
      if (this.builder.isFull()) this.onFull();
      return;
    }
    this.span.appendPage(buf, start);
    if (this.mode === Mode.PassProbe) this.builder.appendPage(buf, start, addr);
    if (this.span.isFull()) this.onFull();
  }

  /** Every glue byte of a pass-through frame goes through here (`handed` then ends where the frame does). */
  private passGlue(buf: Uint8Array, start: number, end: number): void {
    this.handed += end - start;
    this.span.appendGlue(buf, start, end);
    if (this.mode === Mode.PassProbe) this.builder.appendGlue(buf, start, end);
  }

  boundary(): void {
    this.onFull();
  }

  /** Hand the batch being filled (if any) to the pool; its frame goes to `onFrame` in order. */
  submit(): void {
    const mode = this.mode;
    this.mode = Mode.None;
    let frame: Promise<Uint8Array>;
    if (mode === Mode.Pass || mode === Mode.PassProbe) {
      const pages = this.span.pageCount;
      const ram = this.span.spanLength;
      frame = this.pool.submitFrame(this.span.take(this.digest?.at(this.handed)), pages, ram);
      if (mode === Mode.PassProbe) this.probeAside();
    } else if (mode === Mode.Pool) {
      // The batch's buffers are transferred to a worker and come back with the frame for reuse.
      frame = this.pool.submitReturning(this.builder.take()).then((r) => {
        this.builder.recycle(r.batch);
        return r.frame;
      });
    } else {
      return;
    }
    const seq = this.submitted++;
    frame.then((f) => this.deliver(seq, f), (err) => this.onError(err));
  }

  private deliver(seq: number, frame: Uint8Array): void {
    this.ready.set(seq, frame);
    for (let f = this.ready.get(this.delivered); f !== undefined; f = this.ready.get(this.delivered)) {
      this.ready.delete(this.delivered++);
      this.onFrame(f);
    }
  }

  /** The probe copy of the pass-through batch just cut goes to a worker beside the stream. */
  private probeAside(): void {
    const batch = this.builder.take();
    if (batch.pageCount === 0) return this.builder.recycle(batch);
    this.pool.submitAside(batch).then((b) => { if (b) this.builder.recycle(b); }, (err) => this.onError(err));
  }

  private start(): void {
    const route = this.pool.nextRoute();
    this.mode = route === 'pass' ? Mode.Pass : route === 'pass-probe' ? Mode.PassProbe : Mode.Pool;
  }
}
