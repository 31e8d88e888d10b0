#!/usr/bin/python3
"""Regenerate test/fixtures/dump-codecs.json: the pages of codec-pages.ts compressed
by real tools (python3-lzo's lzo1x_1 and lzo1x_999, the zstd CLI at levels 1 and 19),
so the decoders are checked against output they did not produce themselves.
Run from the repository root with Debian's python3 (apt-get install python3-lzo zstd): /usr/bin/python3 test/helpers/dump-writers/make-codec-fixtures.py"""
import base64, json, struct, subprocess, lzo

def pattern(pfn):
    b = bytearray(4096)
    b[0:8] = struct.pack('<Q', pfn)
    for i in range(8, 4096):
        b[i] = ((i >> 4) * 13 + pfn * 7 + (i & 3)) & 0xff
    return bytes(b)

def xorshift(seed):
    b = bytearray(4096)
    x = seed
    for i in range(4096):
        x ^= (x << 13) & 0xffffffff
        x ^= x >> 17
        x ^= (x << 5) & 0xffffffff
        b[i] = x & 0xff
    return bytes(b)

def page_table():
    b = bytearray(4096)
    for i in range(512):
        if i % 3 == 0:
            b[i*8:i*8+8] = struct.pack('<Q', (0x1000 * (i + 7)) | 0x63)
    return bytes(b)

def run():
    b = bytearray(b'\x41' * 4096)
    b[2000] = 0x42
    return bytes(b)

def text():
    s = b''.join(b'memwalk reads kdump pages %d. ' % i for i in range(400))
    return s[:4096]

PAGES = {
    'pattern-1': pattern(1),
    'pattern-3ffff': pattern(0x3ffff),
    'random': xorshift(0x12345678),
    'page-table': page_table(),
    'run': run(),
    'text': text(),
}

def zstd(data, level):
    return subprocess.run(['zstd', '-q', '-c', '--no-check', f'-{level}'], input=data, capture_output=True, check=True).stdout

out = {}
for name, page in PAGES.items():
    assert len(page) == 4096
    out[name] = {
        'lzo1x_1': base64.b64encode(lzo.compress(page, 1, False)).decode(),
        'lzo1x_999': base64.b64encode(lzo.compress(page, 9, False)).decode(),
        'zstd1': base64.b64encode(zstd(page, 1)).decode(),
        'zstd19': base64.b64encode(zstd(page, 19)).decode(),
    }
with open('test/fixtures/dump-codecs.json', 'w') as f:
    json.dump(out, f, indent=1)
    f.write('\n')
