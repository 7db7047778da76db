/**
 * Streaming parser for QEMU 10's outgoing precopy migration stream
 * (docs/qemu-stream.md). It splits the stream into glue (every byte that is not
 * a RAM page payload) and 4096-byte page payloads, in order, without copying
 * whole records: glue is always handed out as ranges of the pushed chunks, so
 * glue + page calls concatenated reproduce the input byte for byte.
 *
 * push() accepts any chunking. Each stage asks `need(n)` for the first n bytes
 * of the current item: when they are all in the current chunk they are read in
 * place, otherwise they are gathered in a small fixed scratch (headers only; a
 * page payload split across chunks is gathered in one preallocated page buffer).
 * Nothing is allocated per page. Anything the parser does not understand is
 * refused with a QemuStreamError carrying the stream offset.
 */
import { TailScanner } from './tail-scanner.js';
import type { RamBlockInfo, StreamSink, StreamStats } from './stream-types.js';
import { QemuStreamError, type QemuStreamErrorCode } from './errors.js';
import {
  FILE_HEADER_LENGTH, MAX_MACHINE_NAME, MAX_RAM_BLOCKS, MIG_CMD_NAMES, MIG_CMD_SWITCHOVER_START,
  QEMU_VM_FILE_MAGIC, QEMU_VM_FILE_VERSION, RAM_SAVE_FLAG_CONTINUE, RAM_SAVE_FLAG_EOS,
  RAM_SAVE_FLAG_MEM_SIZE, RAM_SAVE_FLAG_PAGE, RAM_SAVE_FLAG_ZERO, RAM_SECTION_IDSTR,
  RAM_SECTION_VERSION, RAM_SUPPORTED_FLAGS, SectionType, TARGET_PAGE_MASK_LOW, TARGET_PAGE_SIZE,
  be16, be32, flagNames, latin1,
} from './stream-format.js';

export type { BoundaryKind, RamBlockInfo, StreamSink, StreamStats } from './stream-types.js';

const enum Stage {
  HEADER, SECTION_TYPE, CONFIG_PEEK, RAM_RECORD, MEM_BLOCK, PAGE_PAYLOAD, AFTER_EOS, TAIL, FAILED,
}
const enum RamSection { START, PART, END }

const SCRATCH_SIZE = 512; // largest header: 1+4+1+255+4+4 (SECTION_START), 8+1+255+1 (record)
const EMPTY = new Uint8Array(0);
const STAGE_NAMES = ['file header', 'section header', 'configuration', 'RAM record',
  'RAM block list', 'page payload', 'section footer', 'device tail', 'failed'];

export class QemuStreamParser {
  readonly stats: StreamStats = {
    bytes: 0, pages: 0, zeroPages: 0, ramSections: 0, commands: 0, tailBytes: 0, machine: '', blocks: [],
  };
  private readonly sink: StreamSink;
  private stage: Stage = Stage.HEADER;
  private failure: unknown = undefined;
  // Current chunk, read position, start of glue not yet handed out, chunk's stream offset.
  private chunk: Uint8Array = EMPTY;
  private pos = 0;
  private glueStart = 0;
  private chunkBase = 0;
  // need(): the current item's first bytes, in place (chunk) or gathered (scratch).
  private readonly scratch = new Uint8Array(SCRATCH_SIZE);
  private scratchLen = 0;
  private ub: Uint8Array = EMPTY;
  private uo = 0;
  // Page payload split across chunks.
  private readonly pageBuf = new Uint8Array(TARGET_PAGE_SIZE);
  private pageFill = 0;
  private pageAddr = 0;
  // RAM section state.
  private ramSectionId = -1;
  private ramSection: RamSection = RamSection.START;
  private memRemaining = 0;
  private curBlock: RamBlockInfo | undefined = undefined;
  private configSeen = false;
  private memSizeSeen = false;
  private readonly tailScan = new TailScanner();
  private eofSent = false;

  constructor(sink: StreamSink) {
    this.sink = sink;
  }

  /** Parses one chunk of any size; throws QemuStreamError (and stays failed) on a refused stream. */
  push(chunk: Uint8Array): void {
    if (this.stage === Stage.FAILED) throw this.failure;
    this.chunk = chunk;
    this.pos = 0;
    this.glueStart = 0;
    try {
      while (this.pos < chunk.length && this.step()) { /* next item */ }
      this.flushGlue();
    } catch (err) {
      this.stage = Stage.FAILED;
      this.failure = err;
      throw err;
    } finally {
      this.chunkBase += chunk.length;
      this.stats.bytes = this.chunkBase;
      this.chunk = EMPTY;
    }
  }

  /** Declares the input finished; throws MECOM_QEMU_TRUNCATED unless the stream ended after its VMDESCRIPTION. */
  end(): void {
    if (this.stage === Stage.FAILED) throw this.failure;
    const at = this.chunkBase;
    if (this.stage !== Stage.TAIL) {
      this.fail('MECOM_QEMU_TRUNCATED', `stream ended inside the ${STAGE_NAMES[this.stage]}`, at - this.scratchLen - this.pageFill);
    }
    if (!this.tailScan.complete(at)) {
      this.fail('MECOM_QEMU_TRUNCATED', 'stream ended before QEMU_VM_EOF and its VMDESCRIPTION', at);
    }
    if (!this.eofSent) {
      this.eofSent = true;
      this.sink.boundary('eof');
    }
  }

  private fail(code: QemuStreamErrorCode, message: string, offset: number,
    detail: { expected?: string | number; received?: string | number } = {}): never {
    const err = new QemuStreamError(code, message, offset, detail);
    this.stage = Stage.FAILED;
    this.failure = err;
    throw err;
  }

  /** Stream offset where the current item starts. */
  private itemOffset(): number {
    return this.chunkBase + this.pos - this.scratchLen;
  }

  /** Makes the current item's first n bytes readable at (ub, uo); false: wait for more input. */
  private need(n: number): boolean {
    if (this.scratchLen === 0 && this.pos + n <= this.chunk.length) {
      this.ub = this.chunk;
      this.uo = this.pos;
      return true;
    }
    if (this.scratchLen < n) {
      const take = Math.min(n - this.scratchLen, this.chunk.length - this.pos);
      this.scratch.set(this.chunk.subarray(this.pos, this.pos + take), this.scratchLen);
      this.scratchLen += take;
      this.pos += take;
      if (this.scratchLen < n) return false;
    }
    this.ub = this.scratch;
    this.uo = 0;
    return true;
  }

  /** Finishes the current item, whose n bytes were last made readable by need(n). */
  private consume(n: number): void {
    if (this.ub === this.scratch) this.scratchLen = 0;
    else this.pos += n;
  }

  private flushGlue(): void {
    if (this.pos > this.glueStart) this.sink.glue(this.chunk, this.glueStart, this.pos);
    this.glueStart = this.pos;
  }

  /** Handles one item (or as much of it as this chunk holds); false when input ran out. */
  private step(): boolean {
    switch (this.stage) {
      case Stage.HEADER: return this.fileHeader();
      case Stage.SECTION_TYPE: return this.section();
      case Stage.CONFIG_PEEK: return this.configPeek();
      case Stage.RAM_RECORD: return this.ramRecord();
      case Stage.MEM_BLOCK: return this.memBlock();
      case Stage.PAGE_PAYLOAD: return this.pagePayload();
      case Stage.AFTER_EOS: return this.afterEos();
      case Stage.TAIL: return this.tail();
      default: throw this.failure;
    }
  }

  private fileHeader(): boolean {
    if (!this.need(FILE_HEADER_LENGTH)) return false;
    const magic = be32(this.ub, this.uo);
    const version = be32(this.ub, this.uo + 4);
    const at = this.itemOffset();
    if (magic !== QEMU_VM_FILE_MAGIC) {
      this.fail('MECOM_QEMU_BAD_MAGIC', `not a QEMU migration stream: magic 0x${magic.toString(16)}`, at,
        { expected: QEMU_VM_FILE_MAGIC, received: magic });
    }
    if (version !== QEMU_VM_FILE_VERSION) {
      this.fail('MECOM_QEMU_BAD_VERSION', `unsupported stream version ${version}`, at + 4,
        { expected: QEMU_VM_FILE_VERSION, received: version });
    }
    this.consume(FILE_HEADER_LENGTH);
    this.stage = Stage.SECTION_TYPE;
    return true;
  }

  private section(): boolean {
    if (!this.need(1)) return false;
    const type = this.ub[this.uo];
    const at = this.itemOffset();
    if (!this.configSeen && type !== SectionType.CONFIGURATION) {
      this.fail('MECOM_QEMU_BAD_CONFIGURATION', `expected the configuration section, got type 0x${type.toString(16)}`, at);
    }
    switch (type) {
      case SectionType.CONFIGURATION: return this.configuration(at);
      case SectionType.SECTION_START: return this.sectionStart(at);
      case SectionType.SECTION_PART:
      case SectionType.SECTION_END: {
        if (!this.need(5)) return false;
        const id = be32(this.ub, this.uo + 1);
        if (id !== this.ramSectionId) {
          this.fail('MECOM_QEMU_UNKNOWN_SECTION', `section ${id} is not the RAM section before RAM END`, at,
            { expected: this.ramSectionId, received: id });
        }
        this.consume(5);
        this.ramSection = type === SectionType.SECTION_END ? RamSection.END : RamSection.PART;
        this.stats.ramSections++;
        this.stage = Stage.RAM_RECORD;
        return true;
      }
      case SectionType.COMMAND: {
        if (!this.need(5)) return false;
        const cmd = be16(this.ub, this.uo + 1);
        const len = be16(this.ub, this.uo + 3);
        if (cmd !== MIG_CMD_SWITCHOVER_START || len !== 0) {
          this.fail('MECOM_QEMU_UNKNOWN_COMMAND',
            `unsupported QEMU_VM_COMMAND ${cmd} (${MIG_CMD_NAMES[cmd] ?? 'unknown'}), length ${len}`, at,
            { expected: MIG_CMD_SWITCHOVER_START, received: cmd });
        }
        this.consume(5);
        this.stats.commands++;
        return true;
      }
      case SectionType.SECTION_FULL:
        return this.fail('MECOM_QEMU_UNSUPPORTED_SECTION',
          'device state (SECTION_FULL) before the RAM END section cannot be delimited', at);
      default:
        return this.fail('MECOM_QEMU_UNKNOWN_SECTION', `unexpected section type 0x${type.toString(16)} before RAM END`, at,
          { received: type });
    }
  }

  private configuration(at: number): boolean {
    if (this.configSeen) this.fail('MECOM_QEMU_BAD_CONFIGURATION', 'second configuration section', at);
    if (!this.need(5)) return false;
    const len = be32(this.ub, this.uo + 1);
    if (len === 0 || len > MAX_MACHINE_NAME) {
      this.fail('MECOM_QEMU_BAD_CONFIGURATION', `machine type name length ${len}`, at + 1, { received: len });
    }
    if (!this.need(5 + len)) return false;
    this.stats.machine = latin1(this.ub, this.uo + 5, len);
    this.consume(5 + len);
    this.configSeen = true;
    this.stage = Stage.CONFIG_PEEK;
    return true;
  }

  /** A configuration subsection (0x05) would follow the machine name; none is understood. */
  private configPeek(): boolean {
    if (!this.need(1)) return false;
    if (this.ub[this.uo] === SectionType.SUBSECTION) {
      const at = this.itemOffset();
      if (!this.need(2) || !this.need(2 + this.ub[this.uo + 1])) return false;
      const name = latin1(this.ub, this.uo + 2, this.ub[this.uo + 1]);
      this.fail('MECOM_QEMU_UNKNOWN_SUBSECTION', `unsupported configuration subsection "${name}"`, at, { received: name });
    }
    this.stage = Stage.SECTION_TYPE; // the peeked byte stays for section()
    return true;
  }

  private sectionStart(at: number): boolean {
    if (!this.need(6)) return false;
    const len = this.ub[this.uo + 5];
    if (!this.need(6 + len + 8)) return false;
    const id = be32(this.ub, this.uo + 1);
    const idstr = latin1(this.ub, this.uo + 6, len);
    const version = be32(this.ub, this.uo + 6 + len + 4);
    if (idstr !== RAM_SECTION_IDSTR || this.ramSectionId >= 0) {
      this.fail('MECOM_QEMU_UNKNOWN_SECTION', `iterable section "${idstr}" (id ${id}) before RAM END`, at,
        { expected: RAM_SECTION_IDSTR, received: idstr });
    }
    if (version !== RAM_SECTION_VERSION) {
      this.fail('MECOM_QEMU_UNSUPPORTED_SECTION', `RAM section version ${version}`, at,
        { expected: RAM_SECTION_VERSION, received: version });
    }
    this.consume(6 + len + 8);
    this.ramSectionId = id;
    this.ramSection = RamSection.START;
    this.stats.ramSections++;
    this.stage = Stage.RAM_RECORD;
    return true;
  }

  private ramRecord(): boolean {
    if (!this.need(8)) return false;
    const hi = be32(this.ub, this.uo);
    const lo = be32(this.ub, this.uo + 4);
    const flags = lo & TARGET_PAGE_MASK_LOW;
    const offset = hi * 0x100000000 + (lo - flags);
    const at = this.itemOffset();
    if (flags & ~RAM_SUPPORTED_FLAGS) {
      this.fail('MECOM_QEMU_UNKNOWN_FLAG', `unsupported RAM record flags ${flagNames(flags & ~RAM_SUPPORTED_FLAGS)} (0x${flags.toString(16)})`,
        at, { received: flags });
    }
    const kind = flags & ~RAM_SAVE_FLAG_CONTINUE;
    if (kind === RAM_SAVE_FLAG_ZERO || kind === RAM_SAVE_FLAG_PAGE) {
      const fill = kind === RAM_SAVE_FLAG_ZERO ? 1 : 0;
      let n = 8;
      let block = this.curBlock;
      if (!(flags & RAM_SAVE_FLAG_CONTINUE)) {
        if (!this.need(9)) return false;
        n = 9 + this.ub[this.uo + 8];
        if (!this.need(n + fill)) return false;
        block = this.findBlock(this.ub, this.uo + 9, n - 9, at);
      } else {
        if (!this.need(n + fill)) return false;
        if (block === undefined) this.fail('MECOM_QEMU_UNKNOWN_BLOCK', 'CONTINUE record before any RAM block was named', at);
      }
      if (offset >= block.length) {
        this.fail('MECOM_QEMU_BAD_OFFSET', `page offset 0x${offset.toString(16)} outside RAM block "${block.idstr}"`, at,
          { expected: block.length, received: offset });
      }
      this.curBlock = block;
      this.consume(n + fill);
      if (fill) {
        this.stats.zeroPages++;
      } else {
        this.stats.pages++;
        this.pageAddr = block.base + offset;
        this.stage = Stage.PAGE_PAYLOAD;
      }
      return true;
    }
    if (kind === RAM_SAVE_FLAG_EOS && flags === RAM_SAVE_FLAG_EOS) {
      this.consume(8);
      this.stage = Stage.AFTER_EOS;
      return true;
    }
    if (flags === RAM_SAVE_FLAG_MEM_SIZE) {
      if (this.ramSection !== RamSection.START || this.memSizeSeen) {
        this.fail('MECOM_QEMU_BAD_BLOCK_LIST', 'MEM_SIZE record outside the RAM SECTION_START', at);
      }
      this.consume(8);
      this.memSizeSeen = true;
      this.memRemaining = offset;
      this.stage = offset === 0 ? Stage.RAM_RECORD : Stage.MEM_BLOCK;
      return true;
    }
    return this.fail('MECOM_QEMU_UNKNOWN_FLAG', `unsupported RAM record flag combination ${flagNames(flags)} (0x${flags.toString(16)})`,
      at, { received: flags });
  }

  private findBlock(b: Uint8Array, o: number, n: number, at: number): RamBlockInfo {
    const blocks = this.stats.blocks;
    outer: for (let i = 0; i < blocks.length; i++) {
      const id = blocks[i].idBytes;
      if (id.length !== n) continue;
      for (let j = 0; j < n; j++) if (id[j] !== b[o + j]) continue outer;
      return blocks[i];
    }
    const name = latin1(b, o, n);
    return this.fail('MECOM_QEMU_UNKNOWN_BLOCK', `RAM block "${name}" was not declared in MEM_SIZE`, at, { received: name });
  }

  /** One entry of the MEM_SIZE block list: idstr (u8 len + bytes), be64 used length. */
  private memBlock(): boolean {
    if (!this.need(1)) return false;
    const len = this.ub[this.uo];
    if (!this.need(1 + len + 8)) return false;
    const at = this.itemOffset();
    const length = be32(this.ub, this.uo + 1 + len) * 0x100000000 + be32(this.ub, this.uo + 5 + len);
    const blocks = this.stats.blocks;
    const base = blocks.length === 0 ? 0 : blocks[blocks.length - 1].base + blocks[blocks.length - 1].length;
    if (len === 0 || length === 0 || length > this.memRemaining || length % TARGET_PAGE_SIZE !== 0 || blocks.length >= MAX_RAM_BLOCKS) {
      this.fail('MECOM_QEMU_BAD_BLOCK_LIST', `bad RAM block entry (name length ${len}, used length ${length}, ${this.memRemaining} bytes left)`,
        at, { expected: this.memRemaining, received: length });
    }
    // A copy: the chunk is the caller's (a reused read buffer in `mecom send`), and on a Buffer
    // `.slice` would return a view of it, not a copy.
    const idBytes = Uint8Array.prototype.slice.call(this.ub, this.uo + 1, this.uo + 1 + len);
    blocks.push({ idstr: latin1(idBytes, 0, len), length, base, idBytes });
    this.consume(1 + len + 8);
    this.memRemaining -= length;
    if (this.memRemaining === 0) this.stage = Stage.RAM_RECORD;
    return true;
  }

  private pagePayload(): boolean {
    const avail = this.chunk.length - this.pos;
    this.flushGlue();
    if (this.pageFill === 0 && avail >= TARGET_PAGE_SIZE) {
      this.sink.page(this.chunk, this.pos, this.pageAddr);
      this.pos += TARGET_PAGE_SIZE;
    } else {
      const take = Math.min(TARGET_PAGE_SIZE - this.pageFill, avail);
      this.pageBuf.set(this.chunk.subarray(this.pos, this.pos + take), this.pageFill);
      this.pageFill += take;
      this.pos += take;
      if (this.pageFill === TARGET_PAGE_SIZE) {
        this.pageFill = 0;
        this.sink.page(this.pageBuf, 0, this.pageAddr);
      }
    }
    this.glueStart = this.pos;
    if (this.pageFill === 0) this.stage = Stage.RAM_RECORD;
    return this.pageFill === 0;
  }

  /** After EOS: the section footer (0x7E + section id) when present, then a batch boundary. */
  private afterEos(): boolean {
    if (!this.need(1)) return false;
    if (this.ub[this.uo] === SectionType.SECTION_FOOTER) {
      if (!this.need(5)) return false;
      const id = be32(this.ub, this.uo + 1);
      if (id !== this.ramSectionId) {
        this.fail('MECOM_QEMU_BAD_FOOTER', `section footer for ${id} closes RAM section ${this.ramSectionId}`, this.itemOffset(),
          { expected: this.ramSectionId, received: id });
      }
      this.consume(5);
    }
    if (this.ramSection === RamSection.START && this.memRemaining !== 0) {
      this.fail('MECOM_QEMU_BAD_BLOCK_LIST', 'RAM SECTION_START without its MEM_SIZE block list', this.itemOffset());
    }
    this.flushGlue();
    if (this.ramSection === RamSection.END) {
      this.stage = Stage.TAIL;
      this.sink.boundary('ram-end');
    } else {
      this.stage = Stage.SECTION_TYPE;
      this.sink.boundary('section');
    }
    return true;
  }

  /**
   * Device state, QEMU_VM_EOF and VMDESCRIPTION: opaque glue. Watches for
   * "00 06 <be32 len> {" (EOF, VMDESCRIPTION, JSON start) so that the end of
   * the stream can be recognised: the JSON holds no 0x00 byte, so the last
   * such pattern is the real one.
   */
  private tail(): boolean {
    const c = this.chunk;
    this.tailScan.scan(c, this.pos, this.chunkBase);
    this.stats.tailBytes += c.length - this.pos;
    this.pos = c.length;
    if (!this.eofSent && this.tailScan.complete(this.chunkBase + c.length)) {
      this.flushGlue();
      this.eofSent = true;
      this.sink.boundary('eof');
    }
    return false;
  }
}
