// A WebAssembly program's sandbox, in a worker thread. Its snapshot is what initialisation
// left: the bytes of linear memory and the value of every mutable global (the prepare step
// exports the module's internal globals so the host can read and write them). Reset copies
// the snapshot back; a request that grew memory gets a fresh instance, because linear memory
// cannot shrink. Memory is bounded by max_memory: an imported memory is created with that
// maximum (growing past it fails inside the program), an own memory is checked after each call.

import type { HostCall } from './host.ts';
import type { ProgramImage, ProgramRequest } from './image.ts';
import { exportGlobals, GLOBAL_PREFIX } from './wasm-globals.ts';

/** One decoder for the strings a program hands over (one per call cost a request more). */
const utf8 = new TextDecoder();

const PAGE = 65536;

/** Checks a module and exports its globals for snapshots (wasm-globals.ts). */
export async function prepareWasm(code: Uint8Array): Promise<{ code: Uint8Array; memoryPages: number }> {
  // Refuse what is not WebAssembly with the engine's message before editing it.
  await WebAssembly.compile(code);
  const prepared = exportGlobals(code);
  await WebAssembly.compile(prepared.code);
  return prepared;
}

interface Exports {
  readonly memory?: WebAssembly.Memory;
  readonly alloc?: (size: number) => number;
  readonly handle_request?: (head: number, headLen: number, body: number, bodyLen: number) => void;
  readonly _initialize?: () => void;
  readonly state_save?: () => void;
  readonly state_restore?: (ptr: number, len: number) => void;
  readonly [name: string]: unknown;
}

export class WasmSandbox {
  readonly #image: ProgramImage;
  readonly #module: WebAssembly.Module;
  readonly #importsMemory: boolean;
  readonly #maxBytes: number;
  #exports!: Exports;
  #memory!: WebAssembly.Memory;
  #snapshot: Uint8Array = new Uint8Array(0);
  /** The exported globals of the current instance, and their values in the snapshot. */
  #globals: WebAssembly.Global[] = [];
  #globalValues: unknown[] = [];
  /** The host call of the request running now: imports reach it. */
  #call: HostCall | null = null;
  dirty = false;

  constructor(image: ProgramImage, call: HostCall) {
    this.#image = image;
    this.#maxBytes = image.maxMemoryMb * 1024 * 1024;
    this.#module = new WebAssembly.Module(image.code);
    this.#importsMemory = WebAssembly.Module.imports(this.#module).some((i) => i.kind === 'memory');
    const exports = WebAssembly.Module.exports(this.#module).map((e) => e.name);
    for (const needed of ['alloc', 'handle_request']) {
      if (!exports.includes(needed)) throw new Error(`the module does not export ${needed}()`);
    }
    this.#call = call;
    this.#instantiate(Math.max(1, image.memoryPages));
    this.#exports._initialize?.();
    if (image.state !== null && this.#exports.state_restore) {
      const [ptr] = this.#write(image.state);
      this.#exports.state_restore(ptr, image.state.length);
    }
    this.#checkMemory();
    this.#call = null;
    this.#takeSnapshot();
  }

  /** Whether memory cannot grow by much more: a trap now is most likely the allocator's. */
  nearMemoryLimit(): boolean {
    return this.#memory.buffer.byteLength * 2 > this.#maxBytes;
  }

  get memoryBytes(): number {
    return this.#memory.buffer.byteLength;
  }

  run(req: ProgramRequest, head: Uint8Array, call: HostCall): void {
    this.dirty = true;
    this.#call = call;
    try {
      const [h] = this.#write(head);
      const [b] = this.#write(req.body);
      this.#exports.handle_request!(h, head.length, b, req.body.length);
      this.#checkMemory();
    } finally {
      this.#call = null;
    }
  }

  saveState(call: HostCall): void {
    this.#call = call;
    try {
      this.#exports.state_save?.();
    } finally {
      this.#call = null;
    }
  }

  /** Nothing to free by hand: its memory goes with the thread (an isolate would not). */
  dispose(): void {}

  /** Back to the post-initialisation snapshot. */
  reset(): void {
    if (this.#memory.buffer.byteLength !== this.#snapshot.length) this.#instantiate(this.#snapshot.length / PAGE);
    new Uint8Array(this.#memory.buffer).set(this.#snapshot);
    for (let i = 0; i < this.#globals.length; i++) this.#globals[i].value = this.#globalValues[i];
    this.dirty = false;
  }

  #instantiate(pages: number): void {
    let memory: WebAssembly.Memory | undefined;
    if (this.#importsMemory) {
      const maximum = Math.max(pages, Math.floor(this.#maxBytes / PAGE));
      memory = new WebAssembly.Memory({ initial: pages, maximum });
    }
    const instance = new WebAssembly.Instance(this.#module, this.#imports(memory));
    this.#exports = instance.exports as Exports;
    this.#memory = memory ?? (this.#exports.memory as WebAssembly.Memory);
    if (!(this.#memory instanceof WebAssembly.Memory)) throw new Error('the module has no memory');
    const have = this.#memory.buffer.byteLength / PAGE;
    if (have < pages) this.#memory.grow(pages - have);
    // Export order is the module's, the same for every instance: values line up by index.
    this.#globals = Object.entries(this.#exports)
      .filter(([name]) => name.startsWith(GLOBAL_PREFIX))
      .map(([, g]) => g as WebAssembly.Global);
  }

  #takeSnapshot(): void {
    this.#snapshot = new Uint8Array(this.#memory.buffer).slice();
    this.#globalValues = this.#globals.map((g) => g.value);
  }

  #checkMemory(): void {
    const bytes = this.#memory.buffer.byteLength;
    if (bytes > this.#maxBytes) throw new MemoryLimitError(`memory ${bytes} bytes is over max_memory (${this.#image.maxMemoryMb} MB)`);
  }

  /** Copies bytes into the program's memory through its allocator. */
  #write(bytes: Uint8Array): [number] {
    const ptr = this.#exports.alloc!(bytes.length);
    new Uint8Array(this.#memory.buffer, ptr, bytes.length).set(bytes);
    return [ptr];
  }

  #bytes(ptr: number, len: number): Uint8Array {
    return new Uint8Array(this.#memory.buffer, ptr >>> 0, len >>> 0).slice();
  }

  #text(ptr: number, len: number): string {
    return utf8.decode(new Uint8Array(this.#memory.buffer, ptr >>> 0, len >>> 0));
  }

  #host(): HostCall {
    if (this.#call === null) throw new Error('host called outside a request');
    return this.#call;
  }

  #imports(memory: WebAssembly.Memory | undefined): WebAssembly.Imports {
    const env: Record<string, unknown> = {
      // AssemblyScript's abort(message, file, line, column): its strings are UTF-16 with the
      // byte length in the four bytes before them.
      abort: (msg: number, file: number, line: number, column: number) => {
        throw new Error(`abort: ${this.#asString(msg)} at ${this.#asString(file)}:${line}:${column}`);
      },
    };
    if (memory) env.memory = memory;
    return {
      env,
      shellac: {
        response: (status: number, ct: number, ctLen: number, body: number, bodyLen: number) =>
          this.#host().respond(status, this.#text(ct, ctLen), this.#bytes(body, bodyLen)),
        header: (line: number, len: number) => this.#host().header(this.#text(line, len)),
        begin_response: (status: number, ct: number, ctLen: number) => this.#host().begin(status, this.#text(ct, ctLen)),
        send_chunk: (data: number, len: number) => this.#host().chunk(this.#bytes(data, len)),
        log: (msg: number, len: number) => this.#host().log(this.#text(msg, len)),
        init_data: (which: number, dst: number) => {
          const data = this.#host().initData(which);
          if (dst !== 0) new Uint8Array(this.#memory.buffer, dst, data.length).set(data);
          return data.length;
        },
        self_request: (url: number, len: number) => this.#host().selfRequest(this.#text(url, len)),
        self_body: (dst: number) => {
          const body = this.#host().selfBody;
          if (dst !== 0) new Uint8Array(this.#memory.buffer, dst, body.length).set(body);
          return body.length;
        },
        state_put: (data: number, len: number) => {
          this.#host().state = this.#bytes(data, len);
        },
      },
    };
  }

  #asString(ptr: number): string {
    if (!ptr) return '?';
    const view = new DataView(this.#memory.buffer);
    const bytes = view.getUint32(ptr - 4, true);
    return String.fromCharCode(...new Uint16Array(this.#memory.buffer.slice(ptr, ptr + Math.min(bytes, 512))));
  }
}

export class MemoryLimitError extends Error {
  override readonly name = 'MemoryLimitError';
}
