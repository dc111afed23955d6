"""`make bench`: a smoke run of every kernel bench (tiny sizes) and the notebook table from a timings file."""

import json

from lmtheory.book import bench


def test_smoke_bench_measures_every_kernel_and_writes_its_tables(tmp_path):
    records = tmp_path / "records"
    records.mkdir()
    (records / "timings.json").write_text(json.dumps({"notebooks/part1/a.ipynb": 30.0,
                                                      "notebooks/part2/b.ipynb": 70.0}))
    (records / "compile.json").write_text(json.dumps({"a": 12.5}))
    assert bench.main(["--smoke", "--records", str(records), "--book-seconds", "12", "--out", str(tmp_path)]) == 0
    result = json.loads((tmp_path / "bench.json").read_text())
    cases = [k["case"] for k in result["kernels"]]
    assert len(cases) == 3 and all(k["ratio"] > 0 for k in result["kernels"])
    assert result["kernels"][2]["max_rel_diff"] <= 1e-5            # the NTK baseline agrees with lmt.measure
    nb = result["notebooks"]
    assert nb["rows"][0]["over_budget"] and nb["rows"][1]["execute_s"] == 17.5 and nb["max_s"] == 70.0
    md = (tmp_path / "bench.md").read_text()
    assert "OVER 60 s" in md and "warm execution cache: 12.0 s" in md and "GFLOP/s" in md
