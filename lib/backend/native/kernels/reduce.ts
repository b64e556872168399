/** Sum and Mean over one run of contiguous axes (bias gradients, batch statistics, global pooling). */
import * as tf from "@tensorflow/tfjs";
import { check, lib } from "../ffi.ts";
import { alloc } from "../buffers.ts";
import { cpu, f32, type Info, type KernelArgs, type NativeKernel, out, size, SMALL } from "../backend.ts";

function reduce(name: "Sum" | "Mean") {
  return (args: KernelArgs): Info | Info[] => {
    const x = args.inputs.x!;
    const axes = tf.util.parseAxisParam(args.attrs.axis as number | number[], x.shape).sort((p, q) => p - q);
    const k = axes.length;
    // One contiguous run of axes: [outer, reduced, inner] (leading axes: bias gradients and batch-norm
    // statistics; middle axes: global average pooling).
    if (x.dtype !== "float32" || size(x.shape) < SMALL || k === 0 || axes.some((ax, i) => ax !== axes[0] + i)) {
      return cpu(name, args);
    }
    const a0 = axes[0], a1 = axes[k - 1] + 1;
    const outer = size(x.shape.slice(0, a0)), rows = size(x.shape.slice(a0, a1)), inner = size(x.shape.slice(a1));
    const y = alloc(outer * inner);
    check(
      lib().cn_reduce_rows(
        f32(args.backend, x),
        BigInt(outer),
        BigInt(rows),
        BigInt(inner),
        y,
        name === "Mean" ? 1 : 0,
      ),
      name,
    );
    const shape = args.attrs.keepDims
      ? x.shape.map((d, i) => (i >= a0 && i < a1 ? 1 : d))
      : x.shape.filter((_, i) => i < a0 || i >= a1);
    return out(args.backend, shape, y);
  };
}

export const reduceKernels: NativeKernel[] = [
  { kernelName: "Sum", kernelFunc: reduce("Sum") },
  { kernelName: "Mean", kernelFunc: reduce("Mean") },
];
