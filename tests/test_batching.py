from pipelines.batching import batches_by_size


def test_batches_keep_order_and_respect_the_limit():
    assert batches_by_size([3, 4, 2, 9, 1], lambda n: n, 7) == [[3, 4], [2], [9], [1]]
    assert batches_by_size([], lambda n: n, 7) == []
