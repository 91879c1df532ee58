"""Moving trained models to other engines: ONNX export (checked by onnxruntime)."""

from .onnx import OPSET, IR_VERSION, ExportError, to_onnx

__all__ = ["ExportError", "IR_VERSION", "OPSET", "to_onnx"]
