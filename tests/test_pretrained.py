"""dlkit.pretrained: the transfer-learning split, the shipped weights, and their reproduction."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from dlkit import pretrained
from dlkit.data import load_digits

KEYS = ("pretrain", "pretrain_test", "target", "target_test")


def _rows(x: np.ndarray) -> set[bytes]:
    return {row.tobytes() for row in x.reshape(len(x), -1)}


def test_transfer_split_shapes_dtypes_and_labels():
    split = pretrained.transfer_split(50, seed=0)
    assert sorted(split) == sorted(f"{k}_{s}" for k in KEYS for s in "xy")
    for key in KEYS:
        x, y = split[f"{key}_x"], split[f"{key}_y"]
        assert isinstance(x, np.ndarray) and isinstance(y, np.ndarray)
        assert x.dtype == np.float32 and x.shape == (len(y), 1, 8, 8), key
        assert y.dtype == np.int64 and y.ndim == 1, key
        assert x.min() >= 0.0 and x.max() <= 1.0, key
        assert set(np.unique(y)) == {0, 1, 2, 3, 4}, key
    assert np.bincount(split["target_y"]).tolist() == [10] * 5
    # every image of the 1,797 lands in exactly one part
    X, digits = load_digits(images=True)
    assert sum(len(split[f"{k}_y"]) for k in KEYS) == len(digits)
    assert len(split["pretrain_test_y"]) == round(0.2 * np.sum(digits < 5))


def test_transfer_split_parts_are_disjoint_and_labels_match_the_digits():
    split = pretrained.transfer_split(25, seed=3)
    X, digits = load_digits(images=True)
    X = X.astype(np.float32).reshape(len(X), -1)
    # locate each part's images in the full set by their exact first occurrence
    where = {}
    for i, row in enumerate(X):
        where.setdefault(row.tobytes(), []).append(i)
    for key, offset in (("pretrain", 0), ("pretrain_test", 0), ("target", 5), ("target_test", 5)):
        x, y = split[f"{key}_x"].reshape(len(split[f"{key}_x"]), -1), split[f"{key}_y"]
        for row, label in zip(x, y, strict=True):
            assert label + offset in digits[where[row.tobytes()]], key
    pairs = [(a, b) for i, a in enumerate(KEYS) for b in KEYS[i + 1 :]]
    for a, b in pairs:
        # scikit-learn's digits hold a few duplicate images, all with one label: compare
        # images within each task, where a duplicate would be a leak
        if (a in ("pretrain", "pretrain_test")) == (b in ("pretrain", "pretrain_test")):
            assert not _rows(split[f"{a}_x"]) & _rows(split[f"{b}_x"]), (a, b)


def test_transfer_split_is_deterministic_per_seed():
    a, b = pretrained.transfer_split(50, seed=1), pretrained.transfer_split(50, seed=1)
    for key in a:
        np.testing.assert_array_equal(a[key], b[key])
    c = pretrained.transfer_split(50, seed=2)
    assert not np.array_equal(a["target_x"], c["target_x"])
    assert _rows(a["target_x"]) != _rows(c["target_x"])
    # the pretraining part is the same for every seed: the shipped weights never saw pretrain_test
    np.testing.assert_array_equal(a["pretrain_test_x"], c["pretrain_test_x"])
    np.testing.assert_array_equal(a["pretrain_x"], c["pretrain_x"])


@pytest.mark.parametrize("n_labels", [0, -5, 7, 51])
def test_transfer_split_rejects_n_labels_not_a_positive_multiple_of_5(n_labels):
    with pytest.raises(ValueError, match="positive multiple of 5"):
        pretrained.transfer_split(n_labels)


def test_transfer_split_rejects_too_many_labels_and_bad_types():
    with pytest.raises(ValueError, match="at most 865"):
        pretrained.transfer_split(1000)
    largest = pretrained.transfer_split(865)
    _, digits = load_digits()
    assert len(largest["target_test_y"]) == np.sum(digits >= 5) - 865
    assert set(np.unique(largest["target_test_y"])) == {0, 1, 2, 3, 4}
    with pytest.raises(TypeError, match="n_labels must be an int"):
        pretrained.transfer_split(50.0)
    with pytest.raises(ValueError, match="seed"):
        pretrained.transfer_split(50, seed=-1)


def test_manifest_records_the_file_and_its_recipe():
    entry = pretrained.manifest()
    assert entry["file"] == "digits04_cnn.npz"
    assert (pretrained.DIR / entry["file"]).is_file()
    assert len(entry["sha256"]) == 64
    assert entry["recipe"] == json.loads(json.dumps(pretrained.RECIPE))
    assert entry["torch_version"].startswith("2.")
    assert entry["pretrain_test_accuracy"] >= 0.97
    with pytest.raises(KeyError, match="no pretrained weights named 'nope'"):
        pretrained.manifest("nope")


def test_load_state_dict_verifies_and_loads(torch):
    from dlkit.torch_tools import DigitsCNN

    state = pretrained.load_state_dict()
    reference = DigitsCNN(num_classes=5).state_dict()
    assert list(state) == list(reference)
    for key, value in state.items():
        assert value.dtype == torch.float32 and value.shape == reference[key].shape, key


def test_pretrained_cnn_accuracy_on_pretrain_test(torch):
    model = pretrained.pretrained_cnn()
    assert not model.training and model.num_classes == 5
    split = pretrained.transfer_split()
    acc = pretrained.accuracy(model, split["pretrain_test_x"], split["pretrain_test_y"])
    assert acc >= 0.97
    assert acc == pytest.approx(pretrained.manifest()["pretrain_test_accuracy"], abs=1e-6)


def _copy(tmp_path):
    for name in ("digits04_cnn.npz", "manifest.json"):
        shutil.copy(pretrained.DIR / name, tmp_path / name)
    return tmp_path


def test_tampered_file_is_refused(torch, tmp_path):
    d = _copy(tmp_path)
    assert set(pretrained.load_state_dict(directory=d)) == set(pretrained.load_state_dict())
    data = bytearray((d / "digits04_cnn.npz").read_bytes())
    data[len(data) // 2] ^= 1  # one flipped bit in the middle: inside an array's data
    (d / "digits04_cnn.npz").write_bytes(bytes(data))
    with pytest.raises(pretrained.PretrainedChecksumError, match="changed or damaged"):
        pretrained.load_state_dict(directory=d)
    (d / "digits04_cnn.npz").unlink()
    with pytest.raises(FileNotFoundError, match="is missing"):
        pretrained.load_state_dict(directory=d)


def test_write_weights_is_byte_reproducible_and_round_trips(torch, tmp_path):
    state = pretrained.load_state_dict()
    info = {"torch_version": torch.__version__, "pretrain_test_accuracy": 0.5}
    entry = pretrained.write_weights(state, info, tmp_path / "digits04_cnn.npz")
    assert entry["sha256"] == pretrained.manifest()["sha256"]  # same arrays, same bytes
    loaded = pretrained.load_state_dict(directory=tmp_path)
    for key in state:
        assert torch.equal(loaded[key], state[key]), key
    with np.load(tmp_path / "digits04_cnn.npz", allow_pickle=False) as npz:
        assert sorted(npz.files) == sorted(state)


def test_training_reproduces_the_shipped_weights(torch, tmp_path):
    """The script's recipe, rerun, gives the shipped weights (exactly on the same torch/CPU)."""
    threads = torch.get_num_threads()
    rng_state = torch.random.get_rng_state()
    state, info = pretrained.train()
    assert torch.get_num_threads() == threads
    assert torch.equal(torch.random.get_rng_state(), rng_state)  # global RNG untouched
    shipped = pretrained.load_state_dict()
    assert list(state) == list(shipped)
    diff = max(float((state[k] - shipped[k]).abs().max()) for k in shipped)
    assert diff <= 1e-5, f"retrained weights differ from the shipped file by {diff:.3g}"
    assert info["pretrain_test_accuracy"] >= 0.97
    assert info["seconds"] < 30


def test_command_line_check_and_train(torch, tmp_path, capsys):
    from dlkit.pretrained.__main__ import main

    assert main(["check"]) == 0
    assert "max abs difference" in capsys.readouterr().out
    out = tmp_path / "w" / "digits04_cnn.npz"
    assert main(["train", "-q", "--out", str(out)]) == 0
    assert "pretrain_test accuracy" in capsys.readouterr().out
    written = pretrained.load_state_dict(directory=out.parent)
    shipped = pretrained.load_state_dict()
    for key in shipped:
        assert float((written[key] - shipped[key]).abs().max()) <= 1e-5, key
    entry = pretrained.manifest(directory=out.parent)
    assert entry["pretrain_test_accuracy"] == pytest.approx(
        pretrained.manifest()["pretrain_test_accuracy"], abs=0.01
    )
