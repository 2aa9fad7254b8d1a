#!/usr/bin/python3
"""PyTorch-written weights and inputs for the bf16/int8 accuracy check (bench/precision-accuracy.js):
torchvision's resnext50_32x4d as torchvision initialises it (seeded), or with --perturbed the
fixtures' random weights (scripts/make_fixtures.py's randomize: BN scales 1 ± 0.5, a harder case),
whose batch-norm statistics are then measured on the input distribution (train-mode passes,
cumulative average), so every layer sees normalised activations as a trained network's do; saved as
a .pth, with 64 calibration inputs and 64 different evaluation inputs as .npy.
Usage: precision_weights.py DIR [--perturbed]"""
import os
import sys

import numpy as np
import torch
from torch import nn
from torchvision.models import resnet as tv

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'scripts'))
from make_fixtures import randomize  # noqa: E402


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    torch.set_num_threads(2)
    gen = torch.Generator().manual_seed(16)
    torch.manual_seed(16)
    model = tv.resnext50_32x4d()
    if '--perturbed' in sys.argv[2:]:
        randomize(model, gen)
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            m.reset_running_stats()
            m.momentum = None  # cumulative average over the passes below
    model.train()
    with torch.no_grad():
        for _ in range(4):
            model(torch.randn(16, 3, 224, 224, generator=gen))
    torch.save(model.state_dict(), os.path.join(out, 'resnext50_32x4d.pth'))
    np.save(os.path.join(out, 'calibration.npy'), torch.randn(64, 3, 224, 224, generator=gen).numpy())
    np.save(os.path.join(out, 'inputs.npy'), torch.randn(64, 3, 224, 224, generator=gen).numpy())


if __name__ == '__main__':
    main()
