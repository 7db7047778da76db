/**
 * The cost model's vocabulary (src/codec/cost-model.ts): page classes, codec choices, plans
 * (a choice per class) and what one encoded batch measured. Shared by the model, the planner
 * (plan.ts) and the frame encoder that carries out plans.
 */

/** Page classes the model decides for; index = position. */
export const PAGE_CLASSES = ['words', 'text', 'noise'] as const;
export type PageClass = (typeof PAGE_CLASSES)[number];
export const N_CLASSES = PAGE_CLASSES.length;

/**
 * Codec settings. The `-group` settings compress all pages of a batch that chose them in one
 * call (frame format "Group blocks"), so the codec's window spans many pages.
 */
export const CODEC_CHOICES = ['raw', 'wkdm', 'lz4', 'zstd', 'lz4-group', 'zstd-group'] as const;
export type CodecChoice = (typeof CODEC_CHOICES)[number];
export const N_CHOICES = CODEC_CHOICES.length;

/** A decision: choice index (into CODEC_CHOICES) per class (index into PAGE_CLASSES). */
export type Plan = number[];

export function planToRecord(plan: Plan): Record<PageClass, CodecChoice> {
  const r = {} as Record<PageClass, CodecChoice>;
  PAGE_CLASSES.forEach((c, i) => (r[c] = CODEC_CHOICES[plan[i]]));
  return r;
}

export function planFromChoice(choice: CodecChoice): Plan {
  const k = CODEC_CHOICES.indexOf(choice);
  if (k < 0) throw new RangeError(`unknown codec choice ${choice}`);
  return PAGE_CLASSES.map(() => k);
}

/**
 * What one encoded batch measured. `cells` is a flat [class][choice] table of 3 numbers per cell
 * (pages, wire bytes, seconds), filled for the choice actually used and for probed alternatives.
 * Numbers and one Float64Array, so it crosses worker threads cheaply.
 */
export interface EncodeMeasure {
  pages: number;
  /** Pages of each class (zero/fill pages are the rest). */
  classPages: number[];
  /** Span bytes (glue + pages) of the batch. */
  bytesIn: number;
  /** Whole encode, seconds of one thread. */
  seconds: number;
  /** Seconds outside the page codecs (hash, classifier, frame assembly). */
  baseSeconds: number;
  /** True when the plan was all raw and pages were only checked for zero/fill (no classes known). */
  cheap?: boolean;
  /** Seconds spent measuring alternatives (probe batches only). */
  probeSeconds?: number;
  /** Cheap batches: pages that were neither zero nor fill, and all pages. */
  otherPages?: number;
  allPages?: number;
  /** Seconds spent classifying (sampling) pages, part of baseSeconds; not spent by an all-raw plan. */
  classifySeconds?: number;
  /** N_CLASSES * N_CHOICES * 3: pages, outBytes, seconds. */
  cells: Float64Array;
  /**
   * Whole-batch group measurements (UNIFORM_WIDTH numbers per group choice, lz4-group then
   * zstd-group: pages, outBytes, seconds): every classified page of the batch compressed in one
   * call, as a plan that gives every class the same group choice does. Per-class cells cannot
   * show what such a group gains from pages of different classes sharing one window.
   */
  uniform?: number[];
  /**
   * The frame's group blocks as the plan used them, GROUP_RECORD_WIDTH numbers each: choice,
   * wire bytes, seconds, then pages per class. A block's bytes cannot be split among its member
   * classes by measurement (one call compressed them together); the model splits them by what
   * it knows of each class (src/codec/cost-model.ts, `observe`). Not in `cells`.
   */
  groups?: number[];
  /** The plan the frame was encoded with (choice per class); absent for page policies. */
  plan?: number[];
}

export const GROUP_RECORD_WIDTH = 3 + N_CLASSES;

export const UNIFORM_WIDTH = 3;
/** The group choices, in the order of `EncodeMeasure.uniform`. */
export const GROUP_CHOICES = [4, 5] as const; // lz4-group, zstd-group (indices into CODEC_CHOICES)

export const CELL_WIDTH = 3;
export function cellIndex(cls: number, choice: number): number {
  return (cls * N_CHOICES + choice) * CELL_WIDTH;
}
/** A typed array: it crosses to the pool's thread as one copy, not 54 cloned numbers. */
export function emptyCells(): Float64Array {
  return new Float64Array(N_CLASSES * N_CHOICES * CELL_WIDTH);
}

/**
 * Scale every time in a measurement by `f` (0 < f ≤ 1): wall time to time on a CPU, with f
 * the share of the wall time the encoding thread was running (src/wire/thread-cpu.ts).
 */
export function scaleMeasureSeconds(m: EncodeMeasure, f: number): void {
  if (!(f > 0) || f >= 1) return;
  m.seconds *= f;
  m.baseSeconds *= f;
  if (m.probeSeconds !== undefined) m.probeSeconds *= f;
  if (m.classifySeconds !== undefined) m.classifySeconds *= f;
  for (let i = 2; i < m.cells.length; i += 3) m.cells[i] *= f;
  if (m.uniform) for (let i = 2; i < m.uniform.length; i += UNIFORM_WIDTH) m.uniform[i] *= f;
  if (m.groups) for (let i = 2; i < m.groups.length; i += GROUP_RECORD_WIDTH) m.groups[i] *= f;
}
