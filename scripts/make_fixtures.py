#!/usr/bin/python3
"""Writes the PyTorch fixtures the TypeScript tests compare against (run with Debian's python3-torch).

    /usr/bin/python3 scripts/make_fixtures.py                  # writes test/fixtures/* (about 90 s)
    /usr/bin/python3 scripts/make_fixtures.py --forward-only   # all but model-stats.json (seconds)
    /usr/bin/python3 scripts/make_fixtures.py --resnext50 DIR  # full-size resnext50_32x4d files (tests)

- model-stats.json: for every registered model, PyTorch's parameter count and torchinfo-rule
  mult-adds per image; for a few models the full torchinfo totals at batch 2.
- small_tutorial.safetensors / small_resnext.safetensors: a small ResNeXt's initial state dict
  (random weights, non-trivial BN statistics), an input, and PyTorch's outputs, losses, parameter
  gradients and updated BN buffers in train and eval mode.
"""
import json
import os
from collections import OrderedDict
import struct
import sys

import torch
from torch import nn
from torchvision.models import resnet as tv

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures')


# ---- the tutorial's architecture (same attribute names, so the same state-dict keys) ----
class TutorialBottleneck(nn.Module):
    expansion = 2

    def __init__(self, cin, inner, cardinality, stride=1, projection=None, stride_at='1x1'):
        super().__init__()
        s1, s3 = (stride, 1) if stride_at == '1x1' else (1, stride)
        self.residual = nn.Sequential(
            nn.Conv2d(cin, inner, 1, stride=s1, bias=False), nn.BatchNorm2d(inner), nn.ReLU(),
            nn.Conv2d(inner, inner, 3, stride=s3, padding=1, groups=cardinality, bias=False), nn.BatchNorm2d(inner), nn.ReLU(),
            nn.Conv2d(inner, inner * self.expansion, 1, bias=False), nn.BatchNorm2d(inner * self.expansion))
        self.relu = nn.ReLU()
        self.projection = projection

    def forward(self, x):
        skip = self.projection(x) if self.projection is not None else x
        return self.relu(self.residual(x) + skip)


class TutorialResNeXt(nn.Module):
    def __init__(self, blocks, cardinality, base_width=128, n_classes=1000, stride_at='1x1'):
        super().__init__()
        self.conv1 = nn.Sequential(nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False), nn.BatchNorm2d(64), nn.ReLU())
        self.maxpool = nn.MaxPool2d(3, stride=2, padding=1)
        self.cin = 64
        for i, n in enumerate(blocks):
            setattr(self, f'stage{i + 1}', self._stage(base_width * 2 ** i, n, 1 if i == 0 else 2, cardinality, stride_at))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(base_width * 8 * 2, n_classes)

    def _stage(self, inner, n, stride, cardinality, stride_at):
        out = inner * 2
        proj = None
        if self.cin != out or stride != 1:
            proj = nn.Sequential(nn.Conv2d(self.cin, out, 1, stride=stride, bias=False), nn.BatchNorm2d(out))
        layers = []
        for i in range(n):
            layers.append(TutorialBottleneck(self.cin, inner, cardinality, stride if i == 0 else 1, proj if i == 0 else None, stride_at))
            self.cin = out
        return nn.Sequential(*layers)

    def forward(self, x):
        x = self.maxpool(self.conv1(x))
        x = self.stage4(self.stage3(self.stage2(self.stage1(x))))
        return self.fc(torch.flatten(self.avgpool(x), 1))


class BlockResNet(nn.Module):
    """torchvision's Bottleneck blocks in a ResNet of any base width and stem: the CIFAR ResNeXt-29
    (paper section 5.3: 3x3 stem of 64, three stages, widths C x d) and small test networks."""

    def __init__(self, groups, width_per_group, layers=(3, 3, 3), num_classes=10, stem='cifar', base=64):
        super().__init__()
        if stem == 'cifar':
            self.conv1 = nn.Conv2d(3, base, 3, 1, 1, bias=False)
        else:
            self.conv1 = nn.Conv2d(3, base, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(base)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1) if stem == 'imagenet' else None
        cin = base
        self.stages = len(layers)
        for i, n in enumerate(layers):
            planes, stride = base * 2 ** i, 1 if i == 0 else 2
            out = planes * 4
            down = nn.Sequential(nn.Conv2d(cin, out, 1, stride, bias=False), nn.BatchNorm2d(out)) if stride != 1 or cin != out else None
            blocks = [tv.Bottleneck(cin, planes, stride, down, groups, width_per_group)]
            blocks += [tv.Bottleneck(out, planes, groups=groups, base_width=width_per_group) for _ in range(n - 1)]
            cin = out
            setattr(self, f'layer{i + 1}', nn.Sequential(*blocks))
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(cin, num_classes)

    def forward(self, x):
        x = self.relu(self.bn1(self.conv1(x)))
        if self.maxpool is not None:
            x = self.maxpool(x)
        for i in range(self.stages):
            x = getattr(self, f'layer{i + 1}')(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


R50, R101 = [3, 4, 6, 3], [3, 4, 23, 3]


def tv_resnet(block, layers, groups=1, wpg=64):
    return lambda: tv.ResNet(tv.BasicBlock if block == 'basic' else tv.Bottleneck, layers, groups=groups, width_per_group=wpg)


# name -> (constructor, input [C, H, W]); mirrors src/models/variants.ts
MODELS = {
    'resnext50': (lambda: TutorialResNeXt(R50, 32), (3, 224, 224)),
    'resnext101': (lambda: TutorialResNeXt(R101, 32), (3, 224, 224)),
    'resnext_tiny': (lambda: TutorialResNeXt([1, 1, 1, 1], 4, base_width=8), (3, 224, 224)),
    'resnet18': (tv.resnet18, (3, 224, 224)),
    'resnet34': (tv.resnet34, (3, 224, 224)),
    'resnet50': (tv.resnet50, (3, 224, 224)),
    'resnet101': (tv.resnet101, (3, 224, 224)),
    'resnet152': (tv.resnet152, (3, 224, 224)),
    'resnet200': (tv_resnet('bottleneck', [3, 24, 36, 3]), (3, 224, 224)),
    'resnext50_32x4d': (tv.resnext50_32x4d, (3, 224, 224)),
    'resnext101_32x8d': (tv.resnext101_32x8d, (3, 224, 224)),
    'resnext101_64x4d': (tv.resnext101_64x4d, (3, 224, 224)),
    'wide_resnet50_2': (tv.wide_resnet50_2, (3, 224, 224)),
    'wide_resnet101_2': (tv.wide_resnet101_2, (3, 224, 224)),
    'resnext50_1x64d': (tv_resnet('bottleneck', R50, 1, 64), (3, 224, 224)),
    'resnext50_2x40d': (tv_resnet('bottleneck', R50, 2, 40), (3, 224, 224)),
    'resnext50_4x24d': (tv_resnet('bottleneck', R50, 4, 24), (3, 224, 224)),
    'resnext50_8x14d': (tv_resnet('bottleneck', R50, 8, 14), (3, 224, 224)),
    'resnext101_1x64d': (tv_resnet('bottleneck', R101, 1, 64), (3, 224, 224)),
    'resnext101_2x40d': (tv_resnet('bottleneck', R101, 2, 40), (3, 224, 224)),
    'resnext101_4x24d': (tv_resnet('bottleneck', R101, 4, 24), (3, 224, 224)),
    'resnext101_8x14d': (tv_resnet('bottleneck', R101, 8, 14), (3, 224, 224)),
    'resnext101_32x4d': (tv_resnet('bottleneck', R101, 32, 4), (3, 224, 224)),
    'resnet101_1x100d': (tv_resnet('bottleneck', R101, 1, 100), (3, 224, 224)),
    'resnext101_2x64d': (tv_resnet('bottleneck', R101, 2, 64), (3, 224, 224)),
    'resnext29_8x64d': (lambda: BlockResNet(8, 64), (3, 32, 32)),
    'resnext29_16x64d': (lambda: BlockResNet(16, 64), (3, 32, 32)),
    'resnext_small': (lambda: BlockResNet(4, 16, layers=(1, 1, 1), base=16), (3, 32, 32)),
    'resnext_medium': (lambda: BlockResNet(8, 8, layers=(1, 1, 1), base=32), (3, 32, 32)),
}


def torchinfo_totals(model, input_size):
    """torchinfo's totals, from forward hooks on leaf modules (an independent implementation of its rules)."""
    stats = {'mult_adds': 0, 'fwd_bwd_bytes': 0, 'param_bytes': 0, 'params': 0}

    def hook(mod, _inp, out):
        n = sum(p.numel() for p in mod.parameters())
        if n == 0:
            return
        spatial = 1
        for d in out.shape[2:]:
            spatial *= d
        stats['mult_adds'] += n * out.shape[0] * (spatial if isinstance(mod, nn.Conv2d) else 1)
        stats['fwd_bwd_bytes'] += 2 * out.numel() * out.element_size()
        stats['param_bytes'] += 4 * n
        stats['params'] += n

    handles = [m.register_forward_hook(hook) for m in model.modules() if not any(m.children())]
    model.eval()
    with torch.no_grad():
        model(torch.zeros(*input_size))
    for h in handles:
        h.remove()
    return stats


def write_safetensors(path, tensors):
    """A minimal safetensors writer: u64 header length, JSON header, raw little-endian data."""
    dt = {torch.float32: 'F32', torch.float64: 'F64', torch.int64: 'I64'}
    tensors = {k: v for k, v in tensors.items()}
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().contiguous().cpu()
        data = t.numpy().tobytes()
        header[name] = {'dtype': dt[t.dtype], 'shape': list(t.shape), 'data_offsets': [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    head = json.dumps(header, separators=(',', ':')).encode()
    head += b' ' * (-len(head) % 8)
    tmp = path + '.tmp'
    with open(tmp, 'wb') as f:
        f.write(struct.pack('<Q', len(head)) + head + b''.join(blobs))
    os.replace(tmp, path)


def randomize(model, gen):
    """Non-trivial weights and BN statistics, so every term of every gradient rule matters."""
    with torch.no_grad():
        for name, p in model.named_parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * (0.5 if p.ndim == 1 else (2.0 / p[0].numel()) ** 0.5))
            if p.ndim == 1 and name.endswith('weight'):  # BN scales around 1
                p.add_(1.0)
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
                m.num_batches_tracked.fill_(3)


def pass_fixture(prefix, model, x, target, smoothing, out):
    model.zero_grad()
    y = model(x)
    loss = nn.functional.cross_entropy(y, target, label_smoothing=smoothing)
    loss.backward()
    # clone: zero_grad() and load_state_dict() later overwrite these tensors in place
    out[f'{prefix}.output'] = y.detach().clone()
    out[f'{prefix}.loss'] = loss.detach().reshape([]).clone()
    for name, p in model.named_parameters():
        out[f'{prefix}.grad.{name}'] = p.grad.clone()
    for name, b in model.named_buffers():
        out[f'{prefix}.buffer.{name}'] = b.clone()


def forward_fixture(path, make):
    gen = torch.Generator().manual_seed(1234)
    model = make()
    randomize(model, gen)
    out = {f'state.{k}': v.clone() for k, v in model.state_dict().items()}
    # 64x64 so the last stage's BN sees 2x2x2 values per channel: with 2 values x̂ = ±1 exactly,
    # its true input gradient is 0 and both sides would compare float32 round-off noise.
    x = torch.randn(2, 3, 64, 64, generator=gen)
    target = torch.tensor([1, 3])
    out['input'], out['target'] = x, target
    initial = {k: v.clone() for k, v in model.state_dict().items()}
    model.train()
    pass_fixture('train', model, x, target, 0.1, out)
    model.load_state_dict(initial)
    model.eval()
    pass_fixture('eval', model, x, target, 0.0, out)
    write_safetensors(path, out)


def write_resnext50_fixture(out_dir):
    """torchvision's resnext50_32x4d with seeded random weights and BN statistics, saved as zip and
    legacy .pth, with a 224x224 input and its eval-mode logits (too large to commit: the tests
    generate it when python3-torch is installed)."""
    os.makedirs(out_dir, exist_ok=True)
    save_model_files(tv.resnext50_32x4d(), torch.Generator().manual_seed(50), (1, 3, 224, 224), out_dir, 'resnext50_32x4d')


def main():
    os.makedirs(OUT, exist_ok=True)
    if sys.argv[1:2] == ['--resnext50']:
        return write_resnext50_fixture(sys.argv[2])
    if sys.argv[1:] == ['--forward-only']:
        write_optimizer_fixtures()
        write_image_fixtures()
        write_checkpoint_fixtures()
        return write_forward_fixtures()
    torch.manual_seed(0)
    stats = {'torch': torch.__version__, 'models': {}, 'summaries': {}}
    for name, (make, size) in MODELS.items():
        model = make()
        t = torchinfo_totals(model, (1,) + size)
        stats['models'][name] = {'params': sum(p.numel() for p in model.parameters()), 'multAddsPerImage': t['mult_adds']}
        print(f'{name:20s} {stats["models"][name]["params"]:>12,d} params {t["mult_adds"] / 1e9:7.2f} GMACs', file=sys.stderr)
    for name, size in [('resnext50', (2, 3, 224, 224)), ('resnext50_32x4d', (2, 3, 224, 224)), ('resnext29_8x64d', (2, 3, 32, 32))]:
        stats['summaries'][name] = {'inputSize': list(size), **torchinfo_totals(MODELS[name][0](), size)}
    stats['summaries']['resnext50@3x3'] = {'inputSize': [2, 3, 224, 224], **torchinfo_totals(TutorialResNeXt(R50, 32, stride_at='3x3'), (2, 3, 224, 224))}
    with open(os.path.join(OUT, 'model-stats.json.tmp'), 'w') as f:
        json.dump(stats, f, indent=1)
    os.replace(os.path.join(OUT, 'model-stats.json.tmp'), os.path.join(OUT, 'model-stats.json'))
    write_checkpoint_fixtures()
    write_forward_fixtures()


def save_model_files(model, gen, input_shape, out_dir, stem):
    """Randomises `model`, then writes <stem>.pth (zip), <stem>.legacy.pth, <stem>.input.npy and
    <stem>.logits.npy (its eval-mode output for that input)."""
    import numpy as np
    randomize(model, gen)
    model.eval()
    x = torch.randn(*input_shape, generator=gen)
    with torch.no_grad():
        logits = model(x)
    torch.save(model.state_dict(), os.path.join(out_dir, stem + '.pth'))
    torch.save(model.state_dict(), os.path.join(out_dir, stem + '.legacy.pth'), _use_new_zipfile_serialization=False)
    np.save(os.path.join(out_dir, stem + '.input.npy'), x.numpy())
    np.save(os.path.join(out_dir, stem + '.logits.npy'), logits.numpy())
    return model


def write_checkpoint_fixtures():
    """The small tutorial model's state dict as torch.save zip and legacy files, its input and
    eval-mode logits as .npy, plus checkpoints with views, shared storages and nesting."""
    model = save_model_files(TutorialResNeXt([1, 1, 1, 1], 4, base_width=8, n_classes=5), torch.Generator().manual_seed(1234), (2, 3, 64, 64), OUT, 'small_tutorial')
    write_safetensors(os.path.join(OUT, 'small_tutorial.weights.safetensors'), model.state_dict())
    base = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    views = {'base': base, 'row_slice': base[1:3], 'transposed': base.t(), 'column': base[:, 2],
             'double': torch.linspace(-1, 1, 5, dtype=torch.float64), 'half': torch.tensor([0.5, -2.0, 65504.0], dtype=torch.float16),
             'long': torch.tensor([3, -7, 2 ** 40])}
    torch.save(views, os.path.join(OUT, 'views.pth'))
    torch.save(views, os.path.join(OUT, 'views.legacy.pth'), _use_new_zipfile_serialization=False)
    write_safetensors(os.path.join(OUT, 'views.expected.safetensors'),
                      {k: (v.float() if v.dtype == torch.float16 else v).contiguous() for k, v in views.items()})
    torch.manual_seed(0)
    small = nn.Sequential(nn.Conv2d(2, 3, 1), nn.BatchNorm2d(3))
    nested = {'epoch': 3, 'optimizer': {'lr': 0.1}, 'state_dict': OrderedDict(('module.' + k, v) for k, v in small.state_dict().items())}
    torch.save(nested, os.path.join(OUT, 'nested.pth'))
    write_safetensors(os.path.join(OUT, 'nested.expected.safetensors'), small.state_dict())


def write_image_fixtures():
    """Synthetic images and torchvision's ImageNet preprocessing of them (PIL decoding and resizing)."""
    import numpy as np
    from PIL import Image
    from torchvision import transforms
    pre = transforms.Compose([transforms.Resize(256), transforms.CenterCrop(224), transforms.ToTensor(),
                              transforms.Normalize([0.485, 0.456, 0.406], [0.229, 0.224, 0.225])])
    for name, (w, h) in [('pattern_320x256', (320, 256)), ('pattern_400x300', (400, 300))]:
        y, x = np.mgrid[0:h, 0:w]
        rgb = np.stack([(x * 255 // (w - 1)), (y * 255 // (h - 1)), ((x // 16 + y // 16) % 2) * 200 + 20], axis=-1).astype(np.uint8)
        img = Image.fromarray(rgb, 'RGB')
        img.save(os.path.join(OUT, name + '.png'))
        np.save(os.path.join(OUT, name + '.expected.npy'), pre(img).numpy())


def write_optimizer_fixtures():
    """Three steps of torch.optim.SGD (momentum, Nesterov, dampening, weight decay) and AdamW."""
    gen = torch.Generator().manual_seed(7)
    p0 = torch.randn(5, 3, generator=gen)
    grads = [torch.randn(5, 3, generator=gen) for _ in range(3)]
    out = {'p0': p0}
    for i, g in enumerate(grads):
        out[f'grad{i}'] = g
    configs = {
        'sgd_nesterov': lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-2),
        'sgd_dampening': lambda p: torch.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.1),
        'sgd_plain': lambda p: torch.optim.SGD([p], lr=0.1, weight_decay=1e-2),
        'adamw': lambda p: torch.optim.AdamW([p], lr=1e-2, weight_decay=0.05),
    }
    for name, make in configs.items():
        p = torch.nn.Parameter(p0.clone())
        opt = make(p)
        for i, g in enumerate(grads):
            p.grad = g.clone()
            opt.step()
            out[f'{name}.step{i}'] = p.detach().clone()
    write_safetensors(os.path.join(OUT, 'optim.safetensors'), out)


def write_forward_fixtures():
    forward_fixture(os.path.join(OUT, 'small_tutorial.safetensors'), lambda: TutorialResNeXt([1, 1, 1, 1], 4, base_width=8, n_classes=5))
    forward_fixture(os.path.join(OUT, 'small_resnext.safetensors'),
                    lambda: BlockResNet(4, 8, layers=(1, 1, 1, 1), num_classes=5, stem='imagenet', base=8))


if __name__ == '__main__':
    main()
