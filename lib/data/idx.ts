/**
 * IDX file format (LeCun's MNIST container) parsing with every header field checked.
 * A file that is truncated, padded, of the wrong type or of unexpected dimensions
 * raises one error naming the file and the fix; a partial load never happens.
 */

export class DataError extends Error {
  override name = "DataError";
}

export interface IdxArray {
  /** Dimension sizes from the header, e.g. [60000, 28, 28]. */
  dims: number[];
  /** Unsigned bytes, row-major. */
  data: Uint8Array;
}

const UBYTE = 0x08;

/**
 * Parse an uncompressed IDX buffer of unsigned bytes.
 * @param bytes the file's decompressed content
 * @param file name used in error messages
 * @param expect expected dimensions (checked exactly when given)
 * @param fix the hint appended to every error message
 */
export function parseIdx(
  bytes: Uint8Array,
  file: string,
  expect: number[] | undefined,
  fix: string,
): IdxArray {
  const fail = (what: string): never => {
    throw new DataError(`${file}: ${what}; ${fix}`);
  };
  if (bytes.length < 4) fail(`file is ${bytes.length} bytes, too short for an IDX header`);
  if (bytes[0] !== 0 || bytes[1] !== 0) fail("not an IDX file (bad magic number)");
  if (bytes[2] !== UBYTE) fail(`IDX data type 0x${bytes[2].toString(16)} is not unsigned byte`);
  const rank = bytes[3];
  if (rank < 1 || rank > 4) fail(`IDX rank ${rank} is not between 1 and 4`);
  const headerLen = 4 + 4 * rank;
  if (bytes.length < headerLen) fail(`file is ${bytes.length} bytes, shorter than its header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i, false));
  if (expect) {
    if (expect.length !== rank || expect.some((d, i) => d !== dims[i])) {
      fail(`dimensions [${dims.join(", ")}], expected [${expect.join(", ")}]`);
    }
  }
  const count = dims.reduce((a, b) => a * b, 1);
  const have = bytes.length - headerLen;
  if (have < count) fail(`truncated: ${have} data bytes, header promises ${count}`);
  if (have > count) fail(`${have - count} unexpected trailing bytes after ${count} data bytes`);
  return { dims, data: bytes.subarray(headerLen) };
}
