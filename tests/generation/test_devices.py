"""Device choice on this CPU-only machine, and the memory plan rules."""
from __future__ import annotations

import pytest

from studio.errors import InputError, ModelError
from studio.generation.devices import MemoryPlan, choose_device, memory_plan
from studio.generation.request import ModelFamily

torch = pytest.importorskip("torch")
no_cuda = pytest.mark.skipif(torch.cuda.is_available(), reason="needs a machine without CUDA")


@no_cuda
def test_auto_on_a_cpu_machine_is_cpu_fp32() -> None:
    choice = choose_device("auto", "auto")
    assert (choice.device, choice.dtype_name, choice.label) == ("cpu", "float32", "CPU (fp32)")
    assert choice.torch_dtype is torch.float32


def test_fp16_on_cpu_falls_back_to_fp32_with_a_note() -> None:
    choice = choose_device("cpu", "fp16")
    assert choice.dtype_name == "float32"
    assert "fp32" in choice.note


@no_cuda
def test_explicit_cuda_without_a_gpu_says_what_to_do() -> None:
    with pytest.raises(ModelError) as info:
        choose_device("cuda")
    assert "no CUDA GPU" in info.value.message
    assert "cpu" in str(info.value)


def test_unknown_device_or_precision_is_an_input_error() -> None:
    with pytest.raises(InputError):
        choose_device("tpu")
    with pytest.raises(InputError):
        choose_device("cpu", "fp8")


def test_memory_plan_forced_on_and_off() -> None:
    assert memory_plan("cpu", ModelFamily.SD1, "off") == MemoryPlan()
    on_cpu = memory_plan("cpu", ModelFamily.SDXL, "on")
    assert on_cpu.attention_slicing and on_cpu.vae_tiling and not on_cpu.cpu_offload
    assert memory_plan("cuda", ModelFamily.SDXL, "on").cpu_offload


def test_memory_plan_auto_follows_free_memory(monkeypatch: pytest.MonkeyPatch) -> None:
    import studio.generation.devices as devices

    monkeypatch.setattr(devices, "free_memory_gib", lambda device: 80.0)
    assert memory_plan("cuda", ModelFamily.SDXL) == MemoryPlan()
    monkeypatch.setattr(devices, "free_memory_gib", lambda device: 8.0)
    assert memory_plan("cuda", ModelFamily.SDXL) == MemoryPlan(attention_slicing=True, vae_tiling=True)
    monkeypatch.setattr(devices, "free_memory_gib", lambda device: 3.0)
    assert memory_plan("cuda", ModelFamily.SDXL).cpu_offload
    with pytest.raises(InputError):
        memory_plan("cpu", ModelFamily.SD1, "sometimes")


def test_free_memory_of_the_cpu_is_measured() -> None:
    from studio.generation.devices import free_memory_gib

    free = free_memory_gib("cpu")
    assert free is not None and free > 0
