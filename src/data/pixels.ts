// torchvision's evaluation preprocessing on decoded pixels, the same in Node and in browsers:
// Resize (Pillow's bilinear resampling, reproduced to the bit: 22-bit fixed-point coefficients, a
// horizontal then a vertical pass), CenterCrop (Python's round), greyscale by Pillow's convert('L')
// and ToTensor + Normalize. Decoding stays with the platform (sharp in Node, canvas in browsers).

/** Preprocessing parameters (torchvision's ImageNet evaluation transform by default). */
export interface ImagePreprocessing {
  /** 3 for RGB (the default), 1 for greyscale (e.g. Fashion-MNIST). */
  channels?: 1 | 3;
  resize: number;
  crop: number;
  mean: readonly number[];
  std: readonly number[];
}

/** torchvision's Resize(256) → CenterCrop(224) → ToTensor → Normalize(ImageNet mean, std). */
export const IMAGENET_PREPROCESSING: ImagePreprocessing = {
  resize: 256,
  crop: 224,
  mean: [0.485, 0.456, 0.406],
  std: [0.229, 0.224, 0.225],
};

/** Decoded pixels, interleaved (row-major, `channels` bytes per pixel: 1 grey, 3 RGB, 4 RGBA). */
export interface Pixels {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: number;
}

/** Pillow's fixed-point precision for 8-bit images: 32 bits − 8 for the value − 2 for overshoot. */
const PRECISION_BITS = 22;

/** Python's round(): halves go to the even neighbour (torchvision's center-crop offsets use it). */
function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * Pillow's bilinear filter taps for resampling `inSize` samples to `outSize`: per output sample the
 * first input index, the tap count and fixed-point weights (support widened by the scale when
 * shrinking, so a downscale averages like Pillow's, not like a two-tap interpolation).
 */
function bilinearTaps(
  inSize: number,
  outSize: number,
): { first: Int32Array; count: Int32Array; weights: Int32Array[] } {
  const scale = inSize / outSize,
    filterScale = Math.max(scale, 1),
    support = filterScale;
  const first = new Int32Array(outSize),
    count = new Int32Array(outSize),
    weights: Int32Array[] = [];
  for (let o = 0; o < outSize; o++) {
    const center = (o + 0.5) * scale;
    // C's (int) cast truncates; the operands are positive except near the start, where it clamps to 0
    const lo = Math.max(Math.trunc(center - support + 0.5), 0);
    const hi = Math.min(Math.trunc(center + support + 0.5), inSize);
    const w: number[] = [];
    let sum = 0;
    for (let i = lo; i < hi; i++) {
      const t = Math.abs((i - center + 0.5) / filterScale);
      const v = t < 1 ? 1 - t : 0;
      w.push(v);
      sum += v;
    }
    const fixed = new Int32Array(w.length);
    for (let i = 0; i < w.length; i++) {
      const v = sum !== 0 ? w[i] / sum : w[i];
      fixed[i] = Math.trunc(v < 0 ? -0.5 + v * 2 ** PRECISION_BITS : 0.5 + v * 2 ** PRECISION_BITS);
    }
    first[o] = lo;
    count[o] = hi - lo;
    weights.push(fixed);
  }
  return { first, count, weights };
}

/** A fixed-point accumulator back to a byte, as Pillow's clip8. */
function clip8(acc: number): number {
  const v = acc >> PRECISION_BITS;
  return Math.min(Math.max(v, 0), 255);
}

/** One resampling pass along rows (`horizontal`) or columns, as Pillow's ImagingResample{Horizontal,Vertical}_8bpc. */
function resamplePass(src: Pixels, outW: number, outH: number, horizontal: boolean): Pixels {
  const { width, channels: ch } = src;
  const taps = bilinearTaps(horizontal ? width : src.height, horizontal ? outW : outH);
  const out = new Uint8Array(outW * outH * ch);
  const half = 1 << (PRECISION_BITS - 1);
  for (let y = 0; y < outH; y++)
    for (let x = 0; x < outW; x++) {
      const o = horizontal ? x : y,
        w = taps.weights[o],
        n = taps.count[o],
        start = taps.first[o];
      for (let c = 0; c < ch; c++) {
        let acc = half;
        for (let k = 0; k < n; k++) {
          const sx = horizontal ? start + k : x,
            sy = horizontal ? y : start + k;
          acc += src.data[(sy * width + sx) * ch + c] * w[k];
        }
        out[(y * outW + x) * ch + c] = clip8(acc);
      }
    }
  return { data: out, width: outW, height: outH, channels: ch };
}

/** Pillow's Image.resize(size, BILINEAR) of an 8-bit image (no reducing_gap, as torchvision calls it). */
export function resizeBilinear(src: Pixels, width: number, height: number): Pixels {
  let img = src;
  if (width !== img.width) img = resamplePass(img, width, img.height, true);
  if (height !== img.height) img = resamplePass(img, width, height, false);
  return img;
}

/**
 * Pixels of any channel count as `channels` planes: RGB(A) → greyscale by Pillow's convert('L')
 * (ITU-R 601-2 luma in 16-bit fixed point), grey → RGB by repetition; alpha is dropped.
 */
export function toChannels(src: Pixels, channels: 1 | 3): Pixels {
  const n = src.width * src.height,
    inCh = src.channels,
    out = new Uint8Array(n * channels);
  if (inCh < 1 || inCh > 4) throw new Error(`image pixels: ${inCh} channels, expected 1 to 4`);
  const grey = inCh <= 2;
  for (let i = 0; i < n; i++) {
    const p = i * inCh;
    if (channels === 3) {
      for (let c = 0; c < 3; c++) out[i * 3 + c] = src.data[grey ? p : p + c];
    } else {
      out[i] = grey
        ? src.data[p]
        : (src.data[p] * 19595 + src.data[p + 1] * 38470 + src.data[p + 2] * 7471 + 0x8000) >>> 16;
    }
  }
  return { data: out, width: src.width, height: src.height, channels };
}

/**
 * PIL's convert('RGB' | 'L') → torchvision's Resize(resize) → CenterCrop(crop) on decoded pixels: the shorter side becomes
 * `resize`, the longer int(resize · long / short); returns `channels` × crop × crop bytes in CHW
 * order. `source` names the image in errors.
 */
export function resizeAndCrop(
  src: Pixels,
  p: Pick<ImagePreprocessing, 'resize' | 'crop' | 'channels'>,
  source: string,
): Uint8Array {
  const channels = p.channels ?? 3;
  const { width, height } = src;
  if (width < 1 || height < 1) throw new Error(`${source}: image has no pixels`);
  const [w, h] =
    width <= height
      ? [p.resize, Math.floor((p.resize * height) / width)]
      : [Math.floor((p.resize * width) / height), p.resize];
  if (w < p.crop || h < p.crop)
    throw new Error(`${source}: resized image ${w}x${h} is smaller than the ${p.crop}x${p.crop} crop`);
  // as PIL: convert('RGB' or 'L') first; torchvision leaves an image whose shorter side already has the size as it is
  const converted = toChannels(src, channels);
  const img = Math.min(width, height) === p.resize ? converted : resizeBilinear(converted, w, h);
  const left = roundHalfEven((img.width - p.crop) / 2),
    top = roundHalfEven((img.height - p.crop) / 2);
  const hw = p.crop * p.crop,
    chw = new Uint8Array(channels * hw);
  for (let y = 0; y < p.crop; y++)
    for (let x = 0; x < p.crop; x++) {
      const s = ((top + y) * img.width + left + x) * channels;
      for (let c = 0; c < channels; c++) chw[c * hw + y * p.crop + x] = img.data[s + c];
    }
  return chw;
}

/** ToTensor + Normalize: CHW bytes → (x/255 − mean)/std per channel, as float32. */
export function normalizePixels(chw: Uint8Array, p: ImagePreprocessing): Float32Array {
  const channels = p.channels ?? 3;
  if (p.mean.length !== channels || p.std.length !== channels)
    throw new Error(`image preprocessing: ${channels} channels need ${channels} means and stds`);
  const hw = chw.length / channels,
    out = new Float32Array(chw.length);
  for (let c = 0; c < channels; c++)
    for (let i = 0; i < hw; i++) out[c * hw + i] = (chw[c * hw + i] / 255 - p.mean[c]) / p.std[c];
  return out;
}
