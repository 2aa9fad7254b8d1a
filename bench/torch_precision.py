#!/usr/bin/python3
"""PyTorch's own bf16 (CPU autocast, channels_last) and int8 (torchvision's quantizable ResNeXt,
fuse_model/prepare/convert, onednn engine, calibrated on calibration.npy) logits against PyTorch
float32 on the weights and inputs bench/precision_weights.py wrote to DIR: cosine similarity, lowest
per-image cosine, top-1 agreement. Prints one JSON line. Usage: torch_precision.py DIR"""
import json
import os
import sys

import numpy as np
import torch
from torchvision.models import resnet as tv
from torchvision.models.quantization import resnet as qtv


def compare(ref, y):
    ref, y = ref.double(), y.double()
    rows = (ref * y).sum(1) / ref.norm(dim=1) / y.norm(dim=1)
    return {'cosine': float((ref * y).sum() / ref.norm() / y.norm()), 'minRow': float(rows.min()),
            'agree': int((ref.argmax(1) == y.argmax(1)).sum()), 'n': ref.shape[0]}


def batched(model, x, fmt=torch.contiguous_format):
    # batches of 8: the onednn engine's quantized grouped conv fails on some larger batches in 1.13
    with torch.no_grad():
        return torch.cat([model(x[i:i + 8].to(memory_format=fmt)) for i in range(0, x.shape[0], 8)])


def main():
    d = sys.argv[1]
    torch.set_num_threads(2)
    state = torch.load(os.path.join(d, 'resnext50_32x4d.pth'))
    x = torch.from_numpy(np.load(os.path.join(d, 'inputs.npy')))
    calib = torch.from_numpy(np.load(os.path.join(d, 'calibration.npy')))
    model = tv.resnext50_32x4d()
    model.load_state_dict(state)
    model.eval()
    fp32 = batched(model, x)
    model = model.to(memory_format=torch.channels_last)
    with torch.autocast('cpu', dtype=torch.bfloat16):
        bf16 = batched(model, x, torch.channels_last).float()
    torch.backends.quantized.engine = 'onednn'
    q = qtv.QuantizableResNet(qtv.QuantizableBottleneck, [3, 4, 6, 3], groups=32, width_per_group=4)
    q.load_state_dict(state)
    q.eval()
    q.fuse_model()
    q.qconfig = torch.ao.quantization.get_default_qconfig('onednn')
    torch.ao.quantization.prepare(q, inplace=True)
    batched(q, calib)
    q = torch.ao.quantization.convert(q)
    print(json.dumps({'bf16': compare(fp32, bf16), 'int8': compare(fp32, batched(q, x))}))


if __name__ == '__main__':
    main()
