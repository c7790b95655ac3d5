"""``rnnkit train ... --device/--precision``: recorded in config.json, refused when the machine
cannot honour them (one line, exit code 1)."""

from __future__ import annotations

import json

import pytest
import torch
from typer.testing import CliRunner

from rnnkit.cli import app
from tests.tasks.conftest import write_intents

runner = CliRunner()
TINY = ["--cell", "gru", "--hidden-size", "8", "--embedding-dim", "8", "--epochs", "1",
        "--no-progress"]  # fmt: skip


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    folder = tmp_path_factory.mktemp("device-cli")
    return write_intents(folder / "train.csv", 2, 0), write_intents(folder / "dev.csv", 1, 1)


def train(data, out, *options: str):
    arguments = ["train", "classify", "--train", str(data[0]), "--dev", str(data[1])]
    return runner.invoke(app, [*arguments, "--out", str(out), *TINY, *options])


def test_device_cpu_trains_and_is_recorded(data, tmp_path):
    result = train(data, tmp_path / "m", "--device", "cpu", "--precision", "fp32")
    assert result.exit_code == 0, result.output
    saved = json.loads((tmp_path / "m" / "config.json").read_text())["trainer"]
    assert saved["device"] == "cpu" and saved["precision"] == "fp32"


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_a_gpu_is_one_line(data, tmp_path):
    result = train(data, tmp_path / "m", "--device", "cuda")
    assert result.exit_code == 1
    assert "error: device: 'cuda:0' requested but torch sees no GPU" in result.output
    assert "Traceback" not in result.output


def test_fp16_on_the_cpu_is_one_line(data, tmp_path):
    result = train(data, tmp_path / "m", "--device", "cpu", "--precision", "fp16")
    assert result.exit_code == 1
    assert "error: precision: fp16 (mixed precision) runs on CUDA only" in result.output


def test_an_unknown_precision_names_the_choices(data, tmp_path):
    result = train(data, tmp_path / "m", "--precision", "fp8")
    assert result.exit_code == 1
    assert "trainer.precision must be one of fp32, bf16, fp16, got 'fp8'" in result.output


@pytest.fixture(scope="module")
def model_dir(data, tmp_path_factory):
    out = tmp_path_factory.mktemp("device-model") / "m"
    assert train(data, out, "--device", "cpu").exit_code == 0
    return out


def test_predict_on_cpu_and_auto_answers(model_dir):
    for device in ("cpu", "auto"):
        result = runner.invoke(app, ["predict", str(model_dir), "play some jazz", "--json",
                                     "--device", device])  # fmt: skip
        assert result.exit_code == 0, result.output
        assert "label" in json.loads(result.output)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
@pytest.mark.parametrize("command", ["predict", "evaluate", "translate", "generate", "serve"])
def test_every_inference_command_refuses_a_missing_gpu_in_one_line(model_dir, data, command):
    extra = {"predict": ["hello"], "evaluate": [str(data[1])], "translate": ["hello"]}
    arguments = [command, str(model_dir), *extra.get(command, []), "--device", "cuda:0"]
    arguments += ["--runtime", "torch"]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 1
    assert "error: device: 'cuda:0' requested but torch sees no GPU" in result.output


def test_onnx_runtime_with_a_gpu_device_is_refused(model_dir):
    result = runner.invoke(app, ["predict", str(model_dir), "hi", "--runtime", "onnx",
                                 "--device", "cuda"])  # fmt: skip
    assert result.exit_code == 1
    assert "error: device: 'cuda' is for runtime 'torch'" in result.output
