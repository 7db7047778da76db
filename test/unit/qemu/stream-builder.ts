/**
 * Builds QEMU migration streams byte by byte for tests, independently of the
 * parser (layout as in docs/qemu-stream.md). Big-endian throughout.
 */
export class StreamBuilder {
  private readonly bytes: number[] = [];

  get length(): number {
    return this.bytes.length;
  }
  u8(v: number): this {
    this.bytes.push(v & 0xff);
    return this;
  }
  be16(v: number): this {
    return this.u8(v >>> 8).u8(v);
  }
  be32(v: number): this {
    return this.u8(v >>> 24).u8(v >>> 16).u8(v >>> 8).u8(v);
  }
  be64(v: number): this {
    return this.be32(Math.floor(v / 0x100000000)).be32(v % 0x100000000);
  }
  raw(b: ArrayLike<number>): this {
    for (let i = 0; i < b.length; i++) this.bytes.push(b[i]);
    return this;
  }
  str8(s: string): this {
    return this.u8(s.length).raw(Buffer.from(s, 'latin1'));
  }
  header(magic = 0x5145564d, version = 3): this {
    return this.be32(magic).be32(version);
  }
  configuration(machine = 'pc-i440fx-10.0'): this {
    return this.u8(0x07).be32(machine.length).raw(Buffer.from(machine, 'latin1'));
  }
  sectionStart(id = 2, idstr = 'ram', instance = 0, version = 4): this {
    return this.u8(0x01).be32(id).str8(idstr).be32(instance).be32(version);
  }
  sectionPart(id = 2): this {
    return this.u8(0x02).be32(id);
  }
  sectionEnd(id = 2): this {
    return this.u8(0x03).be32(id);
  }
  footer(id = 2): this {
    return this.u8(0x7e).be32(id);
  }
  command(cmd = 11, data: number[] = []): this {
    return this.u8(0x08).be16(cmd).be16(data.length).raw(data);
  }
  /** MEM_SIZE record: total of the lengths, then each block's idstr and used length. */
  memSize(blocks: [string, number][], total = blocks.reduce((a, [, n]) => a + n, 0)): this {
    this.be64(total + 0x04);
    for (const [name, len] of blocks) this.str8(name).be64(len);
    return this;
  }
  /** A record header: be64 offset|flags, then the idstr unless CONTINUE (0x20) is set. */
  record(offset: number, flags: number, idstr?: string): this {
    this.be64(offset + flags);
    if (!(flags & 0x20)) this.str8(idstr ?? 'pc.ram');
    return this;
  }
  zero(offset: number, idstr?: string): this {
    return this.record(offset, idstr ? 0x02 : 0x22, idstr).u8(0);
  }
  page(offset: number, fill: number, idstr?: string): this {
    this.record(offset, idstr ? 0x08 : 0x28, idstr);
    for (let i = 0; i < 4096; i++) this.bytes.push((fill + i) & 0xff);
    return this;
  }
  eos(): this {
    return this.be64(0x10);
  }
  /** Opaque device state, QEMU_VM_EOF, then VMDESCRIPTION (be32 length + JSON). */
  tail(device: number[] = [0x04, 0, 0, 0, 9, 1, 0x41, 0, 0, 0, 0, 0, 0, 0, 1, 0x2a, 0x7e, 0, 0, 0, 9],
    json = '{"page_size":4096,"devices":[]}'): this {
    this.raw(device).u8(0x00).u8(0x06).be32(json.length);
    return this.raw(Buffer.from(json, 'latin1'));
  }
  build(): Uint8Array {
    return Uint8Array.from(this.bytes);
  }
}

export const BLOCKS: [string, number][] = [['pc.ram', 0x10000], ['pc.bios', 0x2000]];

/** A complete small stream: START(MEM_SIZE), one PART with pages and zeros, switchover, END, tail. */
export function validStream(): StreamBuilder {
  return new StreamBuilder()
    .header().configuration()
    .sectionStart().memSize(BLOCKS).eos().footer()
    .sectionPart().page(0, 1, 'pc.ram').zero(0x1000).page(0x2000, 2).page(0x1000, 3, 'pc.bios').eos().footer()
    .command(11)
    .sectionEnd().page(0xf000, 4, 'pc.ram').zero(0x3000).eos().footer()
    .tail();
}
