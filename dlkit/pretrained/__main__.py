"""``python -m dlkit.pretrained train [--out PATH]`` or ``python -m dlkit.pretrained check``.

``train`` reruns the pretraining recipe of :mod:`dlkit.pretrained` and writes the weights
(default: the shipped ``digits04_cnn.npz``) and ``manifest.json`` beside them. ``check``
retrains in memory and compares with the shipped weights; it exits with status 1 if the
largest absolute difference exceeds ``--tol`` (default 1e-5).
"""

from __future__ import annotations

import argparse
import sys

from . import DIR, NAME, _npz_bytes, _sha256, load_state_dict, manifest, train, write_weights


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m dlkit.pretrained",
        description="Pretrain DigitsCNN on the digits 0-4, or check the shipped weights.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    p_train = sub.add_parser("train", help="train and write the weights and manifest.json")
    p_train.add_argument(
        "--out", default=None, help=f"weights file to write (default: {DIR / (NAME + '.npz')})"
    )
    p_train.add_argument("-q", "--quiet", action="store_true", help="no per-epoch losses")
    p_check = sub.add_parser("check", help="retrain and compare with the shipped weights")
    p_check.add_argument("--tol", type=float, default=1e-5, help="largest allowed difference")
    args = parser.parse_args(argv)

    if args.command == "train":
        state, info = train(verbose=not args.quiet)
        entry = write_weights(state, info, args.out)
        out = args.out or DIR / entry["file"]
        print(
            f"wrote {out}: pretrain_test accuracy {info['pretrain_test_accuracy']:.4f}, "
            f"sha256 {entry['sha256']}, {info['seconds']:.1f} s, torch {info['torch_version']}"
        )
        return 0

    shipped = load_state_dict(NAME)
    entry = manifest(NAME)
    state, info = train()
    diff = max(float((state[k] - shipped[k]).abs().max()) for k in shipped)
    same_keys = sorted(state) == sorted(shipped)
    identical = _sha256(_npz_bytes(state)) == entry["sha256"]
    print(
        f"retrained in {info['seconds']:.1f} s with torch {info['torch_version']} (shipped "
        f"file: torch {entry['torch_version']}); max abs difference {diff:.3g}; "
        f"pretrain_test accuracy {info['pretrain_test_accuracy']:.4f} "
        f"(manifest {entry['pretrain_test_accuracy']:.4f})"
    )
    if not same_keys or diff > args.tol:
        print(f"MISMATCH: difference above --tol {args.tol:g}", file=sys.stderr)
        return 1
    print("OK: " + ("bit-identical to the shipped file" if identical else f"within {args.tol:g}"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
