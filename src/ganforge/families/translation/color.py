"""sRGB <-> CIE Lab in torch (differentiable, batched) and a hue-error metric for colorization.

The conversion follows the usual definitions (sRGB with its piecewise gamma, the D65 white point, the
2-degree observer) with the same matrix as ``skimage.color.rgb2lab``. The white is the matrix's own (its
row sums, within 1e-4 of the D65 numbers skimage uses), so that R = G = B gives a = b = 0 exactly (skimage:
up to 0.005). Images are ``[..., 3, H, W]``: RGB in [0, 1]; Lab with L in [0, 100] and a, b roughly in
[-110, 110].
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

AB_SCALE = 110.0  # a, b divided by this lie in about [-1, 1] (the pix2pix colorization mode's scale)
CHROMA_SEEN = 2.0  # Lab chroma under which a prediction counts as gray (about one just-noticeable difference)
XYZ_FROM_RGB = (
    (0.412453, 0.357580, 0.180423),
    (0.212671, 0.715160, 0.072169),
    (0.019334, 0.119193, 0.950227),
)
WHITE_D65 = tuple(sum(row) for row in XYZ_FROM_RGB)  # (0.950456, 1.0, 1.088754): the sRGB white
_DELTA = 6.0 / 29.0
_EPS = 1e-6


def _matrix(rows: tuple[tuple[float, ...], ...], like: Tensor) -> Tensor:
    return torch.tensor(rows, dtype=like.dtype, device=like.device)


def _mix(matrix: Tensor, image: Tensor) -> Tensor:
    """Apply a 3x3 matrix on the channel axis (-3) of ``[..., 3, H, W]``."""
    return torch.einsum("ij,...jhw->...ihw", matrix, image)


def _channel_scale(values: tuple[float, ...], like: Tensor) -> Tensor:
    return torch.tensor(values, dtype=like.dtype, device=like.device).view(3, 1, 1)


def srgb_to_linear(rgb: Tensor) -> Tensor:
    """sRGB in [0, 1] -> linear light."""
    rgb = rgb.clamp(0, 1)
    return torch.where(rgb <= 0.04045, rgb / 12.92, ((rgb.clamp_min(0.04045) + 0.055) / 1.055) ** 2.4)


def linear_to_srgb(linear: Tensor) -> Tensor:
    """Linear light -> sRGB in [0, 1] (out-of-gamut values clipped)."""
    linear = linear.clamp(0, 1)
    return torch.where(linear <= 0.0031308, 12.92 * linear,
                       1.055 * linear.clamp_min(0.0031308) ** (1 / 2.4) - 0.055)


def _f(t: Tensor) -> Tensor:
    return torch.where(t > _DELTA**3, t.clamp_min(_DELTA**3) ** (1 / 3), t / (3 * _DELTA**2) + 4 / 29)


def _f_inverse(f: Tensor) -> Tensor:
    return torch.where(f > _DELTA, f**3, 3 * _DELTA**2 * (f - 4 / 29))


def rgb_to_lab(rgb: Tensor) -> Tensor:
    """sRGB ``[..., 3, H, W]`` in [0, 1] -> Lab (L in [0, 100])."""
    xyz = _mix(_matrix(XYZ_FROM_RGB, rgb), srgb_to_linear(rgb)) / _channel_scale(WHITE_D65, rgb)
    fx, fy, fz = _f(xyz).unbind(-3)
    return torch.stack([116 * fy - 16, 500 * (fx - fy), 200 * (fy - fz)], dim=-3)


def lab_to_rgb(lab: Tensor) -> Tensor:
    """Lab ``[..., 3, H, W]`` -> sRGB in [0, 1] (colors outside the sRGB gamut are clipped)."""
    lightness, a, b = lab.unbind(-3)
    fy = (lightness + 16) / 116
    xyz = _f_inverse(torch.stack([fy + a / 500, fy, fy - b / 200], dim=-3)) * _channel_scale(WHITE_D65, lab)
    rgb_from_xyz = torch.linalg.inv(_matrix(XYZ_FROM_RGB, lab).double()).to(lab.dtype)
    return linear_to_srgb(_mix(rgb_from_xyz, xyz))


def gray_to_lightness(gray: Tensor) -> Tensor:
    """Gray ``[..., 1, H, W]`` in [0, 1] (an sRGB value with R = G = B) -> its Lab L ``[..., 1, H, W]``."""
    return 116 * _f(srgb_to_linear(gray)) - 16


def compose_lab(gray: Tensor, ab: Tensor) -> Tensor:
    """The colorization output: L of the gray input ([-1, 1], 1 channel) with ``ab`` (divided by
    ``AB_SCALE``, 2 channels) -> RGB in [-1, 1]. With ab = 0 this gives the gray input back."""
    lab = torch.cat([gray_to_lightness((gray + 1) / 2), ab * AB_SCALE], dim=-3)
    return lab_to_rgb(lab) * 2 - 1


def box_mean(x: Tensor, radius: int) -> Tensor:
    """The mean of ``x`` ``[N, C, H, W]`` over (2 radius + 1)-pixel squares, as two 1-D passes; the squares
    are cut at the borders (the mean of the pixels inside the image), so any image size works."""
    size = 2 * radius + 1
    rows = F.avg_pool2d(x, (size, 1), stride=1, padding=(radius, 0), count_include_pad=False)
    return F.avg_pool2d(rows, (1, size), stride=1, padding=(0, radius), count_include_pad=False)


def guided_filter(source: Tensor, guide: Tensor, radius: int, eps: float) -> Tensor:
    """He et al. (2010)'s guided filter: ``source`` ``[N, C, H, W]`` smoothed in (2 radius + 1)-pixel
    squares except across the edges of ``guide`` ``[N, 1, H, W]``.

    In each square the output is the least-squares fit ``alpha * guide + beta`` of the source, with ``eps``
    (in squared guide units) as the ridge on ``alpha``: where the guide is flat (its variance much below
    ``eps``) the output is the source's local mean, and where the guide has an edge the output follows it.
    For colorization (source a, b; guide L) this is the prior of Levin et al. (2004), neighbours of similar
    lightness have similar colors: the colors cannot carry texture that the lightness does not have.
    """
    guide_mean, source_mean = box_mean(guide, radius), box_mean(source, radius)
    covariance = box_mean(guide * source, radius) - guide_mean * source_mean
    variance = box_mean(guide * guide, radius) - guide_mean * guide_mean
    alpha = covariance / (variance + eps)
    beta = source_mean - alpha * guide_mean
    return box_mean(alpha, radius) * guide + box_mean(beta, radius)


def target_ab(rgb: Tensor) -> Tensor:
    """The a, b channels of RGB images in [-1, 1], divided by ``AB_SCALE`` (the training target)."""
    return rgb_to_lab((rgb + 1) / 2)[..., 1:, :, :] / AB_SCALE


def hue_error(prediction: Tensor, truth: Tensor) -> float:
    """Chroma-weighted mean hue error in degrees between two RGB images ``[3, H, W]`` (uint8 or [0, 1]).

    Each pixel's error is the circular difference of the Lab hue angles (0-180 degrees), weighted by the
    truth's chroma, so gray pixels of the truth do not count. A predicted pixel whose chroma is below
    ``CHROMA_SEEN`` has no visible hue and counts as 90 degrees, the mean error of a random hue: a gray
    image scores exactly 90, a perfect colorization 0.
    """
    if prediction.shape != truth.shape or prediction.shape[-3] != 3:
        raise ValueError(f"hue_error needs two RGB images of one shape, got {tuple(prediction.shape)} and "
                         f"{tuple(truth.shape)}")

    def lab(image: Tensor) -> Tensor:
        return rgb_to_lab(image.double() / 255 if image.dtype == torch.uint8 else image.double())

    p, t = lab(prediction), lab(truth)
    p_chroma, t_chroma = torch.hypot(p[..., 1, :, :], p[..., 2, :, :]), torch.hypot(t[..., 1, :, :], t[..., 2, :, :])
    difference = torch.atan2(p[..., 2, :, :], p[..., 1, :, :]) - torch.atan2(t[..., 2, :, :], t[..., 1, :, :])
    degrees = torch.rad2deg(torch.atan2(torch.sin(difference), torch.cos(difference)).abs())
    degrees = torch.where(p_chroma < CHROMA_SEEN, torch.full_like(degrees, 90.0), degrees)
    total = t_chroma.sum()
    return float((degrees * t_chroma).sum() / total) if total > _EPS else 0.0
