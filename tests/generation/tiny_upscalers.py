"""Tiny upscaler model files with random weights in the ESRGAN family's real layouts (tensor names
and shapes as the published RealESRGAN_x4plus / 4x-UltraSharp / realesr-general files use them)."""
from __future__ import annotations

from pathlib import Path

NUM_FEAT, GROW = 8, 4


def rrdb_state(seed: int = 0, *, blocks: int = 1, ups: int = 2) -> dict:
    """BasicSR/Real-ESRGAN RRDBNet names: conv_first, body.B.rdbN.convM, conv_body, conv_upK, conv_hr, conv_last."""
    import torch

    generator = torch.Generator().manual_seed(seed)

    def conv(out: int, inp: int) -> dict:
        return {"weight": torch.randn(out, inp, 3, 3, generator=generator) * 0.05,
                "bias": torch.randn(out, generator=generator) * 0.01}

    state: dict = {}

    def put(name: str, values: dict) -> None:
        for key, value in values.items():
            state[f"{name}.{key}"] = value

    put("conv_first", conv(NUM_FEAT, 3))
    for block in range(blocks):
        for rdb in (1, 2, 3):
            for i in range(5):
                put(f"body.{block}.rdb{rdb}.conv{i + 1}", conv(GROW if i < 4 else NUM_FEAT, NUM_FEAT + i * GROW))
    put("conv_body", conv(NUM_FEAT, NUM_FEAT))
    for k in range(ups):
        put(f"conv_up{k + 1}", conv(NUM_FEAT, NUM_FEAT))
    put("conv_hr", conv(NUM_FEAT, NUM_FEAT))
    put("conv_last", conv(3, NUM_FEAT))
    return state


def to_old_esrgan(state: dict) -> dict:
    """The same tensors in the original ESRGAN layout (model.0, model.1.sub.B.RDBn.convm.0, model.3 ...)."""
    ups = sorted(k for k in state if k.startswith("conv_up") and k.endswith(".weight"))
    tail = {f"conv_up{i + 1}": 3 * (i + 1) for i in range(len(ups))}
    last = 3 * len(ups) + 2
    tail.update({"conv_hr": last, "conv_last": last + 2})
    blocks = 1 + max(int(k.split(".")[1]) for k in state if k.startswith("body."))
    old = {}
    for key, value in state.items():
        name, kind = key.rsplit(".", 1)
        if name == "conv_first":
            old[f"model.0.{kind}"] = value
        elif name.startswith("body."):
            _, block, rdb, conv = name.split(".")
            old[f"model.1.sub.{block}.RDB{rdb[3:]}.{conv}.0.{kind}"] = value
        elif name == "conv_body":
            old[f"model.1.sub.{blocks}.{kind}"] = value
        else:
            old[f"model.{tail[name]}.{kind}"] = value
    return old


def compact_state(seed: int = 0, scale: int = 4) -> dict:
    """Real-ESRGAN's SRVGGNetCompact: body.0 conv, body.1 PReLU, body.2 conv, body.3 PReLU, body.4 conv."""
    import torch

    generator = torch.Generator().manual_seed(seed)
    return {
        "body.0.weight": torch.randn(NUM_FEAT, 3, 3, 3, generator=generator) * 0.05,
        "body.0.bias": torch.zeros(NUM_FEAT),
        "body.1.weight": torch.full((NUM_FEAT,), 0.25),
        "body.2.weight": torch.randn(NUM_FEAT, NUM_FEAT, 3, 3, generator=generator) * 0.05,
        "body.2.bias": torch.zeros(NUM_FEAT),
        "body.3.weight": torch.full((NUM_FEAT,), 0.25),
        "body.4.weight": torch.randn(3 * scale * scale, NUM_FEAT, 3, 3, generator=generator) * 0.05,
        "body.4.bias": torch.zeros(3 * scale * scale),
    }


def save(state: dict, path: Path) -> Path:
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    save_file({k: v.contiguous() for k, v in state.items()}, str(path))
    return path
