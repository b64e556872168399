/** Images: ResizeBilinear (every batch the trainer feeds above 28 px, and every evaluation batch). */
import { check, lib } from "../ffi.ts";
import { alloc } from "../buffers.ts";
import { cpu, f32, type Info, type KernelArgs, type NativeKernel, out, size, SMALL } from "../backend.ts";

/**
 * Bilinear resize with the bits of the cpu backend's kernel (the C++ repeats its double
 * arithmetic), on all threads: the JavaScript kernel took 3.4 ms of a 73 ms GoogLeNet¼@48
 * training step for its batch of 128.
 */
function resizeBilinear(args: KernelArgs): Info | Info[] {
  const x = args.inputs.images!;
  const [oh, ow] = args.attrs.size as [number, number];
  if (x.dtype !== "float32" || x.shape.length !== 4) return cpu("ResizeBilinear", args);
  const [n, , , c] = x.shape;
  const outShape = [n, oh, ow, c];
  if (size(outShape) < SMALL) return cpu("ResizeBilinear", args);
  const y = alloc(size(outShape));
  check(
    lib().cn_resize_bilinear(
      new Int32Array(x.shape),
      oh,
      ow,
      args.attrs.alignCorners ? 1 : 0,
      args.attrs.halfPixelCenters ? 1 : 0,
      f32(args.backend, x),
      y,
    ),
    "ResizeBilinear",
  );
  return out(args.backend, outShape, y);
}

export const imageKernels: NativeKernel[] = [{ kernelName: "ResizeBilinear", kernelFunc: resizeBilinear }];
