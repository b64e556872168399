/**
 * Fashion-MNIST: finding, downloading, verifying and parsing the four IDX files.
 *
 * Search order: an explicit data dir (option or CNNLAB_DATA_DIR), `data/fashion-mnist/`
 * in the project, then Debian's `/usr/share/datasets/fashion-mnist/`
 * (package `dataset-fashion-mnist`). If none holds all four files, they are downloaded
 * from the dataset's official address into `data/fashion-mnist/`.
 *
 * Verification uses SHA-256 of the *decompressed* bytes: Debian recompressed the .gz
 * files, so digests of the .gz differ from upstream's while the content is identical.
 */
import { setting } from "../util/settings.ts";
import { DataError, parseIdx } from "./idx.ts";
import { exists, PROJECT_ROOT, writeFileAtomic } from "../util/fs.ts";
import { sha256Hex } from "../util/hash.ts";

export { DataError };

export const DEBIAN_DIR = "/usr/share/datasets/fashion-mnist";
export const PROJECT_DATA_DIR = `${PROJECT_ROOT}/data/fashion-mnist`;
export const DOWNLOAD_BASE = "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/";

/** Training images per class scored in inference mode after each epoch (a run's "train accuracy"), unless its config says otherwise. */
export const TRAIN_EVAL_PER_CLASS = 100;

export const CLASS_NAMES = [
  "T-shirt/top",
  "Trouser",
  "Pullover",
  "Dress",
  "Coat",
  "Sandal",
  "Shirt",
  "Sneaker",
  "Bag",
  "Ankle boot",
] as const;

interface FileSpec {
  name: string;
  /** SHA-256 of the decompressed file, measured from the files Debian ships. */
  sha256: string;
  /** Decompressed length in bytes. */
  bytes: number;
  dims: number[];
}

export const FILES: Record<"trainImages" | "trainLabels" | "testImages" | "testLabels", FileSpec> = {
  trainImages: {
    name: "train-images-idx3-ubyte",
    sha256: "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
    bytes: 47040016,
    dims: [60000, 28, 28],
  },
  trainLabels: {
    name: "train-labels-idx1-ubyte",
    sha256: "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
    bytes: 60008,
    dims: [60000],
  },
  testImages: {
    name: "t10k-images-idx3-ubyte",
    sha256: "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
    bytes: 7840016,
    dims: [10000, 28, 28],
  },
  testLabels: {
    name: "t10k-labels-idx1-ubyte",
    sha256: "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
    bytes: 10008,
    dims: [10000],
  },
};

export interface LocateOptions {
  /** Explicit folder (wins over everything else). */
  dataDir?: string;
  /** Download when no folder holds the files (default true). */
  download?: boolean;
  /** Where progress lines go (default: stderr). */
  log?: (line: string) => void;
}

const FIX =
  "fix: delete the file so it is fetched again, or install Debian's dataset-fashion-mnist (apt-get install dataset-fashion-mnist), or point --data-dir / CNNLAB_DATA_DIR at a folder with the four original files";

/** Path of one file in a folder, compressed or not, or null. */
async function findFile(dir: string, name: string): Promise<string | null> {
  for (const candidate of [`${dir}/${name}.gz`, `${dir}/${name}`]) {
    try {
      if (await exists(candidate)) return candidate;
    } catch (e) {
      throw new DataError(
        `${dir}: cannot be searched for Fashion-MNIST (${(e as Error).name}: ${
          (e as Error).message.split("\n")[0]
        }); fix: make the folder readable (chmod a+rx), or point --data-dir / CNNLAB_DATA_DIR elsewhere`,
      );
    }
  }
  return null;
}

async function folderHoldsAll(dir: string): Promise<boolean> {
  for (const f of Object.values(FILES)) {
    if (!(await findFile(dir, f.name))) return false;
  }
  return true;
}

/** The folders searched, in order, with why each is there. */
export function candidateDirs(dataDir?: string): { dir: string; why: string }[] {
  const out: { dir: string; why: string }[] = [];
  const explicit = dataDir ?? setting("CNNLAB_DATA_DIR");
  if (explicit) {
    out.push({ dir: explicit, why: dataDir ? "--data-dir" : "CNNLAB_DATA_DIR" });
  }
  out.push({ dir: PROJECT_DATA_DIR, why: "project data folder" });
  out.push({ dir: DEBIAN_DIR, why: "Debian dataset-fashion-mnist" });
  return out;
}

/**
 * Find the folder holding the dataset; download into data/fashion-mnist/ if none does.
 * An explicit folder (option or env) that lacks files is an error, not a fallthrough:
 * the user asked for it.
 */
export async function locateFashionMnist(opts: LocateOptions = {}): Promise<string> {
  const cands = candidateDirs(opts.dataDir);
  const explicit = opts.dataDir ?? setting("CNNLAB_DATA_DIR");
  if (explicit) {
    if (await folderHoldsAll(explicit)) return explicit;
    throw new DataError(
      `${explicit} (${cands[0].why}) does not hold the four Fashion-MNIST files (${
        Object.values(FILES).map((f) => f.name + "[.gz]").join(", ")
      }); fix: point it at the right folder or unset it to use data/fashion-mnist or ${DEBIAN_DIR}`,
    );
  }
  for (const { dir } of cands) {
    if (await folderHoldsAll(dir)) return dir;
  }
  if (opts.download === false) {
    throw new DataError(
      `Fashion-MNIST not found in ${
        cands.map((c) => c.dir).join(", ")
      }; fix: apt-get install dataset-fashion-mnist, or run \`deno task setup\` to download it`,
    );
  }
  await downloadFashionMnist(PROJECT_DATA_DIR, opts.log);
  return PROJECT_DATA_DIR;
}

/** Download the four .gz files from the official address into `dir`, verifying each. */
export async function downloadFashionMnist(
  dir: string,
  log: (line: string) => void = (l) => console.error(l),
): Promise<void> {
  await Deno.mkdir(dir, { recursive: true });
  for (const f of Object.values(FILES)) {
    const target = `${dir}/${f.name}.gz`;
    if (await exists(target)) continue;
    const url = `${DOWNLOAD_BASE}${f.name}.gz`;
    let res: Response;
    try {
      res = await fetch(url);
    } catch (e) {
      throw new DataError(
        `download of ${url} failed (${
          (e as Error).message
        }); fix: apt-get install dataset-fashion-mnist, or copy the four files into ${dir}`,
      );
    }
    if (!res.ok || !res.body) {
      throw new DataError(
        `download of ${url} answered HTTP ${res.status}; fix: apt-get install dataset-fashion-mnist, or copy the four files into ${dir}`,
      );
    }
    const total = Number(res.headers.get("content-length") ?? 0);
    const chunks: Uint8Array[] = [];
    let got = 0;
    let lastPct = -1;
    for await (const chunk of res.body) {
      chunks.push(chunk);
      got += chunk.length;
      const pct = total ? Math.floor((100 * got) / total) : -1;
      if (pct !== lastPct && pct % 10 === 0) {
        log(`downloading ${f.name}.gz: ${pct}% (${(got / 1e6).toFixed(1)} MB)`);
        lastPct = pct;
      }
    }
    const buf = new Uint8Array(got);
    let off = 0;
    for (const c of chunks) {
      buf.set(c, off);
      off += c.length;
    }
    // Verify before the file becomes visible under its final name.
    await verifyBytes(await gunzip(buf, url), f, url);
    await writeFileAtomic(target, buf);
    log(`downloaded ${f.name}.gz (${(got / 1e6).toFixed(1)} MB), verified`);
  }
}

/** Decompress gzip bytes with the platform's DecompressionStream. */
export async function gunzip(bytes: Uint8Array, file: string): Promise<Uint8Array> {
  try {
    const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(
      new DecompressionStream("gzip"),
    );
    return new Uint8Array(await new Response(stream).arrayBuffer());
  } catch (e) {
    throw new DataError(`${file}: not a valid gzip file (${(e as Error).message}); ${FIX}`);
  }
}

async function verifyBytes(bytes: Uint8Array, f: FileSpec, file: string): Promise<void> {
  // Parse first: a structural fault gets a more precise message than a digest mismatch.
  parseIdx(bytes, file, f.dims, FIX);
  const digest = await sha256Hex(bytes as BufferSource);
  if (digest !== f.sha256) {
    throw new DataError(
      `${file}: SHA-256 of the decompressed content is ${digest}, expected ${f.sha256} (corrupted or not the original file); ${FIX}`,
    );
  }
}

/** Read, decompress, verify and parse one file. */
export async function readVerified(path: string, f: FileSpec, verify = true): Promise<Uint8Array> {
  let bytes: Uint8Array;
  try {
    bytes = await Deno.readFile(path);
  } catch (e) {
    throw new DataError(`${path}: cannot be read (${(e as Error).message}); ${FIX}`);
  }
  if (path.endsWith(".gz")) bytes = await gunzip(bytes, path);
  if (verify) await verifyBytes(bytes, f, path);
  return parseIdx(bytes, path, f.dims, FIX).data;
}

export interface RawSplit {
  /** N×28×28 unsigned bytes. */
  images: Uint8Array;
  /** N labels 0..9. */
  labels: Uint8Array;
}

export interface RawFashionMnist {
  dir: string;
  train: RawSplit;
  test: RawSplit;
}

const cache = new Map<string, Promise<RawFashionMnist>>();

/**
 * Load and verify the whole dataset (about 55 MB of bytes). Cached per folder within
 * the process, so notebooks and tests pay once.
 */
export function loadFashionMnist(opts: LocateOptions & { verify?: boolean } = {}): Promise<
  RawFashionMnist
> {
  const key = `${opts.dataDir ?? setting("CNNLAB_DATA_DIR") ?? ""}|${opts.verify !== false}`;
  let p = cache.get(key);
  if (!p) {
    p = (async () => {
      const dir = await locateFashionMnist(opts);
      const read = async (f: FileSpec) => readVerified((await findFile(dir, f.name))!, f, opts.verify !== false);
      const [trI, trL, teI, teL] = await Promise.all([
        read(FILES.trainImages),
        read(FILES.trainLabels),
        read(FILES.testImages),
        read(FILES.testLabels),
      ]);
      for (const [labels, f] of [[trL, FILES.trainLabels], [teL, FILES.testLabels]] as const) {
        const bad = labels.findIndex((l) => l > 9);
        if (bad >= 0) {
          throw new DataError(`${dir}/${f.name}: label ${labels[bad]} at index ${bad} is not 0..9; ${FIX}`);
        }
      }
      return { dir, train: { images: trI, labels: trL }, test: { images: teI, labels: teL } };
    })();
    p.catch(() => cache.delete(key));
    cache.set(key, p);
  }
  return p;
}
