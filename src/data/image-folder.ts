// An image folder: root/<class>/<image> (or root/train/<class>/… and root/test|val/<class>/…),
// decoded to RGB at a fixed size exactly as predict decodes (shorter side resized, center-cropped). Images that
// cannot be decoded are skipped with one warning listing them; a folder with none is an error.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { DatasetSplits, ImageDataset } from './dataset';
import { decodeImage } from './image';

const IMAGE_EXT = /\.(jpe?g|png|webp|gif|tiff?|avif)$/i;

/** Every image file under `dir` (any depth), sorted by path. */
export function imageFilesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir).sort()) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...imageFilesUnder(path));
    else if (IMAGE_EXT.test(name)) out.push(path);
  }
  return out;
}

function classFolders(root: string): string[] {
  return readdirSync(root)
    .filter((d) => statSync(join(root, d)).isDirectory())
    .sort();
}

async function decodeSplit(
  root: string,
  classes: string[],
  size: number,
  name: string,
  warn: (msg: string) => void,
): Promise<ImageDataset> {
  const files: [string, number][] = [];
  classes.forEach((c, label) => {
    const dir = join(root, c);
    if (!existsSync(dir)) return;
    for (const f of readdirSync(dir).sort()) if (IMAGE_EXT.test(f)) files.push([join(dir, f), label]);
  });
  const decoded = await Promise.all(
    files.map(async ([file, label]) => {
      try {
        // the same decoding predict uses: shorter side to `size` (bilinear), center crop
        return { data: await decodeImage(file, { resize: size, crop: size }), label };
      } catch {
        return { data: null, label, file };
      }
    }),
  );
  const bad = decoded.filter((d) => !d.data).map((d) => (d as { file: string }).file);
  if (bad.length)
    warn(
      `warning: skipped ${bad.length} image(s) that could not be decoded: ${bad.slice(0, 5).join(', ')}${bad.length > 5 ? ', …' : ''}`,
    );
  const good = decoded.filter((d) => d.data);
  if (good.length === 0)
    throw new Error(`image folder '${root}': no decodable images found under ${classes.length} class folder(s)`);
  const per = 3 * size * size,
    images = new Uint8Array(good.length * per),
    labels = new Int32Array(good.length);
  good.forEach((d, i) => {
    images.set(d.data!, i * per);
    labels[i] = d.label;
  });
  return { name, images, labels, shape: [3, size, size], classNames: classes };
}

/** Loads an image folder; without train/ and test/ (or val/) subfolders every 10th image per class is held out for testing. */
export async function loadImageFolder(
  root: string,
  size: number,
  warn: (msg: string) => void = (m) => process.stderr.write(`${m}\n`),
): Promise<DatasetSplits> {
  if (!existsSync(root) || !statSync(root).isDirectory())
    throw new Error(`image folder '${root}' does not exist (expected root/<class>/<image files>)`);
  const testDir = ['test', 'val'].map((d) => join(root, d)).find((d) => existsSync(d));
  if (existsSync(join(root, 'train')) && testDir) {
    const classes = classFolders(join(root, 'train'));
    return {
      train: await decodeSplit(join(root, 'train'), classes, size, `folder:${root}/train`, warn),
      test: await decodeSplit(testDir, classes, size, `folder:${root}/test`, warn),
    };
  }
  const classes = classFolders(root);
  if (classes.length === 0)
    throw new Error(`image folder '${root}' has no class subfolders (expected root/<class>/<image files>)`);
  const all = await decodeSplit(root, classes, size, `folder:${root}`, warn);
  const per = 3 * size * size,
    seen = new Map<number, number>();
  const isTest = Array.from(all.labels, (l) => {
    const k = seen.get(l) ?? 0;
    seen.set(l, k + 1);
    return k % 10 === 9;
  });
  const pick = (want: boolean, name: string): ImageDataset => {
    const idx = isTest.map((t, i) => (t === want ? i : -1)).filter((i) => i >= 0);
    const images = new Uint8Array(idx.length * per);
    for (const [j, src] of idx.entries()) images.set(all.images.subarray(src * per, (src + 1) * per), j * per);
    return { ...all, name, images, labels: Int32Array.from(idx, (i) => all.labels[i]) };
  };
  return { train: pick(false, `folder:${root}/train`), test: pick(true, `folder:${root}/test`) };
}
