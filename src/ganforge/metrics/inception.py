"""The FID Inception-v3: TensorFlow's 2015-12-05 Inception graph, as ported by pytorch-fid and torch-fidelity.

This is our own implementation of that network. It differs from torchvision's ``inception_v3`` in the ways the
TensorFlow graph does:

- the average-pool branches of the A, C and first E blocks (``Mixed_5b..5d``, ``Mixed_6b..6e``, ``Mixed_7b``) do
  not count the zero padding (``count_include_pad=False``);
- the last E block (``Mixed_7c``) pools its pool branch with a 3x3 **max** pool (stride 1, padding 1);
- the classifier has 1008 outputs (ImageNet's 1000 classes plus 8 unused ones), and there is no aux classifier.

Parameter names are exactly those of pytorch-fid's weight file ``pt_inception-2015-12-05-6726825d.pth``
(torchvision's naming: ``Conv2d_1a_3x3.conv.weight``, ``Mixed_5b.branch_pool.bn.running_var``, ..., ``fc.bias``),
which is also the layout of torch-fidelity's ``weights-inception-2015-12-05-6726825d.pth``: either file loads
strictly, with no key mapping. The network has 23,850,960 parameters.

Input protocol (``FIDInceptionV3.preprocess``): images are ganforge's float images in [-1, 1] (or uint8 in
[0, 255]), ``[B, 1 or 3, H, W]``; grayscale is repeated to 3 channels. Floats become pixel values
``(x + 1) * 127.5`` clamped to [0, 255] and, with ``quantize=True`` (the default), rounded to the nearest integer
(``torch.round``, ties to even), as if the images had been saved as 8-bit files (what the reference tools measure;
uint8 images u and floats u / 127.5 - 1 give the same input). Then, with the default ``protocol="tensorflow"``
(the original TensorFlow FID code and torch-fidelity): resize to 299x299 with TensorFlow 1.x ``ResizeBilinear``
(align_corners=False, no half-pixel centres: output pixel i samples input coordinate ``i * in_size / 299``,
clamped at the last pixel; bit-exact with torch-fidelity's TF-compatible resize), then ``(v - 128) / 128``
(so 0 -> -1 and 255 -> 127/128, as in the graph). With
``protocol="pytorch-fid"``: ``F.interpolate(v / 255, (299, 299), mode="bilinear", align_corners=False)`` (half-pixel
centres, no antialiasing), then ``2 * x - 1``. The two differ slightly, so a score names its protocol.

Outputs: ``pool`` (the 2048-d final average pool, for FID, KID, precision/recall), ``logits`` (``pool @ W.T + b``,
1008 classes) and ``logits_unbiased`` (``pool @ W.T``, 1008 classes). The Inception Score uses
``logits_unbiased`` over all 1008 classes: the original OpenAI code rebuilds the softmax from the weight of
``softmax/logits/MatMul`` only (no bias, no class slicing), and torch-fidelity does the same.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from ganforge.errors import GanforgeError
from ganforge.registry import unknown_name_message

PYTORCH_FID_URL = (
    "https://github.com/mseitzer/pytorch-fid/releases/download/fid_weights/pt_inception-2015-12-05-6726825d.pth"
)
TORCH_FIDELITY_URL = (
    "https://github.com/toshas/torch-fidelity/releases/download/v0.2.0/weights-inception-2015-12-05-6726825d.pth"
)
WEIGHT_URLS = (PYTORCH_FID_URL, TORCH_FIDELITY_URL)
WEIGHT_FILE_NAMES = tuple(url.rsplit("/", 1)[1] for url in WEIGHT_URLS)
PROTOCOLS = ("tensorflow", "pytorch-fid")
INPUT_SIZE = 299
NUM_PARAMETERS = 23_850_960


class BasicConv2d(nn.Module):
    """Convolution without bias, batch norm (eps 1e-3, as in TensorFlow) and ReLU."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int | tuple[int, int], **kwargs: object) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size, bias=False, **kwargs)
        self.bn = nn.BatchNorm2d(out_ch, eps=0.001)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.relu(self.bn(self.conv(x)))


def _avg_pool_3x3(x: torch.Tensor) -> torch.Tensor:
    """TensorFlow's SAME 3x3 average pool: padded positions are not counted."""
    return F.avg_pool2d(x, kernel_size=3, stride=1, padding=1, count_include_pad=False)


class InceptionA(nn.Module):
    """35x35 block: 1x1, 5x5, double 3x3 and pool branches."""

    def __init__(self, in_ch: int, pool_features: int) -> None:
        super().__init__()
        self.branch1x1 = BasicConv2d(in_ch, 64, 1)
        self.branch5x5_1 = BasicConv2d(in_ch, 48, 1)
        self.branch5x5_2 = BasicConv2d(48, 64, 5, padding=2)
        self.branch3x3dbl_1 = BasicConv2d(in_ch, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, padding=1)
        self.branch_pool = BasicConv2d(in_ch, pool_features, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b5 = self.branch5x5_2(self.branch5x5_1(x))
        b3 = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        pool = self.branch_pool(_avg_pool_3x3(x))
        return torch.cat([self.branch1x1(x), b5, b3, pool], 1)


class InceptionB(nn.Module):
    """35x35 -> 17x17 reduction block."""

    def __init__(self, in_ch: int) -> None:
        super().__init__()
        self.branch3x3 = BasicConv2d(in_ch, 384, 3, stride=2)
        self.branch3x3dbl_1 = BasicConv2d(in_ch, 64, 1)
        self.branch3x3dbl_2 = BasicConv2d(64, 96, 3, padding=1)
        self.branch3x3dbl_3 = BasicConv2d(96, 96, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3(x)
        b3dbl = self.branch3x3dbl_3(self.branch3x3dbl_2(self.branch3x3dbl_1(x)))
        return torch.cat([b3, b3dbl, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionC(nn.Module):
    """17x17 block with factorised 7x7 convolutions."""

    def __init__(self, in_ch: int, channels_7x7: int) -> None:
        super().__init__()
        c7 = channels_7x7
        self.branch1x1 = BasicConv2d(in_ch, 192, 1)
        self.branch7x7_1 = BasicConv2d(in_ch, c7, 1)
        self.branch7x7_2 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7_3 = BasicConv2d(c7, 192, (7, 1), padding=(3, 0))
        self.branch7x7dbl_1 = BasicConv2d(in_ch, c7, 1)
        self.branch7x7dbl_2 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_3 = BasicConv2d(c7, c7, (1, 7), padding=(0, 3))
        self.branch7x7dbl_4 = BasicConv2d(c7, c7, (7, 1), padding=(3, 0))
        self.branch7x7dbl_5 = BasicConv2d(c7, 192, (1, 7), padding=(0, 3))
        self.branch_pool = BasicConv2d(in_ch, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b7 = self.branch7x7_3(self.branch7x7_2(self.branch7x7_1(x)))
        b7dbl = x
        for conv in (self.branch7x7dbl_1, self.branch7x7dbl_2, self.branch7x7dbl_3, self.branch7x7dbl_4):
            b7dbl = conv(b7dbl)
        b7dbl = self.branch7x7dbl_5(b7dbl)
        pool = self.branch_pool(_avg_pool_3x3(x))
        return torch.cat([self.branch1x1(x), b7, b7dbl, pool], 1)


class InceptionD(nn.Module):
    """17x17 -> 8x8 reduction block."""

    def __init__(self, in_ch: int) -> None:
        super().__init__()
        self.branch3x3_1 = BasicConv2d(in_ch, 192, 1)
        self.branch3x3_2 = BasicConv2d(192, 320, 3, stride=2)
        self.branch7x7x3_1 = BasicConv2d(in_ch, 192, 1)
        self.branch7x7x3_2 = BasicConv2d(192, 192, (1, 7), padding=(0, 3))
        self.branch7x7x3_3 = BasicConv2d(192, 192, (7, 1), padding=(3, 0))
        self.branch7x7x3_4 = BasicConv2d(192, 192, 3, stride=2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_2(self.branch3x3_1(x))
        b7 = x
        for conv in (self.branch7x7x3_1, self.branch7x7x3_2, self.branch7x7x3_3, self.branch7x7x3_4):
            b7 = conv(b7)
        return torch.cat([b3, b7, F.max_pool2d(x, kernel_size=3, stride=2)], 1)


class InceptionE(nn.Module):
    """8x8 block with split 1x3 / 3x1 outputs; ``pool`` is "avg" (Mixed_7b) or "max" (Mixed_7c, as in the graph)."""

    def __init__(self, in_ch: int, pool: str) -> None:
        super().__init__()
        self.pool = pool
        self.branch1x1 = BasicConv2d(in_ch, 320, 1)
        self.branch3x3_1 = BasicConv2d(in_ch, 384, 1)
        self.branch3x3_2a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3_2b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch3x3dbl_1 = BasicConv2d(in_ch, 448, 1)
        self.branch3x3dbl_2 = BasicConv2d(448, 384, 3, padding=1)
        self.branch3x3dbl_3a = BasicConv2d(384, 384, (1, 3), padding=(0, 1))
        self.branch3x3dbl_3b = BasicConv2d(384, 384, (3, 1), padding=(1, 0))
        self.branch_pool = BasicConv2d(in_ch, 192, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b3 = self.branch3x3_1(x)
        b3 = torch.cat([self.branch3x3_2a(b3), self.branch3x3_2b(b3)], 1)
        b3dbl = self.branch3x3dbl_2(self.branch3x3dbl_1(x))
        b3dbl = torch.cat([self.branch3x3dbl_3a(b3dbl), self.branch3x3dbl_3b(b3dbl)], 1)
        pooled = F.max_pool2d(x, kernel_size=3, stride=1, padding=1) if self.pool == "max" else _avg_pool_3x3(x)
        return torch.cat([self.branch1x1(x), b3, b3dbl, self.branch_pool(pooled)], 1)


def tf1_sample_positions(in_size: int, out_size: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """TensorFlow 1.x legacy bilinear sampling along one axis: indices ``lo``, ``hi`` and the weight of ``hi``.

    Output pixel i samples input coordinate ``s = i * (in_size / out_size)`` (in float32, as TF does), between
    ``floor(s)`` and ``min(floor(s) + 1, in_size - 1)``.
    """
    src = torch.arange(out_size, dtype=torch.float32) * torch.tensor(in_size / out_size, dtype=torch.float32)
    lo = src.floor().long().clamp(max=in_size - 1)
    return lo, (lo + 1).clamp(max=in_size - 1), src - lo.float()


def tf1_resize(images: torch.Tensor, size: int = INPUT_SIZE) -> torch.Tensor:
    """Resize ``[B, C, H, W]`` to ``size`` x ``size`` as TensorFlow 1.x ``ResizeBilinear`` (legacy mode) does:
    interpolate along x within the two source rows, then along y, each as ``a + (b - a) * weight``."""
    y_lo, y_hi, y_w = (t.to(images.device) for t in tf1_sample_positions(images.shape[-2], size))
    x_lo, x_hi, x_w = (t.to(images.device) for t in tf1_sample_positions(images.shape[-1], size))
    x_w = x_w.to(images.dtype)

    def along_x(rows: torch.Tensor) -> torch.Tensor:
        left = rows[..., x_lo]
        return left + (rows[..., x_hi] - left) * x_w

    top, bottom = along_x(images[..., y_lo, :]), along_x(images[..., y_hi, :])
    return top + (bottom - top) * y_w.to(images.dtype)[:, None]


class FIDInceptionV3(nn.Module):
    """The FID Inception-v3; ``forward(images)`` returns ``{"pool", "logits", "logits_unbiased"}``.

    ``images``: float ``[B, 1 or 3, H, W]`` in [-1, 1] (ganforge's range) or uint8 in [0, 255], any H and W.
    See the module docstring for the exact preprocessing of each ``protocol``.
    """

    def __init__(self, protocol: str = "tensorflow", quantize: bool = True) -> None:
        super().__init__()
        if protocol not in PROTOCOLS:
            raise GanforgeError(unknown_name_message("FID protocol", protocol, list(PROTOCOLS)))
        self.protocol = protocol
        self.quantize = quantize
        self.Conv2d_1a_3x3 = BasicConv2d(3, 32, 3, stride=2)
        self.Conv2d_2a_3x3 = BasicConv2d(32, 32, 3)
        self.Conv2d_2b_3x3 = BasicConv2d(32, 64, 3, padding=1)
        self.Conv2d_3b_1x1 = BasicConv2d(64, 80, 1)
        self.Conv2d_4a_3x3 = BasicConv2d(80, 192, 3)
        self.Mixed_5b = InceptionA(192, pool_features=32)
        self.Mixed_5c = InceptionA(256, pool_features=64)
        self.Mixed_5d = InceptionA(288, pool_features=64)
        self.Mixed_6a = InceptionB(288)
        self.Mixed_6b = InceptionC(768, channels_7x7=128)
        self.Mixed_6c = InceptionC(768, channels_7x7=160)
        self.Mixed_6d = InceptionC(768, channels_7x7=160)
        self.Mixed_6e = InceptionC(768, channels_7x7=192)
        self.Mixed_7a = InceptionD(768)
        self.Mixed_7b = InceptionE(1280, pool="avg")
        self.Mixed_7c = InceptionE(2048, pool="max")
        self.fc = nn.Linear(2048, 1008)

    def to_pixels(self, images: torch.Tensor) -> torch.Tensor:
        """Float32 pixel values in [0, 255], 3 channels (rounded to integers when ``quantize``)."""
        if images.dim() != 4 or images.shape[1] not in (1, 3):
            raise GanforgeError(
                f"the FID Inception takes images [B, 1 or 3, H, W], got shape {tuple(images.shape)}: "
                "pass a batch of grayscale or RGB images"
            )
        if images.dtype == torch.uint8:
            pixels = images.float()
        elif images.is_floating_point():
            pixels = ((images.float() + 1.0) * 127.5).clamp(0.0, 255.0)
            if self.quantize:
                pixels = pixels.round()
        else:
            raise GanforgeError(
                f"the FID Inception takes float images in [-1, 1] or uint8 images, got dtype {images.dtype}"
            )
        return pixels.expand(-1, 3, -1, -1) if pixels.shape[1] == 1 else pixels

    def preprocess(self, images: torch.Tensor) -> torch.Tensor:
        """Images -> the network's input ``[B, 3, 299, 299]``: pixels, resize, normalisation of the protocol."""
        pixels = self.to_pixels(images)
        if self.protocol == "tensorflow":
            return (tf1_resize(pixels) - 128.0) / 128.0
        unit = F.interpolate(pixels / 255.0, size=(INPUT_SIZE, INPUT_SIZE), mode="bilinear", align_corners=False)
        return 2.0 * unit - 1.0

    def pool_features(self, x: torch.Tensor) -> torch.Tensor:
        """Preprocessed input ``[B, 3, 299, 299]`` -> the 2048-d average-pool features ``[B, 2048]``."""
        x = self.Conv2d_2b_3x3(self.Conv2d_2a_3x3(self.Conv2d_1a_3x3(x)))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        x = self.Conv2d_4a_3x3(self.Conv2d_3b_1x1(x))
        x = F.max_pool2d(x, kernel_size=3, stride=2)
        for block in (self.Mixed_5b, self.Mixed_5c, self.Mixed_5d, self.Mixed_6a, self.Mixed_6b, self.Mixed_6c):
            x = block(x)
        for block in (self.Mixed_6d, self.Mixed_6e, self.Mixed_7a, self.Mixed_7b, self.Mixed_7c):
            x = block(x)
        return x.mean(dim=(2, 3))

    def forward(self, images: torch.Tensor) -> dict[str, torch.Tensor]:
        """Images -> ``pool`` [B, 2048], ``logits`` [B, 1008] and ``logits_unbiased`` [B, 1008] (for IS)."""
        pool = self.pool_features(self.preprocess(images.to(self.fc.weight.device)).to(self.fc.weight.dtype))
        unbiased = pool @ self.fc.weight.T
        return {"pool": pool, "logits": unbiased + self.fc.bias, "logits_unbiased": unbiased}


def weight_search_dirs() -> list[Path]:
    """Folders searched for the weight files: torch hub's checkpoints, ``$GANFORGE_WEIGHTS``, the ganforge cache."""
    dirs = [Path(torch.hub.get_dir()) / "checkpoints"]
    if os.environ.get("GANFORGE_WEIGHTS"):
        dirs.append(Path(os.environ["GANFORGE_WEIGHTS"]).expanduser())
    dirs.append(Path.home() / ".cache" / "ganforge" / "weights")
    return dirs


def find_fid_weights() -> Path | None:
    """The first weight file (pytorch-fid's or torch-fidelity's name) found in ``weight_search_dirs()``, or None."""
    env = os.environ.get("GANFORGE_WEIGHTS")
    if env and Path(env).expanduser().is_file():
        return Path(env).expanduser()
    for folder in weight_search_dirs():
        for name in WEIGHT_FILE_NAMES:
            if (folder / name).is_file():
                return folder / name
    return None


def _download_state_dict() -> dict[str, torch.Tensor]:
    """Fetch the weights into torch hub's cache (pytorch-fid's release first, then torch-fidelity's)."""
    errors = []
    for url in WEIGHT_URLS:
        try:
            return torch.hub.load_state_dict_from_url(url, map_location="cpu", progress=False, weights_only=True)
        except Exception as err:  # any failure to fetch means "offline", reported below
            errors.append(f"{url}: {err}")
    raise GanforgeError(
        f"the FID Inception weights are not on this machine and could not be downloaded (offline?): "
        f"download {PYTORCH_FID_URL} and pass --weights PATH, or use --extractor digits"
    ) from RuntimeError("; ".join(errors))


def _read_state_dict(path: Path) -> dict[str, torch.Tensor]:
    if not path.is_file():
        raise GanforgeError(f"FID Inception weights file {path} does not exist: pass the path of the downloaded .pth")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # a corrupt or foreign file
        raise GanforgeError(f"could not read FID Inception weights from {path} ({err}): download it again") from err
    if not isinstance(state, dict):
        raise GanforgeError(f"{path} does not hold a state dict: pass pytorch-fid's or torch-fidelity's .pth file")
    return state


def load_state_into(model: FIDInceptionV3, state: dict[str, torch.Tensor], source: str = "the weights") -> None:
    """Strictly load a pytorch-fid-layout state dict; BatchNorm ``num_batches_tracked`` may be absent."""
    state = dict(state)
    for key, value in model.state_dict().items():
        if key.endswith("num_batches_tracked"):
            state.setdefault(key, value)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if missing or unexpected:
        raise GanforgeError(
            f"{source} are not the FID Inception's (missing {len(missing)} keys such as {missing[:2]}, "
            f"unexpected {len(unexpected)} such as {unexpected[:2]}): pass pytorch-fid's or torch-fidelity's .pth"
        )


def load_fid_inception(
    weights: str | Path | None = None, protocol: str = "tensorflow", quantize: bool = True
) -> FIDInceptionV3:
    """The FID Inception-v3 with its pretrained weights, in eval mode, gradients off.

    ``weights=None`` looks for ``pt_inception-2015-12-05-6726825d.pth`` / ``weights-inception-2015-12-05-6726825d.pth``
    in ``weight_search_dirs()``, then tries to download it into torch hub's cache; offline, it raises GanforgeError.
    """
    model = FIDInceptionV3(protocol=protocol, quantize=quantize)
    path = Path(weights).expanduser() if weights is not None else find_fid_weights()
    if path is None:
        state, source = _download_state_dict(), "the downloaded weights"
    else:
        state, source = _read_state_dict(path), f"the weights in {path}"
    load_state_into(model, state, source)
    return model.eval().requires_grad_(False)
