import net from 'node:net';
import { AgentCodes, AgentError } from './errors.js';

export interface Address { host: string; port: number }

/** Parse `HOST:PORT` or `[V6]:PORT`; port 0 means "any free port" for listeners. */
export function parseAddress(text: string): Address {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) {
    throw new AgentError(AgentCodes.address, `'${text}' is not an address of the form HOST:PORT`, { exitCode: 2 });
  }
  return { host: m[1] ?? m[2], port };
}

export function formatAddress(a: Address): string {
  return a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`;
}

/** Connect with a deadline; the error names what could not be reached. */
export function connectTcp(addr: Address, what: string, timeoutMs = 10_000): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: addr.host, port: addr.port });
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new AgentError(AgentCodes.connect, `timed out connecting to ${what} at ${formatAddress(addr)}`));
    }, timeoutMs);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.setNoDelay(true);
      resolve(sock);
    });
    sock.once('error', (err) => {
      clearTimeout(timer);
      reject(new AgentError(AgentCodes.connect, `cannot connect to ${what} at ${formatAddress(addr)}: ${err.message}`, { cause: err }));
    });
  });
}

export function listenTcp(addr: Address): Promise<net.Server> {
  return new Promise((resolve, reject) => {
    const server = net.createServer({ noDelay: true });
    server.once('error', (err) =>
      reject(new AgentError(AgentCodes.connect, `cannot listen on ${formatAddress(addr)}: ${err.message}`, { cause: err, exitCode: 1 })),
    );
    server.listen({ host: addr.host, port: addr.port }, () => resolve(server));
  });
}
