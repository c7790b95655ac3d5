"""The example in docs/data.md runs as written (on a small file in place of SST-2)."""

import re
from pathlib import Path

DOC = Path(__file__).resolve().parents[2] / "docs" / "data.md"


def test_docs_example_runs(tmp_path, monkeypatch):
    code = re.search(r"```python\n(.*?)```", DOC.read_text(encoding="utf-8"), re.S).group(1)
    (tmp_path / "sst2").mkdir()
    rows = [f"a {'very ' * (i % 7)}good film\t1" for i in range(40)] + ["dull\t0"] * 10
    (tmp_path / "sst2" / "train.tsv").write_text("sentence\tlabel\n" + "\n".join(rows) + "\n")
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    exec(compile(code, str(DOC), "exec"), namespace)
    assert namespace["report"].examples == 50
    assert (tmp_path / "vocab.json").is_file() and (tmp_path / "labels.json").is_file()
    assert namespace["batch"].ids.shape[0] == 50  # one batch of all 50 rows
