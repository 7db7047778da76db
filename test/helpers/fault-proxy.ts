/**
 * A TCP proxy between the two agents that can damage the stream the way a network or a bad
 * peer would: flip one byte after N bytes, rewrite the first message, or cut the connection.
 */
import net from 'node:net';

export interface FaultPlan {
  /** Flip the low bit of the byte at this offset of the sender->receiver stream. */
  flipByteAt?: number;
  /** Rewrite the sender's first bytes (the HELLO) with this function. */
  rewriteFirstChunk?: (chunk: Buffer) => Buffer;
  /** Cut both connections after this many sender->receiver bytes. */
  cutAfter?: number;
}

export interface FaultProxy {
  port: number;
  bytes: number;
  close(): void;
}

export function startFaultProxy(target: { host: string; port: number }, plan: FaultPlan): Promise<FaultProxy> {
  const sockets: net.Socket[] = [];
  const state = { port: 0, bytes: 0, close: () => {} };
  const server = net.createServer((client) => {
    const upstream = net.connect(target.port, target.host);
    sockets.push(client, upstream);
    let first = true;
    client.on('data', (chunk: Buffer) => {
      let out = chunk;
      if (first && plan.rewriteFirstChunk) out = plan.rewriteFirstChunk(Buffer.from(chunk));
      first = false;
      const start = state.bytes;
      state.bytes += out.length;
      if (plan.flipByteAt !== undefined && plan.flipByteAt >= start && plan.flipByteAt < state.bytes) {
        out = Buffer.from(out);
        out[plan.flipByteAt - start] ^= 0x01;
      }
      upstream.write(out);
      if (plan.cutAfter !== undefined && state.bytes >= plan.cutAfter) {
        client.destroy();
        upstream.destroy();
      }
    });
    upstream.pipe(client);
    client.on('end', () => upstream.end());
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
    upstream.on('close', () => client.destroy());
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      state.port = (server.address() as net.AddressInfo).port;
      state.close = () => {
        server.close();
        for (const s of sockets) s.destroy();
      };
      resolve(state);
    });
  });
}
