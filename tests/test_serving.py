"""dlkit.serving: the ONNX inference service, started as a real child process on 127.0.0.1."""

from __future__ import annotations

import gc
import logging
import math
import socket
import warnings

import numpy as np
import pytest

httpx = pytest.importorskip("httpx")
ort = pytest.importorskip("onnxruntime")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from dlkit import serving  # noqa: E402

pytestmark = pytest.mark.torch


@pytest.fixture(scope="module")
def model_path(tmp_path_factory):
    """A DigitsCNN(num_classes=5) with random weights, exported to ONNX with a dynamic batch."""
    torch = pytest.importorskip("torch")
    from dlkit.torch_tools import DigitsCNN

    torch.set_num_threads(1)
    path = tmp_path_factory.mktemp("serving") / "digits.onnx"
    gen = torch.Generator().manual_seed(0)
    model = DigitsCNN(num_classes=5)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.5)
    model.eval()
    for name in ("torch.onnx", "torch._dynamo", "torch.export", "onnxscript"):
        logging.getLogger(name).setLevel(logging.ERROR)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            model,
            (torch.zeros(2, 1, 8, 8),),
            str(path),
            dynamo=True,
            verbose=False,
            input_names=["images"],
            output_names=["logits"],
            dynamic_shapes=({0: torch.export.Dim("batch")},),
        )
    return path


@pytest.fixture(scope="module")
def service(model_path):
    with serving.start(model_path, timeout=60) as svc:
        yield svc


@pytest.fixture(scope="module")
def client():
    with httpx.Client(trust_env=False, timeout=10.0) as c:
        yield c


def _images(n: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).random((n, 8, 8)).astype(np.float32)


def test_health_and_metadata(service, client, model_path):
    assert service.running and service.url == f"http://127.0.0.1:{service.port}"
    health = client.get(f"{service.url}/health")
    assert health.status_code == 200
    assert health.json() == {
        "status": "ok",
        "model": model_path.name,
        "input": "images",
        "pid": service.pid,
    }
    meta = client.get(f"{service.url}/metadata").json()
    assert [i["name"] for i in meta["inputs"]] == ["images"]
    assert meta["inputs"][0]["shape"][1:] == [1, 8, 8]
    assert [o["name"] for o in meta["outputs"]] == ["logits"]
    assert meta["outputs"][0]["shape"][1:] == [5]
    assert meta["max_images"] == serving.MAX_IMAGES and meta["image_shape"] == [8, 8]


@pytest.mark.parametrize("n", [1, 7, serving.MAX_IMAGES])
def test_predict_equals_onnxruntime(service, client, model_path, n):
    x = _images(n, seed=n)
    answer = client.post(f"{service.url}/predict", json={"images": x.tolist()})
    assert answer.status_code == 200, answer.text
    body = answer.json()
    session = ort.InferenceSession(str(model_path), providers=["CPUExecutionProvider"])
    (logits,) = session.run(["logits"], {"images": x[:, None]})
    z = logits.astype(np.float64) - logits.max(axis=1, keepdims=True)
    probs = np.exp(z) / np.exp(z).sum(axis=1, keepdims=True)
    np.testing.assert_allclose(np.array(body["probabilities"]), probs, rtol=1e-5, atol=1e-7)
    assert body["classes"] == logits.argmax(axis=1).tolist()
    np.testing.assert_allclose(np.sum(body["probabilities"], axis=1), 1.0, rtol=1e-12)


def _nested(x: np.ndarray) -> list:
    return x.tolist()


ONE = _nested(_images(1))
BAD_JSON = [
    ("empty list", {"images": []}, "images", "got an empty list"),
    ("flat 64 values", {"images": [[0.5] * 64]}, "images", "flat list of numbers"),
    ("(N, 64) rows", {"images": _nested(_images(2).reshape(2, 64))}, "images", "got 64 rows"),
    ("7 rows", {"images": [ONE[0][:7]]}, "images", "got 7 rows"),
    ("9 columns", {"images": [[r + [0.0] for r in ONE[0]]]}, "images[0][0]", "got 9 values"),
    ("one image, no batch axis", {"images": ONE[0]}, "images[0][0]", "must be a row"),
    ("too deep", {"images": [ONE]}, "images[0]", "got 1 rows"),
    ("a string", {"images": "0.5"}, "images", "got a string"),
    ("a string pixel", {"images": [[["a"] * 8] * 8]}, "images[0][0][0]", "must be a number"),
    ("a boolean pixel", {"images": [[[True] * 8] * 8]}, "images[0][0][0]", "got a boolean"),
    ("a null pixel", {"images": [[[None] * 8] * 8]}, "images[0][0][0]", "got null"),
    ("a number", {"images": 3}, "images", "got a number"),
    ("too many", {"images": _nested(_images(257))}, "images", "more than the 256"),
    ("field missing", {"pixels": ONE}, "images", "field required"),
    ("extra field", {"images": ONE, "model": "x"}, "model", "unexpected field"),
    ("a list body", ONE, "body", "must be a JSON object"),
]


@pytest.mark.parametrize(
    "body, field, message", [c[1:] for c in BAD_JSON], ids=[c[0] for c in BAD_JSON]
)
def test_malformed_json_gets_422_naming_the_field(service, client, body, field, message):
    answer = client.post(f"{service.url}/predict", json=body)
    assert answer.status_code == 422, answer.text
    text = answer.json()["message"]
    assert text.startswith(f"{field}:") or f"{field} " in text or f"{field}[" in text, text
    assert message in text, text


@pytest.mark.parametrize("bad", ["NaN", "Infinity", "-Infinity", "1e39"])
def test_non_finite_pixels_get_422(service, client, bad):
    rows = ",".join(["[" + ",".join(["0.5"] * 8) + "]"] * 7)
    content = '{"images": [[[' + bad + ", 0,0,0,0,0,0,0], " + rows + "]]}"
    answer = client.post(
        f"{service.url}/predict", content=content, headers={"content-type": "application/json"}
    )
    assert answer.status_code == 422, answer.text
    assert "images[0][0][0] must be a finite number" in answer.json()["message"]


@pytest.mark.parametrize(
    "content, headers, message",
    [
        (b"hello", {"content-type": "application/json"}, "not valid JSON"),
        (b'{"images": [[[0.1', {"content-type": "application/json"}, "not valid JSON"),
        (b"", {"content-type": "application/json"}, "images"),
        (b'{"images": [[[0,0,0,0,0,0,0,0]]]}', {"content-type": "text/plain"}, "JSON object"),
    ],
    ids=["not json", "truncated json", "empty body", "text/plain"],
)
def test_non_json_bodies_get_422(service, client, content, headers, message):
    answer = client.post(f"{service.url}/predict", content=content, headers=headers)
    assert answer.status_code == 422, answer.text
    assert message in answer.json()["message"]


def test_wrong_method_and_path_are_4xx(service, client):
    assert client.get(f"{service.url}/predict").status_code == 405
    assert client.post(f"{service.url}/nope", json={}).status_code == 404
    assert client.get(f"{service.url}/health").status_code == 200  # still serving


def test_port_taken_raises_with_the_child_log(service, model_path):
    with pytest.raises(serving.ServiceError, match="already in use") as err:
        serving.start(model_path, port=service.port, timeout=30)
    assert "Errno" in str(err.value)  # the child's own output is quoted
    assert service.running


def test_child_that_dies_raises_with_its_stderr(tmp_path):
    broken = tmp_path / "broken.onnx"
    broken.write_bytes(b"this is not an ONNX file")
    with pytest.raises(serving.ServiceError, match="did not start") as err:
        serving.start(broken, timeout=30)
    assert "Traceback" in str(err.value) or "ONNX" in str(err.value)


def test_start_validates_its_arguments(tmp_path, model_path):
    with pytest.raises(FileNotFoundError, match="no ONNX model"):
        serving.start(tmp_path / "missing.onnx")
    with pytest.raises(ValueError, match="port"):
        serving.start(model_path, port=70000)
    with pytest.raises(ValueError, match="timeout"):
        serving.start(model_path, timeout=0)


def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def test_stop_ends_the_process_and_frees_the_port(model_path):
    svc = serving.start(model_path, timeout=60)
    port, proc = svc.port, svc.process
    assert not _port_is_free(port)
    svc.stop()
    assert proc.poll() is not None and not svc.running
    assert _port_is_free(port)
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{svc.url}/health", timeout=2.0)
    svc.stop()  # idempotent
    assert "stopped" in repr(svc)


def test_garbage_collection_stops_the_service(model_path):
    svc = serving.start(model_path, timeout=60)
    proc = svc.process
    del svc
    gc.collect()
    assert proc.wait(timeout=10) is not None


def test_check_images_alone():
    x = serving._check_images(_nested(_images(3)), 5)
    assert x.dtype == np.float32 and x.shape == (3, 8, 8)
    with pytest.raises(ValueError, match="more than the 2"):
        serving._check_images(_nested(_images(3)), 2)
    big = _nested(_images(1))
    big[0][3][4] = math.inf
    with pytest.raises(ValueError, match=r"images\[0\]\[3\]\[4\] must be a finite"):
        serving._check_images(big, 5)
