import { MecomError } from '../errors.js';

/** Failures of the agents' connections and of the end-to-end verification. */
export class AgentError extends MecomError {}

export const AgentCodes = {
  /** The peer spoke another protocol or frame version. */
  handshake: 'MECOM_AGENT_HANDSHAKE',
  /** The peer closed or reset the connection before the migration ended. */
  peerLost: 'MECOM_AGENT_PEER_LOST',
  /** QEMU (source or destination) closed or reset its connection early. */
  qemuLost: 'MECOM_AGENT_QEMU_LOST',
  /** The rebuilt stream's digest or length differs from the source's. */
  digest: 'MECOM_AGENT_DIGEST',
  /** The peer aborted the migration and said why. */
  aborted: 'MECOM_AGENT_ABORTED',
  /** A connection could not be made in time. */
  connect: 'MECOM_AGENT_CONNECT',
  /** An address given on the command line is not HOST:PORT. */
  address: 'MECOM_AGENT_ADDRESS',
  /** Something arrived that the current state does not allow. */
  protocol: 'MECOM_AGENT_PROTOCOL',
  /** An invariant of the agent's own code broke (a bug): the migration stops, the source keeps running. */
  internal: 'MECOM_AGENT_INTERNAL',
} as const;
