"""PyTorch twin of the ONNX train step: the same GPT-2 (HF layout: Conv1D weights (in, out),
pre-LN blocks, causal attention, gelu_new, tied head) with PEFT-style LoRA, frozen base
weights, one forward + backward per step. Prints one JSON line like onnxCase.ts.

Run with Debian's /usr/bin/python3 (python3-torch) and libopenblas0-pthread installed;
without OpenBLAS Debian's torch uses the reference BLAS and is ~25x slower.
usage: torch_gpt2_lora.py CASE_JSON THREADS STEPS
"""
import json
import math
import resource
import sys
import time

import torch
import torch.nn.functional as F

case = json.loads(sys.argv[1])
threads, steps = int(sys.argv[2]), int(sys.argv[3])
torch.set_num_threads(threads)
torch.manual_seed(1)
cfg, lora = case["config"], case["lora"]
C, nh, L, V, P = cfg["nEmbd"], cfg["nHead"], cfg["nLayer"], cfg["vocabSize"], cfg["nPositions"]
B, T, r = case["batchSize"], case["seqLen"], lora["rank"]
scale = lora["alpha"] / r
targets_modules = set(lora["targetModules"])
eps = cfg["layerNormEpsilon"]


def frozen(*shape, gain=0.0):
    return (gain + (torch.rand(*shape) - 0.5) * 0.04).requires_grad_(False)


class LoraConv1D(torch.nn.Module):
    def __init__(self, n_in, n_out, adapted):
        super().__init__()
        self.weight, self.bias = frozen(n_in, n_out), frozen(n_out)
        self.adapted = adapted
        if adapted:
            bound = 1 / math.sqrt(n_in)
            self.lora_A = torch.nn.Parameter((torch.rand(r, n_in) * 2 - 1) * bound)
            self.lora_B = torch.nn.Parameter(torch.zeros(n_out, r))

    def forward(self, x):  # (B, T, in) -> (B, T, out)
        y = torch.addmm(self.bias, x.reshape(-1, x.shape[-1]), self.weight).view(*x.shape[:-1], -1)
        if self.adapted:
            y = y + (x @ self.lora_A.t() @ self.lora_B.t()) * scale
        return y


causal_mask = torch.full((T, T), float("-inf")).triu(1)  # (T, T)


def causal_attention(q, k, v):  # (B, nh, T, hs) each
    if hasattr(F, "scaled_dot_product_attention"):  # torch >= 2.0: the fused kernel
        return F.scaled_dot_product_attention(q, k, v, is_causal=True)
    att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(q.shape[-1])) + causal_mask  # (B, nh, T, T)
    return F.softmax(att, dim=-1) @ v  # (B, nh, T, hs)


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln_1 = (frozen(C, gain=1.0), frozen(C))
        self.c_attn = LoraConv1D(C, 3 * C, "c_attn" in targets_modules)
        self.attn_proj = LoraConv1D(C, C, "attn.c_proj" in targets_modules)
        self.ln_2 = (frozen(C, gain=1.0), frozen(C))
        self.c_fc = LoraConv1D(C, 4 * C, "mlp.c_fc" in targets_modules)
        self.mlp_proj = LoraConv1D(4 * C, C, "mlp.c_proj" in targets_modules)

    def forward(self, x):  # (B, T, C)
        q, k, v = self.c_attn(F.layer_norm(x, (C,), *self.ln_1, eps)).split(C, dim=2)  # (B, T, C) each
        q, k, v = (t.view(B, T, nh, C // nh).transpose(1, 2) for t in (q, k, v))  # (B, nh, T, hs)
        y = causal_attention(q, k, v)  # (B, nh, T, hs)
        x = x + self.attn_proj(y.transpose(1, 2).reshape(B, T, C))  # (B, T, C)
        h = F.gelu(self.c_fc(F.layer_norm(x, (C,), *self.ln_2, eps)), approximate="tanh")  # (B, T, 4C)
        return x + self.mlp_proj(h)  # (B, T, C)


class GPT2(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.wte, self.wpe = frozen(V, C), frozen(P, C)
        self.h = torch.nn.ModuleList(Block() for _ in range(L))
        self.ln_f = (frozen(C, gain=1.0), frozen(C))

    def forward(self, ids, targets):  # (B, T), (B, T)
        x = self.wte[ids] + self.wpe[:T]  # (B, T, C)
        for block in self.h:
            x = block(x)
        logits = F.layer_norm(x, (C,), *self.ln_f, eps) @ self.wte.t()  # (B, T, V)
        return F.cross_entropy(logits.view(-1, V), targets.view(-1), ignore_index=-100)


model = GPT2()
ids = torch.randint(0, V, (B, T))
targets = torch.randint(0, V, (B, T))
params = [p for p in model.parameters() if p.requires_grad]


def step():
    for p in params:
        p.grad = None
    loss = model(ids, targets)
    loss.backward()
    return loss.item()


for _ in range(2):
    step()
times = []
for _ in range(steps):
    t0 = time.perf_counter()
    step()
    times.append(time.perf_counter() - t0)
times.sort()
step_seconds = times[len(times) // 2]
blas = [line.strip() for line in torch.__config__.show().splitlines() if "BLAS" in line]
print(json.dumps({
    "case": case["name"], "threads": threads, "steps": steps, "stepSeconds": step_seconds,
    "tokensPerSecond": B * T / step_seconds, "bestTokensPerSecond": B * T / times[0],
    "peakRssMiB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    "torch": torch.__version__, "blas": blas,
}))
