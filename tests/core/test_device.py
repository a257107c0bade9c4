"""Device choice: auto falls back to CPU; bad or unavailable devices are clear errors."""

import pytest
import torch

from core.device import pick_device


def test_auto_and_cpu():
    assert pick_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert pick_device("cpu") == torch.device("cpu")


def test_bad_device_names_are_errors():
    with pytest.raises(ValueError, match="unknown device 'gpu0'"):
        pick_device("gpu0")


@pytest.mark.skipif(torch.cuda.is_available(), reason="CUDA present")
def test_cuda_without_a_gpu_is_an_error():
    with pytest.raises(ValueError, match="CUDA is not available"):
        pick_device("cuda")
