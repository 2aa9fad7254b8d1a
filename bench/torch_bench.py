#!/usr/bin/python3
"""PyTorch 1.13 eager (NCHW or channels_last) or TorchScript timing of one of our registered models,
built as scripts/make_fixtures.py builds it for the fixtures (the tutorial's ResNeXt-50, torchvision's
ResNets/ResNeXts, the CIFAR-style ones): inference, or a training step (forward, cross-entropy,
backward, SGD with momentum). Prints one JSON line. Also exports a model to ONNX for onnxruntime (--export)."""
import argparse
import json
import os
import resource
import sys
import time

import torch
from torch import nn
from torchvision.models import resnet as tv

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'scripts'))
from make_fixtures import MODELS  # noqa: E402  every registered model, as the fixtures build it


def build(name, channels):
    """The model with a stem for `channels` input channels (Fashion-MNIST: 1), as ours builds it."""
    model = MODELS[name][0]()
    if channels != 3:
        path, stem = next((n, m) for n, m in model.named_modules() if isinstance(m, nn.Conv2d))
        parent, _, attr = path.rpartition('.')
        setattr(model.get_submodule(parent), attr,
                nn.Conv2d(channels, stem.out_channels, stem.kernel_size, stem.stride, stem.padding, bias=stem.bias is not None))
    return model


def quantized(name, x):
    """torchvision's int8 recipe for a ResNet/ResNeXt of our registry's shape: QuantizableResNet with
    the same blocks, groups and width, fuse_model(), prepare with the onednn engine's default qconfig,
    calibration on `x` (the benchmark input, as ours calibrates), convert."""
    from torchvision.models.quantization import resnet as qtv
    shapes = {'resnext50_32x4d': ([3, 4, 6, 3], 32, 4), 'resnext101_32x8d': ([3, 4, 23, 3], 32, 8), 'resnet50': ([3, 4, 6, 3], 1, 64)}
    if name not in shapes:
        raise SystemExit(f'torch_bench: --precision int8 builds torchvision layouts only: {", ".join(shapes)}')
    layers, groups, width = shapes[name]
    torch.backends.quantized.engine = 'onednn'
    model = qtv.QuantizableResNet(qtv.QuantizableBottleneck, layers, groups=groups, width_per_group=width).eval()
    model.fuse_model()
    model.qconfig = torch.ao.quantization.get_default_qconfig('onednn')
    torch.ao.quantization.prepare(model, inplace=True)
    with torch.no_grad():
        model(x)
    return torch.ao.quantization.convert(model)


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--model', default='resnext50')
    p.add_argument('--batch', type=int, default=8)
    p.add_argument('--input', help='C,H,W of one image (default: the model\'s native size)')
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--steps', type=int, default=10)
    p.add_argument('--warmup', type=int, default=2)
    p.add_argument('--train', action='store_true')
    p.add_argument('--channels-last', action='store_true')
    p.add_argument('--jit', action='store_true', help='TorchScript frozen + optimize_for_inference (inference only)')
    p.add_argument('--export', help='write the model as ONNX (opset 13, dynamic batch) to this path and exit')
    p.add_argument('--precision', choices=['fp32', 'bf16', 'int8'], default='fp32',
                   help='bf16: CPU autocast (inference); int8: torchvision\'s quantizable ResNet with the same '
                        'groups and width, fuse_model/prepare/convert on the onednn engine, calibrated on the input')
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    if a.model not in MODELS:
        raise SystemExit(f'torch_bench: unknown model {a.model!r}; choose from {", ".join(MODELS)}')
    chw = [int(v) for v in a.input.split(',')] if a.input else list(MODELS[a.model][1])
    model = build(a.model, chw[0])
    if a.export:
        model.eval()
        torch.onnx.export(model, torch.randn(1, *chw), a.export, opset_version=13, input_names=['input'], output_names=['output'],
                          dynamic_axes={'input': {0: 'batch'}, 'output': {0: 'batch'}})
        return
    fmt = torch.channels_last if a.channels_last else torch.contiguous_format
    model = model.to(memory_format=fmt)
    x = torch.randn(a.batch, *chw).to(memory_format=fmt)
    y = torch.arange(a.batch) % model.fc.out_features
    if a.train:
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=1e-4)
        loss_fn = nn.CrossEntropyLoss()

        def step():
            opt.zero_grad()
            loss_fn(model(x), y).backward()
            opt.step()
    elif a.precision == 'int8':
        model = quantized(a.model, x)

        def step():
            with torch.no_grad():
                model(x)
    elif a.precision == 'bf16':
        model.eval()

        def step():
            with torch.no_grad(), torch.autocast('cpu', dtype=torch.bfloat16):
                model(x)
    else:
        model.eval()
        if a.jit:
            with torch.no_grad():
                model = torch.jit.optimize_for_inference(torch.jit.freeze(torch.jit.script(model)))

        def step():
            with torch.no_grad():
                model(x)
    for _ in range(a.warmup):
        step()
    times = []
    for _ in range(a.steps):
        t = time.perf_counter()
        step()
        times.append((time.perf_counter() - t) * 1000)
    times.sort()
    med = times[len(times) // 2]
    # peak resident memory of the process (Linux reports ru_maxrss in KiB), warm-up included
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({'medianMs': med, 'minMs': times[0], 'maxMs': times[-1], 'imagesPerSecond': 1000 * a.batch / med,
                      'peakRssMiB': peak, 'torch': torch.__version__}))


if __name__ == '__main__':
    main()
