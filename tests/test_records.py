from pathlib import Path

from djload import records
from djload.records import Record


def test_records_round_trip_unrounded(tmp_path: Path) -> None:
    written = [
        Record(1764190000.123456, 2004.987654, 200, 14, "", 4242, 4243, 1764190000.2, 2000.5),
        Record(1764190000.5, 30.25, 0, 0, "ConnectionError: refused, twice"),
    ]
    path = tmp_path / "requests.csv"
    records.write(path, written)
    assert records.read(path) == written
    assert path.read_text().splitlines()[0] == ",".join(records.COLUMNS)
