"""The hand-written PyTorch peer of `fashion_mnist_94` on a GPU (benchmark only; never imports Keras).

What a person would write in ~60 lines for speed: the whole training set on
the GPU, flips and 2-px pad-and-crop done on the GPU for a whole batch at once
(airbench's way), bf16 autocast, channels_last. Same recipe as the preset
(`versus.py`'s `torch_peer`, which runs on the CPU): 32-64-128 filters, two
bias-free 3x3 conv-BN-ReLU per stage, max-pool, GAP, dense; Nesterov SGD with
Keras's decoupled weight decay, one-cycle (pct 0.25), label smoothing 0.1,
batch 256, 15 epochs. Prints one JSON line per epoch (cumulative training
seconds, the first epoch's compile/warm-up included, and test accuracy) and a
last line with single and flip-TTA accuracy.

    python benchmarks/torch_peer_gpu.py DATA_DIR [--epochs 15] [--seed 0]
"""

import argparse
import gzip
import json
import os
import time

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F


def idx(path):
    with gzip.open(path) as f:
        data = f.read()
    dims = data[3]
    shape = [int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(dims)]
    return np.frombuffer(data, np.uint8, offset=4 + 4 * dims).reshape(shape)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("data")
    parser.add_argument("--epochs", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    dev = torch.device("cuda")
    load = lambda name: idx(os.path.join(args.data, name))
    x = torch.tensor(load("train-images-idx3-ubyte.gz"), device=dev)[:, None].float().div_(255)
    y = torch.tensor(load("train-labels-idx1-ubyte.gz").astype(np.int64), device=dev)
    x_test = torch.tensor(load("t10k-images-idx3-ubyte.gz"), device=dev)[:, None].float().div_(255)
    y_test = torch.tensor(load("t10k-labels-idx1-ubyte.gz").astype(np.int64), device=dev)
    x = x.contiguous(memory_format=torch.channels_last)
    x_test = x_test.contiguous(memory_format=torch.channels_last)

    layers, cin = [], 1
    for filters in (32, 64, 128):
        for _ in range(2):
            conv = nn.Conv2d(cin, filters, 3, padding=1, bias=False)
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            layers += [conv, nn.BatchNorm2d(filters, eps=1e-3, momentum=0.1), nn.ReLU(inplace=True)]
            cin = filters
        layers.append(nn.MaxPool2d(2))
    model = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, 10))
    model = model.to(dev, memory_format=torch.channels_last)
    batch, epochs = 256, args.epochs
    steps = -(-len(x) // batch)
    lr = 0.2
    opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=lr, total_steps=epochs * steps, pct_start=0.25,
                                                anneal_strategy="cos", div_factor=25.0, final_div_factor=1e4,
                                                cycle_momentum=False)
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    rows = torch.arange(28, device=dev)

    def augment(xb):
        n = len(xb)
        flip = torch.rand(n, device=dev) < 0.5
        xb = torch.where(flip[:, None, None, None], xb.flip(3), xb)
        padded = F.pad(xb, (2, 2, 2, 2))
        dy = torch.randint(0, 5, (n,), device=dev)
        dx = torch.randint(0, 5, (n,), device=dev)
        r = (rows[None, :] + dy[:, None])[:, None, :, None].expand(n, 1, 28, 32)
        out = padded.gather(2, r)
        c = (rows[None, :] + dx[:, None])[:, None, None, :].expand(n, 1, 28, 28)
        return out.gather(3, c)

    def accuracy(tta=False):
        model.eval()
        with torch.no_grad(), torch.autocast("cuda", torch.bfloat16):
            probs = torch.cat([model(x_test[i:i + 2048]).float().softmax(1) for i in range(0, len(x_test), 2048)])
            if tta:
                probs = probs + torch.cat([model(x_test[i:i + 2048].flip(3)).float().softmax(1)
                                           for i in range(0, len(x_test), 2048)])
        model.train()
        return float((probs.argmax(1) == y_test).float().mean())

    train_s = 0.0
    for epoch in range(epochs):
        torch.cuda.synchronize()
        start = time.perf_counter()
        order = torch.randperm(len(x), device=dev)
        for i in range(steps):
            idx_ = order[i * batch:(i + 1) * batch]
            xb, yb = augment(x[idx_]), y[idx_]
            with torch.no_grad():  # Keras's decoupled weight decay, at this step's LR
                step_lr = opt.param_groups[0]["lr"]
                torch._foreach_mul_(list(model.parameters()), 1.0 - step_lr * 5e-4)
            opt.zero_grad(set_to_none=True)
            with torch.autocast("cuda", torch.bfloat16):
                loss = loss_fn(model(xb), yb)
            loss.backward()
            opt.step()
            sched.step()
        torch.cuda.synchronize()
        train_s += time.perf_counter() - start
        print(json.dumps({"epoch": epoch + 1, "train_s": round(train_s, 2), "test_acc": accuracy()}), flush=True)
    print(json.dumps({"final": True, "single": accuracy(), "flips": accuracy(tta=True), "train_s": round(train_s, 2)}),
          flush=True)


if __name__ == "__main__":
    main()
