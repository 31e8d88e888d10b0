import { test, expect } from 'vitest';
import { partitionPoint } from '../src/util/partition-point.js';

test('partitionPoint: the first index where the sorted prefix ends', () => {
  const a = [1, 3, 3, 5, 9];
  expect(partitionPoint(a.length, (i) => a[i]! < 3)).toBe(1); // lower bound of 3
  expect(partitionPoint(a.length, (i) => a[i]! <= 3)).toBe(3); // upper bound of 3
  expect(partitionPoint(a.length, (i) => a[i]! < 0)).toBe(0);
  expect(partitionPoint(a.length, (i) => a[i]! < 10)).toBe(5);
  expect(partitionPoint(0, () => true)).toBe(0);
});
