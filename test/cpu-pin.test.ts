// Pinning the bench's main thread: the CPUs the kernel reports for it afterwards
// (from /proc, not from the code under test) are the ones asked for.
import { readFileSync } from 'node:fs';
import os from 'node:os';
import { describe, expect, it } from 'vitest';
import { ALL_CPUS, pinMainThread, pinToFastestCpu } from '../src/perf/cpu-pin.js';

const allowed = () => /Cpus_allowed_list:\s*(\S+)/.exec(readFileSync(`/proc/${process.pid}/task/${process.pid}/status`, 'utf8'))![1];
const linux = process.platform === 'linux' && os.cpus().length >= 2;

describe.skipIf(!linux)('cpu pinning', () => {
  it('pins the main thread to one CPU and back to all', () => {
    expect(pinMainThread('1')).toBe(true);
    expect(allowed()).toBe('1');
    expect(pinMainThread(ALL_CPUS)).toBe(true);
    expect(allowed()).toBe(ALL_CPUS);
  });

  it('runs the probe given on each CPU and pins to the one whose probe printed the least', () => {
    // The probe prints 9 on CPU 0 and 5 elsewhere (from the CPUs the kernel lets it run on).
    const probe = [process.execPath, '-e', "const l = /Cpus_allowed_list:\\s*(\\S+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]; console.log(l === '0' ? 9 : 5)"];
    try {
      const c = pinToFastestCpu(probe);
      expect(c.probeMs).toEqual([9, ...Array(os.cpus().length - 1).fill(5)]);
      expect(c.cpu).toBe(1);
      expect(allowed()).toBe('1');
      expect(pinToFastestCpu([process.execPath, '-e', 'console.log("fast")']).reason).toMatch(/the probe printed no time \(fast\)/);
    } finally {
      pinMainThread(ALL_CPUS);
    }
  });

  it('probes every CPU and pins to the one with the lowest probe time', () => {
    const c = pinToFastestCpu();
    try {
      expect(c.reason).toBeUndefined();
      expect(c.probeMs).toHaveLength(os.cpus().length);
      expect(c.probeMs.every((m) => m > 0 && Number.isFinite(m))).toBe(true);
      expect(c.cpu).toBe(c.probeMs.indexOf(Math.min(...c.probeMs)));
      expect(allowed()).toBe(String(c.cpu));
    } finally {
      pinMainThread(ALL_CPUS);
    }
  });
});
