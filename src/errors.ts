/**
 * Typed errors. Every error memwalk throws for bad input is a MemwalkError whose
 * message names the input and the rule it broke, in one line, so the CLI can
 * print it as is and a library user can branch on `code` or `instanceof`.
 */
export type ErrorCode =
  | 'invalid-input'
  | 'capacity'
  | 'outside-image'
  | 'malformed-file'
  | 'unsupported-format'
  | 'mapping-conflict'
  | 'type-violation'
  | 'not-found'
  | 'backend-mismatch'
  | 'stale-build'
  | 'engine-busy';

export class MemwalkError extends Error {
  readonly code: ErrorCode;
  /** Structured facts behind the message (input name, offsets, values). */
  readonly details: Readonly<Record<string, unknown>>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** A value given by the caller breaks a rule (malformed number, bad option, overlap...). */
export class InvalidInputError extends MemwalkError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('invalid-input', message, details);
  }
}

/** A request that cannot fit the engine's memory (4 GiB wasm32), refused before allocating. */
export class CapacityError extends MemwalkError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('capacity', message, details);
  }
}

/** A physical access that falls outside the RAM image. */
export class OutsideImageError extends MemwalkError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('outside-image', message, details);
  }
}

/** A file that is truncated or does not follow its format; `offset` says where. */
export class MalformedFileError extends MemwalkError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('malformed-file', message, details);
  }
}

/** A file in a format memwalk recognises but does not read (VMware snapshot, Windows crash dump, ...). */
export class UnsupportedFormatError extends MemwalkError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('unsupported-format', message, details);
  }
}

/** map/unmap/protect found something in the way (existing mapping, superpage split...). */
export class MappingConflictError extends MemwalkError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('mapping-conflict', message, details);
  }
}

/** The frame type system refused an operation (Xen's rules). */
export class TypeViolationError extends MemwalkError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('type-violation', message, details);
  }
}

/** A named thing (domain, frame, file) does not exist. */
export class NotFoundError extends MemwalkError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('not-found', message, details);
  }
}

/** A compiled kernel module does not match the sources it is loaded with. */
export class StaleBuildError extends MemwalkError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('stale-build', message, details);
  }
}

/** The engine's scratch (I/O buffer, walk parameters) is in use by a parallel call on worker threads; await it first. */
export class EngineBusyError extends MemwalkError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('engine-busy', message, details);
  }
}
