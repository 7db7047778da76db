/**
 * The cost model's decision as `mecom send` reports it (`SenderStats.model`): in full for the
 * done event, in brief (without the per-codec measurements) for progress events. The brief view
 * is rebuilt at most every MODEL_VIEW_MS: a progress listener may ask for it on every chunk from
 * QEMU, thousands of times a second at 10 Gbit/s (stats() and this view were 8% of the sender's
 * thread there before).
 */
import type { ModelSnapshot } from '../codec/cost-model.js';
import type { TrialRecord } from './plan-trial.js';

export type ModelReport = ModelSnapshot & { trials?: TrialRecord };

/** Refresh interval of the brief view. */
const MODEL_VIEW_MS = 100;

export class ModelView {
  private last?: ModelReport;
  private lastAt = 0;

  /** `snapshot`: the model's state now (undefined without a model); `trials`: the trials so far. */
  constructor(
    private readonly snapshot: () => ModelSnapshot | undefined,
    private readonly trials: () => TrialRecord | undefined,
  ) {}

  full(): ModelReport | undefined {
    const m = this.snapshot();
    return m && { ...m, trials: this.trials() };
  }

  brief(now = performance.now()): ModelReport | undefined {
    if (this.last === undefined || now - this.lastAt >= MODEL_VIEW_MS) {
      const m = this.snapshot();
      if (!m) return undefined;
      const { measured: _measured, ...rest } = m;
      this.last = { ...rest, measured: {}, trials: this.trials() };
      this.lastAt = now;
    }
    return this.last;
  }
}
