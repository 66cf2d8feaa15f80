"""paused_gc: collection resumes after the block, whatever happens in it."""

import gc

import pytest

from qos_xl.process import paused_gc


def test_collection_resumes_after_the_block_even_on_error():
    assert gc.isenabled()
    with pytest.raises(RuntimeError):
        with paused_gc():
            assert not gc.isenabled()
            raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_pause_inside_a_pause_does_not_resume_early():
    with paused_gc():
        with paused_gc():
            pass
        assert not gc.isenabled()
    assert gc.isenabled()
