/**
 * A stand-in for onnxruntime's CUDA provider, for machines without a GPU: preloaded (`node -r`) into a
 * process and so into its worker threads. A session asked for `cuda` or `tensorrt` on a device listed
 * in the file FAKE_CUDA_FAILING names fails as CUDA does on a device it cannot use; on any other device
 * it loads (on the CPU, standing in for the GPU).
 */
import * as fs from 'node:fs';
import * as ort from 'onnxruntime-node';

type Provider = ort.InferenceSession.ExecutionProviderConfig;
const gpu = (p: Provider): p is { name: string; deviceId: number } => typeof p !== 'string' && (p.name === 'cuda' || p.name === 'tensorrt');

const create = ort.InferenceSession.create.bind(ort.InferenceSession) as (path: string, options: ort.InferenceSession.SessionOptions) => Promise<ort.InferenceSession>;
(ort.InferenceSession as { create: unknown }).create = async (path: string, options: ort.InferenceSession.SessionOptions) => {
  const first = options.executionProviders?.[0];
  if (first === undefined || !gpu(first)) return create(path, options);
  const failing = fs.readFileSync(process.env.FAKE_CUDA_FAILING!, 'utf8').split(',').filter(Boolean).map(Number);
  if (failing.includes(first.deviceId)) throw new Error('CUDA failure 2: out of memory');
  return create(path, { ...options, executionProviders: ['cpu'] });
};
