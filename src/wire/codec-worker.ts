/**
 * Worker thread body for EncodePool / DecodePool (src/wire/codec-pool.ts). `workerData` says
 * which: `{ kind: 'encode', policy, zstdLevel }` keeps one FrameEncoder, `{ kind: 'decode' }`
 * one FrameDecoder. Messages follow the OrderedPool protocol (src/wire/worker-pool.ts); results
 * are transferred, never copied: every buffer sent back is freshly allocated for that job.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { performance } from 'node:perf_hooks';
import { FrameEncoder, encodeJob, type CodecPolicy, type EncodeJob } from './frame-encode.js';
import { warmUpEncoders } from './encoder-warmup.js';
import { warmUpDecoder } from './decoder-warmup.js';
import { settleDetachProtector } from './detach-protector.js';
import { FrameDecoder } from './frame-decode.js';
import { serializeError } from './worker-pool.js';
import { batchBuffers } from './batch.js';
import { ThreadCpuShare } from './thread-cpu.js';
import { scaleMeasureSeconds } from '../codec/choices.js';

export type { EncodeJob };
export interface DecodeJob { frame: Uint8Array }

type Init = { kind: 'encode'; policy: CodecPolicy; zstdLevel?: number; cpuTimeCosts?: boolean } | { kind: 'decode'; maxLength?: number };

function counts(now: Record<string, number>, before: Record<string, number>): Record<string, number> {
  const r: Record<string, number> = {};
  for (const k of Object.keys(now)) {
    const d = now[k] - (before[k] ?? 0);
    if (d > 0) r[k] = d;
  }
  return r;
}

if (parentPort) {
  const port = parentPort;
  const init = workerData as Init;
  const enc = init.kind === 'encode' ? new FrameEncoder({ policy: init.policy, zstdLevel: init.zstdLevel }) : undefined;
  const dec = init.kind === 'decode' ? new FrameDecoder({ maxLength: init.maxLength }) : undefined;
  settleDetachProtector(); // before any code is optimised (src/wire/detach-protector.ts)
  if (init.kind === 'encode' && init.policy === 'adaptive') warmUpEncoders();
  if (dec) warmUpDecoder(dec);
  // After the warm-up, whose CPU time is no job's.
  const cpuShare = init.kind === 'encode' && init.cpuTimeCosts ? new ThreadCpuShare() : undefined;
  // OrderedPool.ready(): this worker is warmed up and takes jobs at full speed from now on.
  port.postMessage({ ready: true });
  port.on('message', (m: { id: number; job: EncodeJob | DecodeJob }) => {
    const t0 = performance.now();
    try {
      if (enc) {
        const job = m.job as EncodeJob;
        const before = enc.pagesByCodec();
        const frame = encodeJob(enc, job);
        // A model told the cores it can get wants CPU time: scale the encoder's wall-clock
        // timings by the share of the time this thread was on a CPU (src/wire/thread-cpu.ts).
        if (cpuShare) {
          const share = cpuShare.note((performance.now() - t0) / 1000);
          if (enc.lastMeasure) scaleMeasureSeconds(enc.lastMeasure, share);
        }
        // The batch goes back with the frame (its buffers transferred), so the producer can reuse
        // them instead of allocating and zeroing a fresh megabyte per batch.
        const result = { frame, batch: job.batch, measure: enc.lastMeasure, pagesByCodec: counts(enc.pagesByCodec(), before) };
        port.postMessage({ id: m.id, ok: true, result, seconds: (performance.now() - t0) / 1000 }, [frame.buffer as ArrayBuffer, ...batchBuffers(job.batch)]);
      } else {
        const job = m.job as DecodeJob;
        const d = dec!.decode(job.frame);
        const span = new Uint8Array(d.span.length);
        span.set(d.span);
        const result = { span, pageCount: d.pageCount, frameLength: d.frameLength };
        port.postMessage({ id: m.id, ok: true, result, seconds: (performance.now() - t0) / 1000 }, [span.buffer]);
      }
    } catch (err) {
      port.postMessage({ id: m.id, ok: false, error: serializeError(err), seconds: (performance.now() - t0) / 1000 });
    }
  });
}
