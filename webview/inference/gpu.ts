// WebGPU checks for the in-browser inference worker: is there an adapter, does the model fit its limits, and watching
// the device onnxruntime runs on for loss. The few WebGPU types used are declared here (TypeScript's DOM library has
// none, and the runtime must not depend on them).
import type { ModelConfig } from '../../runtime/formats/config-normalise';
import type { WeightStore } from '../../runtime/formats/safetensors-bytes';
import type { GpuLimits } from './protocol';

interface GpuAdapterInfo {
  vendor?: string;
  architecture?: string;
  device?: string;
  description?: string;
}
interface GpuAdapter {
  readonly limits: GpuLimits;
  readonly info?: GpuAdapterInfo;
}
interface Gpu {
  requestAdapter(options?: { powerPreference?: 'low-power' | 'high-performance' }): Promise<GpuAdapter | null>;
}
/** The part of GPUDevice the worker uses. */
export interface GpuDevice {
  readonly lost: Promise<{ reason: string; message: string }>;
  destroy(): void;
}

export type AdapterProbe = { ok: true; limits: GpuLimits; name: string } | { ok: false; reason: string };

/** Asks for a high-performance adapter; says why there is none. */
export async function probeAdapter(override?: Partial<GpuLimits>): Promise<AdapterProbe> {
  const gpu = (globalThis as { navigator?: { gpu?: Gpu } }).navigator?.gpu;
  if (!gpu) return { ok: false, reason: 'this webview has no WebGPU (navigator.gpu is absent)' };
  let adapter: GpuAdapter | null;
  try {
    adapter = await gpu.requestAdapter({ powerPreference: 'high-performance' });
  } catch (e) {
    return { ok: false, reason: `requesting a WebGPU adapter failed (${e instanceof Error ? e.message : String(e)})` };
  }
  if (!adapter) return { ok: false, reason: 'WebGPU found no GPU adapter (blocklisted driver, or no GPU)' };
  const info = adapter.info ?? {};
  const name = [info.vendor, info.architecture || info.device || info.description].filter((s) => s).join(' ');
  const limits: GpuLimits = {
    maxBufferSize: override?.maxBufferSize ?? adapter.limits.maxBufferSize,
    maxStorageBufferBindingSize: override?.maxStorageBufferBindingSize ?? adapter.limits.maxStorageBufferBindingSize,
  };
  return { ok: true, limits, name: name || 'unnamed adapter' };
}

/** The largest GPU buffer the model needs: its largest weight, or an activation at `maxTokens` (bytes, float32). */
export function largestBuffer(
  config: ModelConfig,
  weights: WeightStore,
  maxTokens: number,
): { bytes: number; what: string } {
  let best = { bytes: 0, what: '' };
  const consider = (bytes: number, what: string) => {
    if (bytes > best.bytes) best = { bytes, what };
  };
  for (const name of weights.names())
    consider(
      weights.shape(name).reduce((a, b) => a * b, 4),
      `weight ${name}`,
    );
  const S = Math.min(maxTokens, config.maxPositions);
  consider(config.heads * S * S * 4, `attention at ${S} tokens`); // [1,H,S,S]
  consider(S * config.vocabSize * 4, `logits at ${S} tokens`); // [1,S,V]
  consider(S * config.intermediate * 4, `feed-forward activations at ${S} tokens`); // [1,S,I]
  return best;
}

/** Undefined when the buffer fits the adapter's limits; otherwise why not. */
export function misfit(need: { bytes: number; what: string }, limits: GpuLimits): string | undefined {
  const cap = Math.min(limits.maxBufferSize, limits.maxStorageBufferBindingSize);
  if (need.bytes <= cap) return undefined;
  const mb = (n: number) => `${(n / 2 ** 20).toFixed(1)} MB`;
  return `the model does not fit the GPU's limits: its ${need.what} needs ${mb(need.bytes)}, the adapter binds at most ${mb(cap)}`;
}

/** Narrows what onnxruntime returns as its device. */
export function asDevice(d: unknown): GpuDevice | undefined {
  const x = d as Partial<GpuDevice> | undefined;
  return x && typeof x.destroy === 'function' && x.lost instanceof Promise ? (x as GpuDevice) : undefined;
}
