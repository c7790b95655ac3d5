import json

import torch

from rnnkit.diagnostics import layer_gradient_flow
from rnnkit.diagnostics.report import gradient_table, markdown_table, write_gradient_report
from rnnkit.nn import RNN


def overflowing_flow():
    rnn = RNN(2, 2, nonlinearity="relu", bias=False)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(torch.eye(2))
        rnn.weight_hh_l0.copy_(torch.eye(2) * 1e10)
    x = torch.zeros(1, 6, 2)
    x[:, 0] = 1.0  # h_t = 1e10^t overflows from step 4; the gradient from step 1 back
    return layer_gradient_flow(rnn, x)


def test_report_of_a_non_finite_flow_is_written_with_nulls(tmp_path):
    flows = {"exploding": overflowing_flow(), "bidirectional": layer_gradient_flow(
        RNN(2, 3, bidirectional=True), torch.randn(2, 4, 2))}  # fmt: skip
    paths = write_gradient_report(flows, tmp_path, "test", {"length": 6})
    models = json.loads(paths["json"].read_text())["models"]
    assert models["exploding"]["verdict"] == "exploding"
    assert models["exploding"]["directions"][0]["nonfinite_state_step"] == 4
    rows = gradient_table(flows)
    assert [row["model"] for row in rows] == [
        "exploding", "bidirectional (model/l0)", "bidirectional (model/l0_reverse)"
    ]  # fmt: skip
    assert "| exploding | 6 | 1.41e+00 | inf |" in markdown_table(rows)
    assert paths["png"].stat().st_size > 0
