"""Exporting trained models for inference outside PyTorch (ONNX) — see `rnnkit.export.onnx`."""

from rnnkit.export.onnx import FORMATS, ONNX_FILE, ExportResult, export_onnx

__all__ = ["FORMATS", "ONNX_FILE", "ExportResult", "export_onnx"]
