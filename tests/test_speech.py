"""The speech families: espeak-ng corpora, audio I/O and bad WAVs, mel/vocoder shapes, metrics, and a few
training steps of the spoken-digits and vocoder presets with sampling, vocoding and evaluation."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pytest
import torch

from ganforge.errors import GanforgeError
from ganforge.families.speech import corpus as corpus_module
from ganforge.families.speech.audio import MelSpec, mel_griffin_lim, read_wav, write_wav
from ganforge.families.speech.datasets import load_wav_folder
from ganforge.families.speech.metrics import mel_l1, pesq, stft_distance, stoi
from ganforge.families.vocoder.config import HifiganConfig
from ganforge.families.vocoder.model import Vocoder, build_generator, mel_spec

soundfile = pytest.importorskip("soundfile", reason="the speech extra is not installed")
needs_espeak = pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng is not installed")


@pytest.fixture(scope="module")
def data_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("speech-data")


@pytest.fixture(scope="module")
def sentence() -> np.ndarray:
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed")
    return corpus_module.synthesize("Glue the sheet to the dark blue background.", "en-us+f2", 50, 160, 16000)


# --- corpora ---------------------------------------------------------------------------------------------


@needs_espeak
def test_tiny_digit_corpus_is_made_once_with_held_out_voices(data_root: Path, single_thread: None) -> None:
    corpus = corpus_module.make_corpus("spoken-digits", data_root, 8000, count=6, takes=1)
    assert len(corpus.clips) == 60 and corpus.rate == 8000
    assert corpus.classes[7] == "seven" and sorted(set(corpus.labels.tolist())) == list(range(10))
    held = {v for v, h in zip(corpus.voices, corpus.held_out, strict=True) if h}
    trained = {v for v, h in zip(corpus.voices, corpus.held_out, strict=True) if not h}
    assert len(held) == 1 and len(trained) == 5 and not held & trained  # whole voices are held out
    assert all(0.2 < len(c) / 8000 < 1.0 and np.abs(c).max() > 0.05 for c in corpus.clips)
    folder = corpus_module.corpus_folder(data_root, "spoken-digits", 8000, 6, 1)
    assert (folder / "manifest.json").is_file()
    again = corpus_module.make_corpus("spoken-digits", data_root, 8000, count=6, takes=1)  # from the cache
    np.testing.assert_allclose(again.clips[3], corpus.clips[3])


def test_missing_espeak_names_the_debian_package(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(corpus_module.shutil, "which", lambda name: None)
    with pytest.raises(GanforgeError, match="apt-get install espeak-ng"):
        corpus_module.espeak_binary()


# --- audio files -----------------------------------------------------------------------------------------


def test_read_wav_converts_rate_and_channels(tmp_path: Path) -> None:
    t = np.arange(44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 440 * t), np.sin(2 * np.pi * 440 * t)], axis=1) * 0.5
    soundfile.write(tmp_path / "stereo.wav", stereo, 44100)
    audio = read_wav(tmp_path / "stereo.wav", 16000)
    assert audio.dtype == np.float32 and audio.shape == (16000,)
    assert 0.45 < np.abs(audio[1000:-1000]).max() < 0.55


@pytest.mark.parametrize("content, message", [(b"", "not a readable WAV"), (b"not a wav", "not a readable WAV")])
def test_bad_wav_files_are_refused_in_one_line(tmp_path: Path, content: bytes, message: str) -> None:
    (tmp_path / "bad.wav").write_bytes(content)
    with pytest.raises(GanforgeError, match=message) as info:
        read_wav(tmp_path / "bad.wav", 16000)
    assert "\n" not in str(info.value)


def test_empty_and_too_short_wavs(tmp_path: Path) -> None:
    soundfile.write(tmp_path / "empty.wav", np.zeros(0), 16000)
    with pytest.raises(GanforgeError, match="empty"):
        read_wav(tmp_path / "empty.wav", 16000)
    soundfile.write(tmp_path / "short.wav", np.ones(100) * 0.1, 16000)
    with pytest.raises(GanforgeError, match="too short"):
        read_wav(tmp_path / "short.wav", 16000)


def test_wav_folder_skips_bad_files_counted_in_one_warning(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    rng = np.random.default_rng(0)
    for label in ("yes", "no"):
        (tmp_path / label).mkdir()
        for i in range(3):
            soundfile.write(tmp_path / label / f"{i}.wav", rng.normal(0, 0.3, 4000), 8000)
    (tmp_path / "yes" / "corrupt.wav").write_bytes(b"RIFF nonsense")
    soundfile.write(tmp_path / "no" / "tiny.wav", rng.normal(0, 0.3, 1000), 8000)  # shorter than a segment
    corpus = load_wav_folder(tmp_path, 16000, min_samples=4000)
    assert len(corpus.clips) == 6 and corpus.classes == ("no", "yes")
    assert sorted(corpus.labels.tolist()) == [0, 0, 0, 1, 1, 1]
    assert len(corpus.clips[0]) == 8000  # resampled from 8 kHz
    warning = [line for line in capsys.readouterr().out.splitlines() if line.startswith("warning")]
    assert len(warning) == 1 and "skipped 2 of 8" in warning[0]
    empty = tmp_path / "none"
    empty.mkdir()
    with pytest.raises(GanforgeError, match="no .wav files"):
        load_wav_folder(empty, 16000, 100)


# --- shapes ----------------------------------------------------------------------------------------------


def test_mel_and_vocoder_shapes_are_exact(single_thread: None) -> None:
    model = HifiganConfig(channels=16, upsample_rates=[8, 8, 4], kernels=[3], dilations=[[1]])
    spec = mel_spec(model, 16000)
    audio = torch.randn(2, 256 * 20) * 0.1
    mel = spec(audio)
    assert mel.shape == (2, 80, 20)
    generator = build_generator(model).eval()
    assert generator(mel).shape == (2, 1, 256 * 20)
    vocoder = Vocoder(generator, spec, 16000)
    assert vocoder(mel[0]).shape == (256 * 20,)
    assert vocoder.vocode(np.zeros(5000, np.float32) + 0.01).shape == (5000,)  # any length comes back
    assert mel_griffin_lim(mel, spec, iters=2).shape == (2, 256 * 20)
    with pytest.raises(GanforgeError, match="n_mels=80"):
        vocoder(torch.zeros(40, 10))
    odd = HifiganConfig(channels=16, upsample_rates=[5, 4, 4], n_fft=512, kernels=[3], dilations=[[1]])
    assert build_generator(odd)(torch.zeros(1, 80, 7)).shape == (1, 1, 80 * 7)


# --- metrics ---------------------------------------------------------------------------------------------


def test_metrics_rank_real_above_noise(sentence: np.ndarray) -> None:
    pytest.importorskip("pystoi")
    pytest.importorskip("pesq")
    rng = np.random.default_rng(0)
    noisy = (sentence + rng.normal(0, 0.2, sentence.shape)).astype(np.float32)
    spec = MelSpec(16000)
    assert mel_l1(sentence, sentence, spec) < 1e-6 < mel_l1(sentence, noisy, spec)
    assert stft_distance(sentence, sentence) < 1e-6 < stft_distance(sentence, noisy)
    assert stoi(sentence, sentence, 16000) > 0.99 > stoi(sentence, noisy, 16000)
    assert pesq(sentence, sentence, 16000) > 4.0 > 2.0 > pesq(sentence, noisy, 16000)


def test_write_wav_is_16_bit_pcm(tmp_path: Path) -> None:
    path = write_wav(tmp_path / "a" / "x.wav", np.array([0.0, 0.5, -2.0], np.float32), 8000)
    info = soundfile.info(path)
    assert info.subtype == "PCM_16" and info.samplerate == 8000 and info.frames == 3



@pytest.mark.parametrize("n_mels, bins", [(0, 128), (32, 32)])
def test_spectrogram_codec_shapes(n_mels: int, bins: int, single_thread: None) -> None:
    from ganforge.families.speech.spectrogram import SpecCodec

    audio = torch.randn(3, 8192) * 0.1
    codec = SpecCodec(256, 128, 64, n_mels=n_mels).fit(audio)
    images = codec.encode(audio)
    assert images.shape == (3, 1, bins, 64) and images.abs().max() <= 1.0
    assert codec.decode(images, iters=2).shape == (3, 8192)
    restored = SpecCodec.from_state(codec.state())
    torch.testing.assert_close(restored.encode(audio), images)


@pytest.mark.parametrize("g_cond", ["cbn", "concat"])
def test_spec_generator_conditioning_changes_the_output_with_the_label(g_cond: str, single_thread: None) -> None:
    from ganforge.families.speech.config import SpecganConfig
    from ganforge.families.speech.model import build_networks

    torch.manual_seed(0)
    model = SpecganConfig(z_dim=8, g_width=4, d_width=4, n_mels=32, g_cond=g_cond)  # type: ignore[arg-type]
    generator, discriminator = build_networks(model, frames=32, num_classes=3)
    if g_cond == "cbn":  # per-class scales start at zero: give them a value, as training would
        for name, p in generator.named_parameters():
            if "gamma" in name:
                torch.nn.init.normal_(p, 0, 0.5)
    assert generator.concat == (g_cond == "concat")
    z = torch.randn(1, 8).repeat(4, 1)
    images = generator.train()(z, torch.tensor([0, 1, 2, 0]))
    assert images.shape == (4, 1, 32, 32) and images.abs().max() <= 1.0
    assert not torch.allclose(images[0], images[1], atol=1e-4)  # same noise, another class: another image
    torch.testing.assert_close(images[0], images[3])
    assert discriminator(images, torch.tensor([0, 1, 2, 0])).shape == (4,)
    with pytest.raises(GanforgeError, match="pass labels"):
        generator(z, None)


@pytest.mark.parametrize("d_cond, planes", [("projection", True), ("acgan", False), ("both", False), ("both", True)])
def test_spec_discriminator_label_paths(d_cond: str, planes: bool, single_thread: None) -> None:
    from ganforge.families.speech.config import SpecganConfig
    from ganforge.families.speech.model import build_networks

    torch.manual_seed(0)
    model = SpecganConfig(z_dim=8, g_width=4, d_width=8, n_mels=32, g_cond="concat", d_cond=d_cond,  # type: ignore[arg-type]
                          d_planes=planes)
    _, discriminator = build_networks(model, frames=32, num_classes=3)
    discriminator.eval()  # spectral norm's power iteration stands still: the same weights for every call
    if discriminator.label_head is not None and discriminator.label_head.mode == "projection":
        torch.nn.init.normal_(discriminator.label_head.embed.weight, 0, 1.0)
    images = torch.rand(2, 1, 32, 32) * 2 - 1
    same = discriminator(images, torch.tensor([0, 0]))
    other = discriminator(images, torch.tensor([1, 2]))
    assert same.shape == (2,)
    label_changes_logit = d_cond != "acgan" or planes
    assert (not torch.allclose(same, other)) == label_changes_logit
    if d_cond == "projection":
        with pytest.raises(GanforgeError, match="AC-GAN"):
            discriminator(images, torch.tensor([0, 0]), with_classes=True)
    else:
        logits, classes = discriminator(images, torch.tensor([0, 0]), with_classes=True)
        assert logits.shape == (2,) and classes.shape == (2, 3)
    if planes:
        with pytest.raises(GanforgeError, match="pass labels"):
            discriminator(images, None)


def test_real_classes_only_keeps_the_fake_class_term_out_of_the_discriminator(single_thread: None) -> None:
    from ganforge.families.speech.config import SpecganConfig
    from ganforge.families.speech.model import build_networks
    from ganforge.families.speech.real_classes import RealClassesOnly
    from ganforge.recipes.gan import DiscriminatorPair

    model = SpecganConfig(z_dim=8, g_width=4, d_width=8, n_mels=32, g_cond="concat", d_cond="both")
    _, discriminator = build_networks(model, frames=32, num_classes=3)
    pair = RealClassesOnly(DiscriminatorPair(discriminator))
    real, fake, labels = torch.randn(2, 1, 32, 32), torch.randn(2, 1, 32, 32), torch.tensor([0, 2])
    (real_logits, real_classes), (fake_logits, fake_classes) = pair(real, fake, labels, labels, with_classes=True)
    assert real_classes.requires_grad and fake_logits.requires_grad  # the real class term and the GAN term train D
    assert not fake_classes.requires_grad  # the fakes' class term does not
    assert pair(real, fake, labels, labels)[1].shape == (2,)


def test_truncation_scales_the_sampling_noise(single_thread: None) -> None:
    from ganforge.families.speech.config import SpecganConfig
    from ganforge.families.speech.model import NOISE_OFFSET, SpeechModel, build_networks
    from ganforge.families.speech.spectrogram import SpecCodec

    model = SpecganConfig(z_dim=8, g_width=4, d_width=4, n_mels=32, g_cond="concat")
    generator, _ = build_networks(model, frames=32, num_classes=3)
    generator.eval()
    codec = SpecCodec(256, 128, 32, n_mels=32)
    half = SpeechModel(generator, codec, ("a", "b", "c"), 8000, 2, truncation=0.5)
    images, labels = half.spectrograms(3, seed=5)
    noise = torch.randn(3, 8, generator=torch.Generator().manual_seed(5 + NOISE_OFFSET))
    with torch.no_grad():
        torch.testing.assert_close(images, generator(noise * 0.5, labels))
        assert not torch.allclose(images, generator(noise, labels))


def test_aux_fakes_needs_a_class_head() -> None:
    from ganforge.families import load_config

    with pytest.raises(GanforgeError, match="model.d_cond=acgan or both"):
        load_config("spoken-digits", overrides=["model.d_cond=projection", "loss.aux_fakes=false"])


def test_spec_network_upsampling_and_minimum_widths(single_thread: None) -> None:
    from ganforge.families.speech.config import SpecganConfig
    from ganforge.families.speech.model import build_networks

    def layers(module: torch.nn.Module, kind: type) -> list[torch.nn.Module]:
        return [m for m in module.modules() if isinstance(m, kind)]

    plain = SpecganConfig(z_dim=8, g_width=8, d_width=8, n_mels=32, g_cond="concat", d_cond="both")
    generator, discriminator = build_networks(plain, frames=32, num_classes=3)
    assert len(layers(generator, torch.nn.ConvTranspose2d)) == 5 and not layers(generator, torch.nn.Upsample)
    assert [c.out_channels for c in layers(generator, torch.nn.ConvTranspose2d)] == [32, 16, 8, 8, 8]
    assert [c.out_channels for c in layers(discriminator, torch.nn.Conv2d)] == [4, 8, 16, 32, 64]
    wide = plain.model_copy(update={"g_upsample": "nearest", "g_min_channels": 16, "d_min_channels": 16})
    generator, discriminator = build_networks(wide, frames=32, num_classes=3)
    assert not layers(generator, torch.nn.ConvTranspose2d) and len(layers(generator, torch.nn.Upsample)) == 5
    # channels 64 -> 32 -> 16 -> 16 -> 16 -> 16 (not 8, 8) going up; the last conv draws the image
    assert [c.out_channels for c in layers(generator, torch.nn.Conv2d)] == [32, 16, 16, 16, 16, 1]
    assert [c.out_channels for c in layers(discriminator, torch.nn.Conv2d)] == [16, 16, 16, 32, 64]
    z, labels = torch.randn(4, 8), torch.tensor([0, 1, 2, 0])
    images = generator.train()(z, labels)
    assert images.shape == (4, 1, 32, 32) and images.abs().max() <= 1.0
    assert discriminator(images, labels).shape == (4,)
    with pytest.raises(ValueError, match="g_upsample"):
        SpecganConfig(g_upsample="bilinear")  # type: ignore[arg-type]


def test_decode_power_sharpens_the_magnitude_before_griffin_lim(monkeypatch: pytest.MonkeyPatch,
                                                               single_thread: None) -> None:
    from ganforge.families.speech import spectrogram
    from ganforge.families.speech.config import SpecganConfig
    from ganforge.families.speech.model import SpeechModel, build_networks

    seen: list[torch.Tensor] = []
    real_griffin_lim = spectrogram.griffin_lim

    def spy(mag: torch.Tensor, *args: object, **kwargs: object) -> torch.Tensor:
        seen.append(mag)
        return real_griffin_lim(mag, *args, **kwargs)

    monkeypatch.setattr(spectrogram, "griffin_lim", spy)
    codec = spectrogram.SpecCodec(128, 64, 32)  # linear bins: the power reaches Griffin-Lim as is
    images = torch.rand(2, 1, 64, 32) * 2 - 1
    plain = codec.decode(images, iters=2)
    sharp = codec.decode(images, iters=2, power=1.5)
    torch.testing.assert_close(seen[1], seen[0] ** 1.5)
    assert sharp.shape == plain.shape == (2, 2048)
    model = SpecganConfig(z_dim=8, g_width=4, d_width=4, n_mels=32, g_cond="concat", decode_power=1.5)
    generator, _ = build_networks(model, frames=32, num_classes=3)
    speech = SpeechModel(generator.eval(), spectrogram.SpecCodec(256, 128, 32, n_mels=32), ("a", "b", "c"), 8000, 2,
                         decode_power=model.decode_power)
    seen.clear()
    speech.generate(3, seed=1)
    speech.decode_power = 1.0
    speech.generate(3, seed=1)
    assert not torch.allclose(seen[0], seen[1])
    with pytest.raises(ValueError, match="decode_power"):
        SpecganConfig(decode_power=0.1)
