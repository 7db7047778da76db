import net from 'node:net';
import { AgentCodes, AgentError } from './errors.js';

/** A TCP endpoint; port 0 means "any free port" for listeners. */
export interface TcpAddress { host: string; port: number }
/**
 * A unix-domain socket, for an agent and its QEMU on one host. Node to Node it moves bytes at
 * about two thirds of loopback TCP's CPU. With QEMU on the other end, its fixed 208 KiB buffer
 * meant many small reads, and migrations were slower. So `mecom migrate` uses TCP, and this
 * is here for those who run the agents themselves.
 */
export interface UnixAddress { path: string }
export type Address = TcpAddress | UnixAddress;

export function isUnix(a: Address): a is UnixAddress {
  return 'path' in a;
}

/** Parse `HOST:PORT`, `[V6]:PORT` or `unix:PATH`. */
export function parseAddress(text: string): Address {
  if (text.startsWith('unix:')) {
    const path = text.slice('unix:'.length);
    if (path === '' || path.includes('\0')) throw new AgentError(AgentCodes.address, `'${text}' has no socket path after unix:`, { exitCode: 2 });
    return { path };
  }
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new AgentError(AgentCodes.address, `'${text}' is not an address of the form HOST:PORT or unix:PATH`, { exitCode: 2 });
  }
  return { host: m[1] ?? m[2], port };
}

export function formatAddress(a: Address): string {
  if (isUnix(a)) return `unix:${a.path}`;
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Connect with a deadline; the error names what could not be reached. */
export function connectTo(addr: Address, what: string, timeoutMs = 10_000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = isUnix(addr) ? net.connect({ path: addr.path }) : net.connect({ host: addr.host, port: addr.port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new AgentError(AgentCodes.connect, `timed out connecting to ${what} at ${formatAddress(addr)}`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      if (!isUnix(addr)) sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(new AgentError(AgentCodes.connect, `cannot connect to ${what} at ${formatAddress(addr)}: ${err.message}`, { cause: err }));
    });
  });
}

export function listenOn(addr: Address): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true });
    server.once('error', (err) =>
      reject(new AgentError(AgentCodes.connect, `cannot listen on ${formatAddress(addr)}: ${err.message}`, { cause: err, exitCode: 1 })),
    );
    if (isUnix(addr)) server.listen({ path: addr.path }, () => resolve(server));
    else server.listen({ host: addr.host, port: addr.port }, () => resolve(server));
  });
}

/** The port a listener got (0 for a unix-domain socket, which has none). */
export function listeningPort(server: net.Server): number {
  const a = server.address();
  return a !== null && typeof a === 'object' ? a.port : 0;
}
