/** The evaluation's links: a tbf rate for the veth pair, or loopback (no netns, no shaping). */
export interface EvalLink {
  name: string;
  /** tc rate, e.g. '1gbit'; undefined for loopback. */
  rate?: string;
  bitsPerSecond?: number;
}

export const EVAL_LINKS: readonly EvalLink[] = [
  { name: '100mbit', rate: '100mbit', bitsPerSecond: 100e6 },
  { name: '1gbit', rate: '1gbit', bitsPerSecond: 1e9 },
  { name: '10gbit', rate: '10gbit', bitsPerSecond: 10e9 },
  { name: 'loopback' },
];

export function findLink(name: string): EvalLink | undefined {
  return EVAL_LINKS.find((l) => l.name === name);
}
