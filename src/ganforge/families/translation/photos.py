"""The offline photos of ``colorize-photos``: bundled with Python packages, plus photos from Debian packages.

- Bundled: the natural color photos that ship with scikit-image, scikit-learn and matplotlib. Three are held
  out for evaluation (``COLORIZE_HELD_OUT``) and never used in training. (scikit-image's ``cat`` is the
  held-out ``chelsea``, so it is left out too; its microscopy and astronomy images are not photos of the
  world and taught the old RGB model a red-orange palette, so they are left out as well.)
- Installed (``PHOTO_SOURCES``), used when their Debian package is: the photographs (not the abstract art)
  of ``mate-backgrounds``, ``lomiri-wallpapers-16.04`` and ``lomiri-wallpapers-20.04`` (landscapes, plants,
  insects), the sample photos of ``opencv-doc`` (fruit, animals, a dog, buildings, a footballer, objects)
  and the demo album of ``kphotoalbum`` (people, faces, pets, rooms; two of its photos lie on their side,
  as the album stores them).

Every photo is scaled to a shorter side of 256. The scaled installed photos are cached under
``$GANFORGE_DATA/colorize-photos/`` with a version and the list of files they came from, since decoding
the multi-megapixel JPEGs takes seconds.
"""

from __future__ import annotations

import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torchvision.transforms.v2 import functional as TF

from ganforge.errors import GanforgeError

PHOTO_SHORT_SIDE = 256
COLORIZE_TRAIN = ("astronaut", "rocket", "stereo_motorcycle", "sklearn:china.jpg", "sklearn:flower.jpg")
COLORIZE_HELD_OUT = ("chelsea", "coffee", "matplotlib:grace_hopper.jpg")


@dataclass(frozen=True)
class PhotoSource:
    """Photos that a Debian package installs: files called ``names``, found anywhere under ``folder``."""

    package: str
    folder: Path
    names: tuple[str, ...]


PHOTO_SOURCES = (
    PhotoSource("mate-backgrounds", Path("/usr/share/backgrounds"), (
        "Aqua.jpg", "Blinds.jpg", "Dune.jpg", "FreshFlower.jpg", "Garden.jpg", "GreenMeadow.jpg", "LadyBird.jpg",
        "RainDrops.jpg", "Storm.jpg", "TwoWings.jpg", "Wood.jpg", "YellowFlower.jpg")),
    PhotoSource("lomiri-wallpapers-16.04", Path("/usr/share/backgrounds"), (
        "Bridge_by_Sander_Klootwijk.jpg", "Dragonfly_by_Bolly.jpg", "Picture_0B_by_freespace.jpg",
        "Picture_1A_by_freespace.jpg", "Wine_by_Jakkub_Mede.jpg", "aitzgorri_by_Aitzol_Berasategi.jpg",
        "free_by_Peter_Nerlich.jpg", "friends_by_Aitzol_Berasategi.jpg", "greentock_by_Peter_Nerlich.jpg",
        "life_by_Aitzol_Berasategi.jpg", "picosdeeuropa_by_Aitzol_Berasategi.jpg",
        "seeding_by_Clements_Engelhardt.jpg", "sunset_by_Aitzol_Berasategi.jpg")),
    PhotoSource("lomiri-wallpapers-20.04", Path("/usr/share/backgrounds"), (
        "Infinite-Sea_by_Aury88.jpg", "Kleiber_by_Lukas_Baubkus.jpg")),
    PhotoSource("opencv-doc", Path("/usr/share/doc/opencv-doc/examples/data"), (
        "aero1.jpg", "aero3.jpg", "aloeL.jpg", "apple.jpg", "baboon.jpg", "board.jpg", "building.jpg",
        "butterfly.jpg", "chicky_512.png", "ela_original.jpg", "fruits.jpg", "home.jpg", "left.jpg", "leuvenA.jpg",
        "licenseplate_motion.jpg", "messi5.jpg", "orange.jpg", "rubberwhale1.png", "squirrel_cls.jpg", "stuff.jpg")),
    PhotoSource("kphotoalbum", Path("/usr/share/kphotoalbum/demo"), (
        "anne_helene.jpg", "bar55.jpg", "bar55_2.jpg", "blackie.jpg", "cold_water.jpg", "donna.jpg", "donna_2.jpg",
        "grand_canyon_1.jpg", "grand_canyon_2.jpg", "grand_canyon_3.jpg", "jesper.jpg", "jesper_2.jpg",
        "new_wave_1.jpg", "new_wave_2.jpg", "pool.jpg", "pool_2.jpg", "qt-logo.jpg", "skagen.jpg", "skagen_2.jpg",
        "snow.jpg", "spiff.jpg", "spiff_2.jpg", "sunset.jpg", "wayne.jpg")),
)  # fmt: skip
PHOTO_PACKAGES = tuple(source.package for source in PHOTO_SOURCES)
INSTALLED_PHOTO_COUNT = sum(len(source.names) for source in PHOTO_SOURCES)
CACHE_VERSION = 2


def load_photo(name: str) -> torch.Tensor:
    """One bundled photo as uint8 [3, H, W]: ``skimage`` names, ``sklearn:FILE`` or ``matplotlib:FILE``."""
    if name.startswith("sklearn:"):
        from sklearn.datasets import load_sample_image

        array = load_sample_image(name.split(":", 1)[1])
    elif name.startswith("matplotlib:"):
        import matplotlib.cbook

        with matplotlib.cbook.get_sample_data(name.split(":", 1)[1]) as handle:
            array = np.asarray(Image.open(handle).convert("RGB"))
    else:
        try:
            import skimage.data
        except ImportError:
            raise GanforgeError("colorize-photos needs scikit-image: pip install scikit-image") from None
        array = getattr(skimage.data, name)()
        if isinstance(array, tuple):  # stereo pairs: the left image
            array = array[0]
    return torch.from_numpy(np.array(array[..., :3], dtype=np.uint8)).permute(2, 0, 1).contiguous()


def scale_short_side(image: torch.Tensor, side: int = PHOTO_SHORT_SIDE) -> torch.Tensor:
    """uint8 [C, H, W] scaled (antialiased) so that its shorter side is ``side``."""
    return TF.resize(image, [side], antialias=True)


def installed_photo_files(sources: tuple[PhotoSource, ...] = PHOTO_SOURCES) -> list[Path]:
    """The files of ``sources`` that are installed, source by source in the order of their names."""
    files = []
    for source in sources:
        if not source.folder.is_dir():
            continue
        found: dict[str, Path] = {}
        for path in sorted(source.folder.rglob("*")):
            if path.name in source.names and path.is_file():
                found.setdefault(path.name, path)
        files += [found[name] for name in source.names if name in found]
    return files


def read_scaled(path: Path, side: int = PHOTO_SHORT_SIDE) -> torch.Tensor:
    """A photo file as uint8 [3, H, W] with a shorter side of ``side`` (JPEGs decoded at a reduced scale)."""
    with Image.open(path) as im:
        short = min(im.size)
        im.draft("RGB", (im.size[0] * 2 * side // short, im.size[1] * 2 * side // short))
        return scale_short_side(TF.pil_to_tensor(im.convert("RGB")), side)


def _cache_file(files: list[Path]) -> Path:
    from ganforge.data.builtin import data_root

    key = "\n".join(f"{p}:{p.stat().st_size}" for p in files) + f"\n{PHOTO_SHORT_SIDE}"
    digest = hashlib.sha256(key.encode()).hexdigest()[:16]
    return data_root() / "colorize-photos" / f"installed-v{CACHE_VERSION}-{digest}.pt"


def installed_photos(sources: tuple[PhotoSource, ...] = PHOTO_SOURCES) -> list[torch.Tensor]:
    """The installed photos of ``sources`` at a shorter side of 256 (cached); [] if none is installed."""
    files = installed_photo_files(sources)
    if not files:
        return []
    cache = _cache_file(files)
    if cache.is_file():
        try:
            return list(torch.load(cache, weights_only=True))
        except Exception:  # a damaged cache is rebuilt
            pass
    photos = [read_scaled(p) for p in files]
    try:
        cache.parent.mkdir(parents=True, exist_ok=True)
        temporary = cache.with_suffix(f".tmp{os.getpid()}")
        torch.save(photos, temporary)
        temporary.replace(cache)
    except OSError:  # a read-only data folder: work without the cache
        pass
    return photos


_warned = False


def training_photos() -> list[torch.Tensor]:
    """All training photos of ``colorize-photos`` (bundled + installed), shorter side 256."""
    global _warned
    installed = installed_photos()
    if len(installed) < INSTALLED_PHOTO_COUNT and not _warned:
        _warned = True
        print(f"note: colorize-photos found {len(installed)} of its {INSTALLED_PHOTO_COUNT} photos from Debian "
              f"packages; install {' '.join(PHOTO_PACKAGES)} for all of them", file=sys.stderr)
    return [scale_short_side(load_photo(n)) for n in COLORIZE_TRAIN] + installed


def held_out_photos() -> dict[str, torch.Tensor]:
    """The evaluation photos of ``colorize-photos`` at a shorter side of 256, uint8 [3, H, W]."""
    return {name.split(":")[-1]: scale_short_side(load_photo(name)) for name in COLORIZE_HELD_OUT}
