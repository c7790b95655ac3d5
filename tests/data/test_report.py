import pytest

from rnnkit.data.report import ReadReport, iter_lines
from rnnkit.errors import DataError


def test_invalid_byte_far_into_a_file_is_found_after_the_fast_path(tmp_path):
    lines = [f"line {i}".encode() for i in range(5000)]
    lines[4000] = b"bad \xff here"
    path = tmp_path / "big.txt"
    path.write_bytes(b"\xef\xbb\xbf" + b"\n".join(lines) + b"\r\n")
    report = ReadReport(str(path), on_error="skip")
    read = list(iter_lines(path, report))
    assert read[0] == (1, "line 0") and read[-1] == (5000, "line 4999")
    assert [number for number, _ in read] == [n for n in range(1, 5001) if n != 4001]
    assert report.skipped == 1 and (report.errors[0].line, report.errors[0].column) == (4001, 5)
    with pytest.raises(DataError, match=r"big.txt:4001:5: invalid UTF-8 byte 0xff"):
        list(iter_lines(path, ReadReport(str(path))))


@pytest.mark.parametrize("bad", [b"", b"\xc3\n"])  # text-mode fast path, byte-wise slow path
def test_line_ends_bom_and_aligned_placeholders(tmp_path, bad):
    path = tmp_path / "a.txt"
    path.write_bytes(b"\xef\xbb\xbfone\r\ntwo\rstill two\n" + bad)
    report = ReadReport(str(path), on_error="skip")
    expected = [(1, "one"), (2, "two\rstill two")] + ([(3, None)] if bad else [])
    assert list(iter_lines(path, report, bad_as_none=True)) == expected
    first = next(iter_lines(path, ReadReport("a", "skip"), keep_ends=True))
    assert first == (1, "one\r\n")
