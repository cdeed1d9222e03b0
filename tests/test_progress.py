"""Progress output in logs (not a terminal): count, rate and ETA lines."""

from __future__ import annotations

from larseg.progress import progress_bar


def test_log_lines_show_count_rate_and_eta(capsys):
    with progress_bar(4, "simulate mpv", unit="ev", completed=1, log_every=0.0) as advance:
        for _ in range(3):
            advance(1)
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 4  # one per advance (log_every=0) and a final one
    assert lines[0].startswith("simulate mpv: 2/4 (50%)")
    assert lines[-1].startswith("simulate mpv: 4/4 (100%)")
    assert all(" ev/s " in line and "ETA" in line for line in lines)
