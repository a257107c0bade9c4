"""The bench cache and its archive: JSON results outlive the cache that computed them."""

from bench.cache import Cache


def test_results_are_written_to_the_cache_and_the_archive(tmp_path):
    cache = Cache(tmp_path / "cache", archive=tmp_path / "archive")
    cache.put_json("victims", "k1", {"peak": 0.5})
    assert Cache(tmp_path / "archive").get_json("victims", ("k1",)) == {"peak": 0.5}
    assert Cache(tmp_path / "cache").get_json("victims", ("k1",)) == {"peak": 0.5}


def test_a_result_missing_from_the_cache_is_read_from_the_archive(tmp_path):
    Cache(tmp_path / "archive").put_json("victims", "k1", {"peak": 0.25})
    cache = Cache(tmp_path / "cache", archive=tmp_path / "archive")
    assert cache.get_json("victims", ("k1",)) == {"peak": 0.25}
    assert cache.get_json("victims", ("k2",)) is None
    assert Cache(tmp_path / "cache").get_json("victims", ("k1",)) is None  # read, not copied back


def test_a_result_read_from_the_cache_is_kept_in_the_archive(tmp_path):
    Cache(tmp_path / "cache").put_json("victims", "k1", {"peak": 0.75})
    Cache(tmp_path / "cache", archive=tmp_path / "archive").get_json("victims", ("k1",))
    assert Cache(tmp_path / "archive").get_json("victims", ("k1",)) == {"peak": 0.75}
