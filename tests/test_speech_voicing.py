"""The voiced (source-filter) decoder of spoken-digit spectrograms."""

from __future__ import annotations

import pytest
import torch

from ganforge.families.speech import spectrogram
from ganforge.families.speech.audio import magnitude
from ganforge.families.speech.config import SpecganConfig
from ganforge.families.speech.voicing import pulse_train, smooth_over_frequency, voiced_decode

RATE, N_FFT, HOP = 8000, 256, 128


def test_pulse_train_has_one_pulse_per_period() -> None:
    pulses = pulse_train(8000, 160.0, RATE, torch.device("cpu"))
    assert pulses.sum() == 160
    gaps = torch.diff(torch.nonzero(pulses).flatten()).float()
    assert gaps.min() == 50 and gaps.max() == 50


def test_smoothing_averages_neighbouring_bins_and_keeps_the_edges() -> None:
    mag = torch.zeros(1, 5, 1)
    mag[0, 2, 0] = 3.0
    torch.testing.assert_close(smooth_over_frequency(mag, 1)[0, :, 0], torch.tensor([0.0, 1.0, 1.0, 1.0, 0.0]))
    flat = torch.ones(2, 7, 3)
    torch.testing.assert_close(smooth_over_frequency(flat, 2), flat)


def test_voiced_decode_puts_harmonics_of_f0_under_a_flat_envelope(single_thread: None) -> None:
    frames = 65
    envelope = torch.ones(2, N_FFT // 2 + 1, frames)
    audio = voiced_decode(envelope, N_FFT, HOP, RATE, 8192, f0=250.0, seed=0)
    assert audio.shape == (2, 8192)
    spectrum = magnitude(audio[:, 1024:7168], 1024, 1024, center=False).mean(dim=(0, 2))  # 7.8 Hz bins
    bin_of = lambda hz: round(hz * 1024 / RATE)  # noqa: E731
    harmonics = torch.stack([spectrum[bin_of(250 * k)] for k in range(1, 10)])
    between = torch.stack([spectrum[bin_of(250 * k + 125)] for k in range(1, 10)])
    assert (harmonics > 5 * between).all()  # voiced below 3 kHz: the pitch's harmonics stand out
    high = spectrum[bin_of(3600):bin_of(3900)]
    assert high.max() < 3 * high.median()  # noise above: no harmonic peaks


def test_voiced_decode_follows_the_envelope_and_the_seed(single_thread: None) -> None:
    envelope = torch.zeros(1, N_FFT // 2 + 1, 33)
    assert voiced_decode(envelope, N_FFT, HOP, RATE, 4096).abs().max() == 0  # no envelope, silence
    envelope[:, :, 16:] = 1.0  # sound in the second half only
    audio = voiced_decode(envelope, N_FFT, HOP, RATE, 4096, seed=1)
    assert audio[0, :1536].abs().max() < 0.05 * audio[0, 2560:].abs().max()
    torch.testing.assert_close(audio, voiced_decode(envelope, N_FFT, HOP, RATE, 4096, seed=1))
    assert not torch.allclose(audio, voiced_decode(envelope, N_FFT, HOP, RATE, 4096, seed=2))


def test_codec_decodes_with_the_voiced_decoder_when_asked(monkeypatch: pytest.MonkeyPatch,
                                                          single_thread: None) -> None:
    calls: list[str] = []
    monkeypatch.setattr(spectrogram, "griffin_lim", lambda *a, **k: calls.append("griffin-lim"))
    codec = spectrogram.SpecCodec(N_FFT, HOP, 64, n_mels=64, rate=RATE)
    images = torch.rand(3, 1, 64, 64) * 2 - 1
    audio = codec.decode(images, iters=4, voice_f0=160.0)
    assert audio.shape == (3, 64 * HOP) and torch.isfinite(audio).all() and not calls
    codec.decode(images, iters=4)
    assert calls == ["griffin-lim"]


def test_decoder_setting() -> None:
    assert SpecganConfig().decode_f0 == 0.0
    assert SpecganConfig(decoder="voiced", voice_f0=120).decode_f0 == 120.0
    with pytest.raises(ValueError, match="voice_f0"):
        SpecganConfig(decoder="voiced", voice_f0=20)
