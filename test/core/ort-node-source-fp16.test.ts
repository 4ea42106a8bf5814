/**
 * The test session helper converts float feeds to the dtype the model declares, like the runtime's ORT wrapper
 * (issue #11.5): a float16 model fed float32 values runs and returns the half-rounded values.
 */
import { afterAll, expect, it } from 'vitest';
import { fromHalf, toHalf } from '../../ui/core/tensor-math';
import { createGraphBuilder } from '../models/graph-builder';
import { createOrtNodeSource } from '../helpers/ort-node-source';

const g = createGraphBuilder();
const x = g.input('x', 'float16', [4]);
g.output(g.op('Cast', [x], { to: 1 }), 'y', 'float32', [4]);
const src = createOrtNodeSource({ unet: g.toBytes('cast_f16') });
afterAll(() => src.closeAsync());

it('a float32 feed reaches a float16 input as half values (round to nearest even)', async () => {
  const s = await src.acquireAsync('unet');
  const values = Float32Array.from([0.1, -3.3, 1000.7, 65504]);
  const out = await s.runAsync({ x: { kind: 'host', dtype: 'float32', dims: [4], data: values } });
  await src.doneWithAsync('unet');
  const y = out.y!;
  expect(y.kind === 'host' && y.dtype).toBe('float32');
  const want = Array.from(values, (v) => fromHalf(toHalf(v)));
  expect(want[0]).not.toBe(Math.fround(0.1)); // the conversion is visible
  expect(Array.from((y as { data: Float32Array }).data)).toEqual(want);
  // The recorded feed is what the pipeline passed (float32), not the converted one.
  expect(src.feeds.unet![0]!.x!.dtype).toBe('float32');
});
