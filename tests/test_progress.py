import pytest

from djload.progress import tracker


def test_progress_shows_scenarios_done_when_enabled(capsys: pytest.CaptureFixture[str]) -> None:
    with tracker(3, enabled=True) as progress:
        for name in ("one", "two", "three"):
            progress.start(name)
            progress.done()
    captured = capsys.readouterr()
    assert "3/3" in captured.err and "three" in captured.err
    assert captured.out == ""


def test_progress_is_quiet_when_stderr_is_not_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    with tracker(2) as progress:  # under pytest stderr is captured: not a terminal
        progress.start("one")
        progress.done()
    assert capsys.readouterr() == ("", "")
