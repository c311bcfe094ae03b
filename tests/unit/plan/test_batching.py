"""Adaptive batch size: halves on trouble, grows back after clean calls."""

from connector.push.batching import AdaptiveBatch


def test_halves_down_to_one_and_grows_back_to_the_cap() -> None:
    b = AdaptiveBatch(max_size=200)
    assert b.size == 200
    for expected in (100, 50, 25, 12, 6, 3, 1, 1):
        b.shrink()
        assert b.size == expected
    sizes = []
    for _ in range(20):
        b.succeeded()
        sizes.append(b.size)
    assert sizes[1] == 2
    assert sizes[-1] == 200
    assert max(sizes) == 200


def test_serial_mode_is_a_batch_of_one() -> None:
    b = AdaptiveBatch(max_size=1)
    b.succeeded()
    b.succeeded()
    assert b.size == 1
