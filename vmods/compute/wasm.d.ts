// The few WebAssembly JS API types compute uses. TypeScript keeps them in its DOM library,
// which this project does not load (it would bring browser globals into Node code).

declare namespace WebAssembly {
  type ImportValue = unknown;
  type Imports = Record<string, Record<string, ImportValue>>;
  interface ModuleDescriptor {
    readonly kind: 'function' | 'table' | 'memory' | 'global' | 'tag';
    readonly module?: string;
    readonly name: string;
  }
  class Module {
    constructor(bytes: Uint8Array);
    static imports(module: Module): ModuleDescriptor[];
    static exports(module: Module): ModuleDescriptor[];
  }
  class Instance {
    constructor(module: Module, imports?: Imports);
    readonly exports: Record<string, unknown>;
  }
  class Memory {
    constructor(descriptor: { initial: number; maximum?: number; shared?: boolean });
    readonly buffer: ArrayBuffer;
    grow(pages: number): number;
  }
  class Global {
    value: unknown;
  }
  class RuntimeError extends Error {}
  class CompileError extends Error {}
  class LinkError extends Error {}
  function compile(bytes: Uint8Array): Promise<Module>;
}
