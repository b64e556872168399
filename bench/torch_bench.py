"""PyTorch reference for `deno task bench`: training images/s of the same models (same
layers, widths and input sizes as lib/models/), batch 128, Adam, cross-entropy, on random
inputs, on this CPU. Run by bench/train_bench.ts when python3 can import torch
(Debian: apt-get install python3-torch libopenblas0); it sets OPENBLAS_NUM_THREADS=1 and
this script sets torch's thread count (default: all cores), PyTorch's best setting here.

    python3 bench/torch_bench.py --models lenet@28,alexnet@224 [--batch 128] [--seconds 10] [--threads 2]
    python3 bench/torch_bench.py --graph g.json --label q3b/googlenet --size 48 [--batch 128]

--graph builds the network from a layer graph that bench/model_graph.ts wrote (any zoo model
and configuration: the report's own widths and sizes); --models uses the hand-written twins.

Prints one JSON object per model: {model, size, batch, steps, seconds, trainImagesPerSecond,
peakRssMB, torch, threads}. Unknown models print {model, size, error}.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
from torch import nn


def peak_rss_mb():
    """This process's own peak RSS (VmHWM): getrusage's maxrss keeps the spawning parent's peak
    across exec (lib/util/memory.ts says how), which would count the bench's parent in."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def lenet(n):
    return nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.Sigmoid(), nn.AvgPool2d(2, 2),
        nn.Conv2d(6, 16, 5), nn.Sigmoid(), nn.AvgPool2d(2, 2), nn.Flatten(),
        nn.LazyLinear(120), nn.Sigmoid(), nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))


def alexnet(n, fc2=True, conv4=True):
    layers = [
        nn.Conv2d(1, 96, 11, stride=4, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(96, 256, 5, padding=2), nn.ReLU(), nn.MaxPool2d(3, 2),
        nn.Conv2d(256, 384, 3, padding=1), nn.ReLU()]
    if conv4:
        layers += [nn.Conv2d(384, 384, 3, padding=1), nn.ReLU()]
    layers += [nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2), nn.Flatten(),
               nn.LazyLinear(4096), nn.ReLU(), nn.Dropout(0.5)]
    if fc2:
        layers += [nn.Linear(4096, 4096), nn.ReLU(), nn.Dropout(0.5)]
    layers += [nn.Linear(4096, 10)]
    return nn.Sequential(*layers)


def vgg(n, ratio=8):
    arch = [(1, 64), (1, 128), (2, 256), (2, 512), (2, 512)]
    layers, cin = [], 1
    for convs, c in arch:
        c //= ratio
        for _ in range(convs):
            layers += [nn.Conv2d(cin, c, 3, padding=1), nn.ReLU()]
            cin = c
        layers += [nn.MaxPool2d(2, 2)]
    d = 4096 // ratio
    layers += [nn.Flatten(), nn.LazyLinear(d), nn.ReLU(), nn.Dropout(0.5), nn.Linear(d, d), nn.ReLU(),
               nn.Dropout(0.5), nn.Linear(d, 10)]
    return nn.Sequential(*layers)


def nin_block(cin, c, k, s, p):
    return [nn.Conv2d(cin, c, k, s, p), nn.ReLU(), nn.Conv2d(c, c, 1), nn.ReLU(), nn.Conv2d(c, c, 1), nn.ReLU()]


def nin(n):
    return nn.Sequential(
        *nin_block(1, 96, 11, 4, 0), nn.MaxPool2d(3, 2), *nin_block(96, 256, 5, 1, 2), nn.MaxPool2d(3, 2),
        *nin_block(256, 384, 3, 1, 1), nn.MaxPool2d(3, 2), nn.Dropout(0.5), *nin_block(384, 10, 3, 1, 1),
        nn.AdaptiveAvgPool2d(1), nn.Flatten())


class Inception(nn.Module):
    def __init__(self, cin, c1, c2, c3, c4):
        super().__init__()
        self.p1 = nn.Sequential(nn.Conv2d(cin, c1, 1), nn.ReLU())
        self.p2 = nn.Sequential(nn.Conv2d(cin, c2[0], 1), nn.ReLU(), nn.Conv2d(c2[0], c2[1], 3, padding=1), nn.ReLU())
        self.p3 = nn.Sequential(nn.Conv2d(cin, c3[0], 1), nn.ReLU(), nn.Conv2d(c3[0], c3[1], 5, padding=2), nn.ReLU())
        self.p4 = nn.Sequential(nn.MaxPool2d(3, 1, 1), nn.Conv2d(cin, c4, 1), nn.ReLU())

    def forward(self, x):
        return torch.cat([self.p1(x), self.p2(x), self.p3(x), self.p4(x)], 1)


def googlenet(n):
    return nn.Sequential(
        nn.Conv2d(1, 64, 7, 2, 3), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
        nn.Conv2d(64, 64, 1), nn.ReLU(), nn.Conv2d(64, 192, 3, padding=1), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
        Inception(192, 64, (96, 128), (16, 32), 32), Inception(256, 128, (128, 192), (32, 96), 64),
        nn.MaxPool2d(3, 2, 1),
        Inception(480, 192, (96, 208), (16, 48), 64), Inception(512, 160, (112, 224), (24, 64), 64),
        Inception(512, 128, (128, 256), (24, 64), 64), Inception(512, 112, (144, 288), (32, 64), 64),
        Inception(528, 256, (160, 320), (32, 128), 128), nn.MaxPool2d(3, 2, 1),
        Inception(832, 256, (160, 320), (32, 128), 128), Inception(832, 384, (192, 384), (48, 128), 128),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(1024, 10))


class Residual(nn.Module):
    def __init__(self, cin, c, project, stride):
        super().__init__()
        self.c1 = nn.Conv2d(cin, c, 3, stride, 1)
        self.c2 = nn.Conv2d(c, c, 3, 1, 1)
        self.c3 = nn.Conv2d(cin, c, 1, stride) if project else None
        self.b1, self.b2 = nn.BatchNorm2d(c), nn.BatchNorm2d(c)

    def forward(self, x):
        y = torch.relu(self.b1(self.c1(x)))
        y = self.b2(self.c2(y))
        return torch.relu(y + (self.c3(x) if self.c3 is not None else x))


def resnet18(n):
    def stage(cin, c, first):
        return [Residual(cin, c, not first, 1 if first else 2), Residual(c, c, False, 1)]
    return nn.Sequential(
        nn.Conv2d(1, 64, 7, 2, 3), nn.BatchNorm2d(64), nn.ReLU(), nn.MaxPool2d(3, 2, 1),
        *stage(64, 64, True), *stage(64, 128, False), *stage(128, 256, False), *stage(256, 512, False),
        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(512, 10))


MODELS = {
    "lenet": lenet,
    "alexnet": alexnet,
    "alexnet-simplified": lambda n: alexnet(n, fc2=False, conv4=False),
    "vgg11-r8": vgg,
    "nin": nin,
    "googlenet": googlenet,
    "resnet18": resnet18,
}


class GraphNet(nn.Module):
    """The network of a layer graph written by bench/model_graph.ts (NHWC shapes there; NCHW
    here, PyTorch's fast layout): any zoo model at any width, depth or input size."""

    def __init__(self, graph):
        super().__init__()
        self.nodes = graph["nodes"]
        self.outputs = graph["outputs"]
        self.mods = nn.ModuleDict()
        shapes = {n["name"]: n["shape"] for n in self.nodes}
        for n in self.nodes:
            k, name = n["kind"], n["name"].replace(".", "_")
            cin = shapes[n["inputs"][0]][-1] if n["inputs"] else None
            if k == "conv":
                t, b, l, r = n["pads"]
                sym = t == b and l == r
                conv = nn.Conv2d(cin, n["filters"], tuple(n["kernel"]), tuple(n["strides"]),
                                 padding=(t, l) if sym else 0, bias=n["bias"])
                layers = ([] if sym else [nn.ZeroPad2d((l, r, t, b))]) + [conv] + act(n["activation"])
                self.mods[name] = nn.Sequential(*layers)
            elif k in ("maxpool", "avgpool"):
                t, b, l, r = n["pads"]
                size, strides = tuple(n["size"]), tuple(n["strides"])
                if k == "maxpool":
                    pad = [] if t == b == l == r == 0 else [nn.ConstantPad2d((l, r, t, b), float("-inf"))]
                    self.mods[name] = nn.Sequential(*pad, nn.MaxPool2d(size, strides))
                elif t == b and l == r and 2 * t <= size[0] and 2 * l <= size[1]:
                    self.mods[name] = nn.AvgPool2d(size, strides, padding=(t, l), count_include_pad=False)
                else:
                    self.mods[name] = nn.Sequential(nn.ZeroPad2d((l, r, t, b)), nn.AvgPool2d(size, strides))
            elif k == "dense":
                self.mods[name] = nn.Sequential(nn.Linear(cin, n["units"], bias=n["bias"]), *act(n["activation"]))
            elif k == "batchnorm":
                bn = nn.BatchNorm2d if len(n["shape"]) == 3 else nn.BatchNorm1d
                self.mods[name] = bn(n["shape"][-1], eps=n["epsilon"], momentum=1 - n["momentum"])
            elif k == "relu":
                self.mods[name] = nn.ReLU()
            elif k == "zeropad":
                t, b, l, r = n["pads"]
                self.mods[name] = nn.ZeroPad2d((l, r, t, b))
            elif k == "activation":
                self.mods[name] = nn.Sequential(*act(n["activation"]))
            elif k == "dropout":
                self.mods[name] = nn.Dropout(n["rate"])
            elif k == "flatten":
                self.mods[name] = nn.Flatten()
            elif k not in ("input", "concat", "add", "gap", "rescaling"):
                raise ValueError(f"layer {n['name']}: unknown kind {k}")

    def forward(self, x):
        vals = {}
        for n in self.nodes:
            k, name = n["kind"], n["name"].replace(".", "_")
            xs = [vals[i] for i in n["inputs"]]
            if k == "input":
                vals[n["name"]] = x
            elif k == "concat":
                vals[n["name"]] = torch.cat(xs, 1)
            elif k == "add":
                vals[n["name"]] = sum(xs[1:], xs[0])
            elif k == "gap":
                vals[n["name"]] = xs[0].mean((2, 3))
            elif k == "rescaling":
                vals[n["name"]] = xs[0] * n["scale"] + n["offset"]
            else:
                vals[n["name"]] = self.mods[name](xs[0])
        return [vals[o] for o in self.outputs]


def act(a):
    return {"linear": [], "relu": [nn.ReLU()], "sigmoid": [nn.Sigmoid()]}[a]


def measure(name, size, batch, seconds, graph=None):
    torch.manual_seed(0)
    model = GraphNet(graph) if graph else MODELS[name](size)
    x = torch.rand(batch, 1, size, size)
    y = torch.randint(0, 10, (batch,))
    with torch.no_grad():
        model(x[:2])  # materialise lazy layers
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.CrossEntropyLoss()

    def step():
        opt.zero_grad()
        out = model(x)
        loss = sum(loss_fn(o, y) for o in out) if isinstance(out, list) else loss_fn(out, y)
        loss.backward()
        opt.step()

    step()
    step()
    steps, t0 = 0, time.perf_counter()
    while steps < 3 or time.perf_counter() - t0 < seconds:
        step()
        steps += 1
    dt = time.perf_counter() - t0
    return {
        "model": name, "size": size, "batch": batch, "steps": steps, "seconds": dt,
        "trainImagesPerSecond": steps * batch / dt, "params": params,
        "peakRssMB": peak_rss_mb(),
        "torch": torch.__version__, "threads": torch.get_num_threads(),
    }


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--models", help="name@size,... of the hand-written twins below")
    ap.add_argument("--graph", help="a layer graph written by bench/model_graph.ts (JSON)")
    ap.add_argument("--label", help="the name to report for --graph (e.g. an experiment)")
    ap.add_argument("--size", type=int, help="input side for --graph")
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--seconds", type=float, default=10)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    if a.graph:
        with open(a.graph) as f:
            graph = json.load(f)
        print(json.dumps(measure(a.label or a.graph, a.size, a.batch, a.seconds, graph)), flush=True)
        return
    for spec in (a.models or "").split(","):
        name, size = spec.split("@")
        if name not in MODELS:
            print(json.dumps({"model": name, "size": int(size), "error": "no PyTorch twin"}), flush=True)
            continue
        print(json.dumps(measure(name, int(size), a.batch, a.seconds)), flush=True)


if __name__ == "__main__":
    sys.exit(main())
