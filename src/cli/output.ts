import { InvalidInputError } from '../errors.js';

/** Print one JSON document on stdout: the form every `--json` uses. */
export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? '0x' + v.toString(16) : v), 2) + '\n');
}

/** Pick one of `allowed`, or fail naming the option and the choices. */
export function choice<T extends string>(value: string, option: string, allowed: readonly T[]): T {
  if ((allowed as readonly string[]).includes(value)) return value as T;
  throw new InvalidInputError(`${option}: '${value}' is not one of ${allowed.join(', ')}`, { input: option, value });
}

/** Parse a 0/1 switch option. */
export function bit(value: string, option: string): boolean {
  if (value === '0' || value === '1') return value === '1';
  throw new InvalidInputError(`${option}: '${value}' must be 0 or 1`, { input: option, value });
}
