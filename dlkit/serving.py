"""A small HTTP inference service for an ONNX digits classifier (FastAPI + uvicorn + onnxruntime).

Unit 13 exports a :class:`dlkit.torch_tools.DigitsCNN` to ONNX and serves it:

* :func:`create_app` builds the FastAPI app around one ONNX file, run by onnxruntime on the CPU.
  ``GET /health`` answers ``{"status": "ok", ...}``; ``GET /metadata`` describes the model's
  inputs and outputs; ``POST /predict`` takes ``{"images": [[[8 floats] x 8] x N]}`` (finite
  values, ``1 <= N <= max_images``) and answers ``{"classes": [...], "probabilities":
  [[...]]}``, the softmax of the model's output (which must be logits). A malformed request
  gets a 422 JSON answer whose ``message`` names the field and what was expected; the service
  never answers 500 to bad input.
* :func:`start` runs ``python -m dlkit.serving MODEL --host 127.0.0.1 --port P`` as a child
  process, waits until ``/health`` answers and returns a :class:`Service` (a context manager;
  ``stop()`` ends the child, and so does garbage collection or the interpreter's exit).
* ``python -m dlkit.serving MODEL.onnx [--host H] [--port P]`` serves in the foreground.

Nothing here imports torch: the service needs only the ONNX file.
"""

import argparse
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["IMAGE_SHAPE", "MAX_IMAGES", "create_app", "start", "Service", "ServiceError", "main"]

IMAGE_SHAPE = (8, 8)
MAX_IMAGES = 256


class ServiceError(RuntimeError):
    """The service's child process did not start, or died; the message ends with its log."""


# ------------------------------------------------------------------------ request validation


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({value!r})"
    if isinstance(value, (int, float)):
        return f"a number ({value!r})"
    if isinstance(value, str):
        text = value if len(value) <= 20 else value[:17] + "..."
        return f"a string ({text!r})"
    if value is None:
        return "null"
    if isinstance(value, list):
        return f"a list of {len(value)} items"
    if isinstance(value, dict):
        return "an object"
    return type(value).__name__


def _check_images(images: Any, max_images: int) -> np.ndarray:
    """``images`` as a float32 ``(N, 8, 8)`` array, or ValueError saying what is wrong."""
    want = f"a list of 1 to {max_images} images, each 8 rows of 8 numbers: shape (N, 8, 8)"
    if not isinstance(images, list):
        raise ValueError(f"images must be {want}; got {_describe(images)}")
    if not images:
        raise ValueError(f"images must be {want}; got an empty list")
    if len(images) > max_images:
        raise ValueError(
            f"images holds {len(images)} images, more than the {max_images} one request may "
            f"send; split it into several requests"
        )
    rows_, cols_ = IMAGE_SHAPE
    for i, image in enumerate(images):
        if not isinstance(image, list):
            raise ValueError(
                f"images[{i}] must be an 8x8 image (a list of 8 rows of 8 numbers); got "
                f"{_describe(image)}: images has shape (N, 8, 8), not (N, 64) or (N,)"
            )
        if len(image) != rows_:
            flat = bool(image) and not isinstance(image[0], list)
            hint = " (a flat list of numbers: send each image as 8 rows of 8)" if flat else ""
            raise ValueError(
                f"images[{i}] must be an 8x8 image (a list of 8 rows of 8 numbers); got "
                f"{len(image)} rows{hint}"
            )
        for r, row in enumerate(image):
            if not isinstance(row, list):
                raise ValueError(
                    f"images[{i}][{r}] must be a row of 8 numbers; got {_describe(row)}"
                )
            if len(row) != cols_:
                raise ValueError(
                    f"images[{i}][{r}] must be a row of 8 numbers; got {len(row)} values"
                )
            for c, v in enumerate(row):
                if isinstance(v, bool) or not isinstance(v, (int, float)):
                    raise ValueError(f"images[{i}][{r}][{c}] must be a number; got {_describe(v)}")
                if not math.isfinite(v) or abs(v) > 1e30:
                    raise ValueError(
                        f"images[{i}][{r}][{c}] must be a finite number (pixels lie in [0, 1]); "
                        f"got {v!r}"
                    )
    return np.asarray(images, dtype=np.float32)


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z.astype(np.float64) - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


# ---------------------------------------------------------------------------------- the app


def create_app(model_path: str | Path, *, max_images: int = MAX_IMAGES, threads: int = 1) -> Any:
    """A FastAPI app serving the ONNX classifier ``model_path`` with onnxruntime (CPU).

    The model takes float32 images with a dynamic batch axis, shaped ``(N, 1, 8, 8)`` (as
    ``DigitsCNN``), ``(N, 8, 8)`` or ``(N, 64)``, and returns logits ``(N, classes)``.
    ``threads`` is onnxruntime's intra-op thread count.
    """
    import onnxruntime as ort
    from fastapi import FastAPI, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse
    from pydantic import BaseModel, ConfigDict, field_validator

    path = Path(model_path)
    if not path.is_file():
        raise FileNotFoundError(f"no ONNX model at {path}")
    if isinstance(max_images, bool) or not isinstance(max_images, int) or max_images < 1:
        raise ValueError(f"max_images must be an int >= 1; got {max_images!r}")
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    inputs, outputs = session.get_inputs(), session.get_outputs()
    if len(inputs) != 1:
        raise ValueError(f"{path} has {len(inputs)} inputs; the service needs a model with one")
    input_name, input_shape = inputs[0].name, list(inputs[0].shape)
    tail = [d for d in input_shape[1:]]
    if tail == [1, 8, 8]:
        feed_shape: tuple[int, ...] = (1, 8, 8)
    elif tail == [8, 8]:
        feed_shape = (8, 8)
    elif tail == [64]:
        feed_shape = (64,)
    else:
        raise ValueError(
            f"{path}: input {input_name!r} has shape {input_shape}; the service needs "
            f"(N, 1, 8, 8), (N, 8, 8) or (N, 64)"
        )
    limit = max_images

    def describe(args: Any) -> list[dict[str, Any]]:
        return [{"name": a.name, "shape": list(a.shape), "type": a.type} for a in args]

    metadata = {
        "model": path.name,
        "inputs": describe(inputs),
        "outputs": describe(outputs),
        "image_shape": list(IMAGE_SHAPE),
        "max_images": limit,
        "providers": session.get_providers(),
    }

    class PredictRequest(BaseModel):
        """``{"images": [[[8 floats] x 8] x N]}``: N 8x8 images with values in [0, 1]."""

        model_config = ConfigDict(extra="forbid")
        images: list[list[list[float]]]

        @field_validator("images", mode="before")
        @classmethod
        def _shape(cls, value: Any) -> Any:
            _check_images(value, limit)
            return value

    class PredictResponse(BaseModel):
        classes: list[int]
        probabilities: list[list[float]]

    app = FastAPI(
        title="dlkit digits classifier",
        description=f"Serves {path.name} with onnxruntime (unit 13 of the course).",
    )

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        details = []
        for err in exc.errors():
            loc = [str(p) for p in err.get("loc", ()) if p != "body"]
            if err.get("type") == "json_invalid":
                loc = []  # pydantic puts the character position there
            msg = str(err.get("msg", "invalid"))
            msg = msg.removeprefix("Value error, ")
            if err.get("type") == "json_invalid":
                msg = (
                    "the request body is not valid JSON; send "
                    '{"images": [[[8 numbers] x 8] x N]} with Content-Type application/json'
                )
            elif err.get("type") == "missing":
                msg = 'field required: send {"images": [[[8 numbers] x 8] x N]}'
            elif err.get("type") in ("model_attributes_type", "dict_type"):
                msg = (
                    'the body must be a JSON object {"images": [[[8 numbers] x 8] x N]} '
                    "sent with Content-Type application/json"
                )
            elif err.get("type") == "extra_forbidden":
                msg = 'unexpected field; the only field is "images"'
            details.append({"loc": loc, "msg": msg, "type": err.get("type")})
        field = ".".join(details[0]["loc"]) if details and details[0]["loc"] else "body"
        message = f"{field}: {details[0]['msg']}" if details else "invalid request"
        return JSONResponse(status_code=422, content={"message": message, "detail": details})

    @app.get("/health")
    def health() -> dict[str, Any]:
        return {"status": "ok", "model": path.name, "input": input_name, "pid": os.getpid()}

    @app.get("/metadata")
    def get_metadata() -> dict[str, Any]:
        return metadata

    @app.post("/predict", response_model=PredictResponse)
    def predict(request: PredictRequest) -> dict[str, Any]:
        x = np.asarray(request.images, dtype=np.float32)
        if not np.all(np.isfinite(x)):  # huge values that overflow float32
            return JSONResponse(
                status_code=422,
                content={"message": "images: values must be finite float32 numbers"},
            )
        x = x.reshape((x.shape[0],) + feed_shape)
        (logits,) = session.run([outputs[0].name], {input_name: x})
        probs = _softmax(np.asarray(logits))
        return {"classes": probs.argmax(axis=1).tolist(), "probabilities": probs.tolist()}

    return app


# ------------------------------------------------------------------------- the child process


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _tail(log: Any, n: int = 3000) -> str:
    try:
        log.flush()
        log.seek(0)
        text = log.read().decode("utf-8", "replace")
    except (OSError, ValueError):
        return "(log unavailable)"
    return text[-n:].strip() or "(no output)"


def _terminate(proc: subprocess.Popen, log: Any) -> None:
    try:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(timeout=5)
    finally:
        try:
            log.close()
        except OSError:
            pass


class Service:
    """A running inference service (a child process); ``url`` is its base address.

    Use it as a context manager, or call :meth:`stop` (idempotent). It is also stopped when it
    is garbage-collected and when the interpreter exits, so a notebook never leaks a server.
    """

    def __init__(
        self, proc: subprocess.Popen, log: Any, host: str, port: int, model_path: Path
    ) -> None:
        self.process = proc
        self.host, self.port, self.model_path = host, port, model_path
        self.url = f"http://{host}:{port}"
        self._log = log
        self._finalizer = weakref.finalize(self, _terminate, proc, log)

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def log(self) -> str:
        """The child's output so far (uvicorn logs warnings and errors only)."""
        return _tail(self._log, 100_000) if self._finalizer.alive else "(stopped)"

    def stop(self) -> None:
        """End the child process (SIGTERM, then SIGKILL after 5 s) and wait for it."""
        self._finalizer()

    def __enter__(self) -> "Service":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else f"stopped (exit {self.process.returncode})"
        return f"Service({self.url}, model={self.model_path.name}, pid={self.pid}, {state})"


def _launch(model_path: Path, host: str, port: int, timeout: float) -> Service:
    import httpx

    log = tempfile.TemporaryFile()
    cmd = [sys.executable, "-m", "dlkit.serving", str(model_path), "--host", host]
    cmd += ["--port", str(port), "--log-level", "warning"]
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        cmd, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env
    )
    service = Service(proc, log, host, port, model_path)
    deadline = time.monotonic() + timeout
    # trust_env=False: a proxy configured in the environment must not see loopback requests
    with httpx.Client(trust_env=False, timeout=2.0) as client:
        while True:
            code = proc.poll()
            if code is not None:
                tail = _tail(log)
                service.stop()
                taken = "already in use" in tail.lower()
                reason = f"port {port} on {host} is already in use" if taken else "it exited"
                raise ServiceError(
                    f"the service for {model_path} did not start: {reason} (exit status "
                    f"{code}). Its output ends with:\n{tail}"
                )
            try:
                answer = client.get(f"{service.url}/health")
                # the pid tells our child from another server already on that port
                if answer.status_code == 200 and answer.json().get("pid") == proc.pid:
                    return service
            except (httpx.TransportError, ValueError, AttributeError):
                pass
            if time.monotonic() > deadline:
                tail = _tail(log)
                service.stop()
                raise ServiceError(
                    f"the service for {model_path} did not answer {service.url}/health within "
                    f"{timeout:g} s. Its output ends with:\n{tail}"
                )
            time.sleep(0.1)


def start(
    model_path: str | Path,
    *,
    host: str = "127.0.0.1",
    port: int | None = None,
    timeout: float = 30.0,
) -> Service:
    """Serve ``model_path`` in a child process and return once ``GET /health`` answers.

    ``port=None`` picks a free port (retried if another process takes it first). Raises
    :class:`ServiceError`, with the end of the child's output, if it dies or does not answer
    within ``timeout`` seconds.
    """
    path = Path(model_path).resolve()
    if not path.is_file():
        raise FileNotFoundError(f"no ONNX model at {path}")
    if port is not None and (isinstance(port, bool) or not isinstance(port, int)):
        raise TypeError(f"port must be an int or None; got {port!r}")
    if port is not None and not 0 < port < 65536:
        raise ValueError(f"port must be in 1..65535; got {port}")
    if not (isinstance(timeout, (int, float)) and timeout > 0):
        raise ValueError(f"timeout must be a positive number of seconds; got {timeout!r}")
    if port is not None:
        return _launch(path, host, port, float(timeout))
    for attempt in range(3):
        try:
            return _launch(path, host, _free_port(host), float(timeout))
        except ServiceError as err:
            if "already in use" not in str(err) or attempt == 2:
                raise
    raise AssertionError("unreachable")


def main(argv: list[str] | None = None) -> int:
    """``python -m dlkit.serving MODEL.onnx [--host H] [--port P] [--log-level L]``."""
    import uvicorn

    parser = argparse.ArgumentParser(
        prog="python -m dlkit.serving", description="Serve an ONNX digits classifier over HTTP."
    )
    parser.add_argument("model", help="the ONNX file")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--max-images", type=int, default=MAX_IMAGES)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    app = create_app(args.model, max_images=args.max_images)
    uvicorn.run(app, host=args.host, port=args.port, log_level=args.log_level)
    return 0


if __name__ == "__main__":
    sys.exit(main())
