// Bytes as text without Node's Buffer, so the code that decodes dump headers runs
// in a browser too.

/** Each byte as the character of that code (ISO 8859-1): names in ELF notes and tables. */
export function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 4096) s += String.fromCharCode(...bytes.subarray(i, i + 4096));
  return s;
}
