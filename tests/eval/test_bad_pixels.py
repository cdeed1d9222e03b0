"""NaN/inf pixels are refused by evaluation and training as they are by predict (one line, naming the file)."""

from __future__ import annotations

import h5py
import numpy as np
import pytest
from eval_helpers import write_checkpoint, write_pulse_file
from typer.testing import CliRunner

from larseg.cli import app
from larseg.data.dataset import PlaneDataset
from larseg.errors import DataFileError


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_and_inf_pixels_are_refused(tmp_path, bad):
    path = write_pulse_file(tmp_path / "bad.h5", [np.full(20, 60.0), np.full(3, 60.0)])
    with h5py.File(path, "r+") as f:  # poison one pixel of the last entry (written last)
        voxels = f["Data/sparse2d_wire_group/voxels"]
        last = voxels[-1]
        last["value"] = bad
        voxels[-1] = last
    ds = PlaneDataset([path])
    ds[0]  # a clean entry reads
    with pytest.raises(DataFileError, match=r"entry 1: \d+ NaN/inf pixels"):
        ds[1]
    ckpt = write_checkpoint(tmp_path / "m.pt")
    result = CliRunner().invoke(app, ["evaluate", str(ckpt), str(path), "-o", str(tmp_path / "ev")])
    assert result.exit_code != 0
    assert isinstance(result.exception, DataFileError) and "NaN/inf pixels" in str(result.exception)
