// The hexdump layout of `xxd` (with `-o address`): an address of at least eight hex
// digits, 16 bytes in groups of two, then the printable characters.

/** Lines for `bytes` starting at `address` (the first line's address; each line 16 on). */
export function* xxdLines(address: bigint, bytes: Uint8Array): Generator<string> {
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    let hexPart = '';
    let text = '';
    for (let j = 0; j < row.length; j++) {
      hexPart += row[j]!.toString(16).padStart(2, '0') + (j % 2 === 1 && j < 15 ? ' ' : '');
      text += row[j]! >= 0x20 && row[j]! < 0x7f ? String.fromCharCode(row[j]!) : '.';
    }
    const at = BigInt.asUintN(64, address + BigInt(i)).toString(16).padStart(8, '0');
    yield `${at}: ${hexPart.padEnd(40)} ${text}`;
  }
}
